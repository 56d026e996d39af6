package dcwp

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"

	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/optim"
	"github.com/dcwp-go/dcwp/driver/sampler"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

const ensembleFile = "ensemble.safetensors" // under checkpoint/: the ensemble miner's scores

func rngFor(seed int64, stream string, it int) *rand.Rand { return sampler.RNG(seed, stream, it) }

// loop is one resumable training loop.
type loop struct {
	name    string
	stage   string
	iters   int
	state   func() (map[string]tensor.Tensor, error)
	restore func(ts map[string]tensor.Tensor) error
	step    func(it int) (float64, error)
}

// member is one network a loop trains with its own optimizer; its checkpoint tensors sit
// under prefix ("net/…", "opt/…") and its optimizer step count under stepsKey.
type member struct {
	prefix   string
	stepsKey string
	net      *model.Net
	opt      *optim.Optimizer
}

func (r *runner) save(m member, ts map[string]tensor.Tensor) error {
	if err := netState(m.prefix+"net/", m.net, ts); err != nil {
		return err
	}
	st, err := m.opt.State(m.prefix + "opt/")
	if err != nil {
		return err
	}
	prefixed("", st, ts)
	r.st.Ints[m.stepsKey] = m.opt.Steps
	return nil
}

func (r *runner) load(m member, ts map[string]tensor.Tensor) error {
	if _, err := m.net.Load(unprefix(m.prefix+"net/", ts), false); err != nil {
		return err
	}
	return m.opt.Restore(m.prefix+"opt/", ts, r.st.Ints[m.stepsKey])
}

// descend takes one optimizer step on total, unless total is NaN or infinite: its value then
// comes back untouched, for runLoop to stop the run with a message.
func (m member) descend(s *torch.Scope, total *torch.Tensor) (float64, error) {
	tv := s.Item(total)
	if err := s.Err(); err != nil {
		return 0, err
	}
	if isBad(tv) {
		return tv, nil
	}
	s.Backward(total)
	if err := s.Err(); err != nil {
		return 0, err
	}
	return tv, m.step()
}

// step applies the update and clears the gradients for the next iteration.
func (m member) step() error {
	if err := m.opt.Step(); err != nil {
		return err
	}
	return m.opt.ZeroGrad()
}

func (r *runner) runLoop(l loop) error {
	start := 0
	if r.st.Loop == l.name && r.resumeTs != nil {
		if err := l.restore(r.resumeTs); err != nil {
			return fmt.Errorf("resuming %s: %w", l.name, err)
		}
		start = r.st.Iter
		r.resumeTs = nil
	}
	p := r.newProgress(l.name, l.iters, start)
	lastCk := start
	for it := start; it < l.iters; it++ {
		v, err := l.step(it)
		if err != nil {
			p.finish()
			return fmt.Errorf("stage %s, iteration %d: %w", l.name, it+1, err)
		}
		if isBad(v) {
			p.finish()
			where := "no checkpoint of this stage was written yet"
			if lastCk > 0 {
				where = fmt.Sprintf("the checkpoint of iteration %d is kept in %s", lastCk, ckPath(r.o.Out))
			}
			return fmt.Errorf("stage %s: loss is %v at iteration %d; stopped (%s)", l.name, v, it+1, where)
		}
		p.add(it+1, v)
		if r.o.AfterIter != nil {
			r.o.AfterIter(l.name, it+1)
		}
		if (it+1)%r.c.CheckpointEvery == 0 && it+1 < l.iters {
			ts, err := l.state()
			if err != nil {
				return err
			}
			r.st.Loop, r.st.Iter = l.name, it+1
			if err := r.saveState(ts); err != nil {
				p.finish()
				return fmt.Errorf("stage %s, iteration %d: %w", l.name, it+1, err)
			}
			lastCk = it + 1
			if r.o.StopLoop == l.name && it+1 >= r.o.StopAfter {
				p.finish()
				return ErrStopped
			}
		}
	}
	p.finish()
	return nil
}

func (r *runner) markDone(name string) error {
	r.st.Done = append(r.st.Done, name)
	r.st.Loop, r.st.Iter = "", 0
	return r.saveState(nil)
}

func netState(prefix string, n *model.Net, into map[string]tensor.Tensor) error {
	ts, err := n.Export()
	if err != nil {
		return err
	}
	prefixed(prefix, ts, into)
	return nil
}

// trainStep runs forward/backward of one network with a loss and returns the loss value.
func trainStep(s *torch.Scope, n *model.Net, x, y *torch.Tensor, lossName string, q float64) float64 {
	logits, _ := n.Run(s, x, model.Forward{Train: true})
	var l *torch.Tensor
	if lossName == "gce" {
		l = loss.GCE(s, logits, y, q)
	} else {
		l = loss.CE(s, logits, y)
	}
	s.Backward(l)
	return s.Item(l)
}

func (r *runner) pretrain() error {
	c := r.c
	if c.MiningModel != nil && !r.st.done(minerLoop) {
		if err := r.trainMiner(); err != nil {
			return err
		}
	}
	erm, err := r.newNet("erm")
	if err != nil {
		return err
	}
	defer erm.Close()
	if err := r.loadPretrained(erm); err != nil {
		return err
	}
	nets := []*model.Net{erm}
	losses := []string{"ce"}
	var biased *model.Net
	if c.MiningModel == nil {
		if biased, err = r.newNet("biased"); err != nil {
			return err
		}
		defer biased.Close()
		if err := r.loadPretrained(biased); err != nil {
			return err
		}
		nets = append(nets, biased)
		losses = append(losses, c.BiasLoss)
	}
	var opts []*optim.Optimizer
	for _, n := range nets {
		if err := n.SetRequiresGrad(true); err != nil {
			return err
		}
		o, err := optim.New(optim.FromStage(c.Pretrain), n.Trainable(), n.TrainableNames())
		if err != nil {
			return err
		}
		defer o.Close()
		opts = append(opts, o)
	}
	ensemble := c.Miner == "ensemble" && biased != nil
	var ensScore []float32
	if ensemble {
		ensScore = make([]float32, r.train.Len())
	}
	sh := &sampler.Shuffle{N: r.train.Len(), Batch: c.BatchSize, Seed: c.Seed, Stream: "pretrain"}
	epochIters := (r.train.Len() + c.BatchSize - 1) / c.BatchSize
	names := []string{"erm", "biased"}
	l := loop{name: "pretrain", stage: StagePretrain, iters: c.Pretrain.Iters}
	members := make([]member, len(nets))
	for i, n := range nets {
		members[i] = member{prefix: names[i] + "/", stepsKey: names[i] + "_steps", net: n, opt: opts[i]}
	}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		for _, m := range members {
			if err := r.save(m, ts); err != nil {
				return nil, err
			}
		}
		if ensemble {
			ts["ensemble/score"] = tensor.F32(append([]float32(nil), ensScore...), len(ensScore))
		}
		return ts, nil
	}
	l.restore = func(ts map[string]tensor.Tensor) error {
		for _, m := range members {
			if err := r.load(m, ts); err != nil {
				return err
			}
		}
		if ensemble {
			copy(ensScore, ts["ensemble/score"].F32)
		}
		return nil
	}
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		x, y, _ := r.batch(s, r.train, sh.Indices(it), true, "pretrain", it)
		lr := opts[0].LR()
		vals := map[string]float64{}
		for i, n := range nets {
			vals[names[i]] = trainStep(s, n, x, y, losses[i], c.Q)
		}
		if err := s.Err(); err != nil {
			return 0, err
		}
		for _, m := range members {
			if err := m.step(); err != nil {
				return 0, err
			}
		}
		if ensemble && (it+1)%epochIters == 0 {
			_, py, err := r.predict(biased, r.train, model.NoMask)
			if err != nil {
				return 0, err
			}
			for i, p := range py {
				ensScore[i] += 1 - p
			}
			r.st.Ints["ensemble_count"]++
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.Pretrain.Iters {
			m := rundir.Metric{Stage: "pretrain", Iter: it + 1, Loss: vals, LR: lr}
			if (it+1)%(10*c.EvalEvery) == 0 || it+1 == c.Pretrain.Iters {
				a, err := r.evaluate(erm, r.valid, model.NoMask)
				if err != nil {
					return 0, err
				}
				m.Valid = &a
			}
			if err := r.metric(m); err != nil {
				return 0, err
			}
		}
		worst := vals["erm"]
		if b, ok := vals["biased"]; ok && isBad(b) {
			worst = b
		}
		return worst, nil
	}
	if err := r.runLoop(l); err != nil {
		return err
	}
	ts, err := erm.Export()
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.VanillaFile), ts, map[string]string{"network": "vanilla"}); err != nil {
		return err
	}
	if biased != nil {
		if ts, err = biased.Export(); err != nil {
			return err
		}
		if err := tensor.WriteFile(r.path(rundir.BiasedFile), ts, map[string]string{"network": "biased", "loss": c.BiasLoss}); err != nil {
			return err
		}
	}
	if ensemble {
		ts := map[string]tensor.Tensor{"score": tensor.F32(ensScore, len(ensScore))}
		meta := map[string]string{"count": fmt.Sprint(r.st.Ints["ensemble_count"])}
		if err := tensor.WriteFile(r.path(rundir.CheckpointDir+"/"+ensembleFile), ts, meta); err != nil {
			return err
		}
	}
	return nil
}

// trainMiner is the separate mining run of cmnist: an SGD-trained network (GCE with
// --select-with-gce, else CE) whose predictions mine; saved as biased.safetensors.
func (r *runner) trainMiner() error {
	c := r.c
	n, err := r.newNet("miner")
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.SetRequiresGrad(true); err != nil {
		return err
	}
	lossName := "ce"
	if c.SelectWithGCE {
		lossName = c.BiasLoss
	}
	o, err := optim.New(optim.FromStage(*c.MiningModel), n.Trainable(), n.TrainableNames())
	if err != nil {
		return err
	}
	defer o.Close()
	sh := &sampler.Shuffle{N: r.train.Len(), Batch: c.BatchSize, Seed: c.Seed, Stream: minerLoop}
	l := loop{name: minerLoop, stage: StagePretrain, iters: c.MiningModel.Iters}
	m := member{stepsKey: "miner_steps", net: n, opt: o}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		return ts, r.save(m, ts)
	}
	l.restore = func(ts map[string]tensor.Tensor) error { return r.load(m, ts) }
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		x, y, _ := r.batch(s, r.train, sh.Indices(it), true, minerLoop, it)
		lr := o.LR()
		v := trainStep(s, n, x, y, lossName, c.Q)
		if err := s.Err(); err != nil {
			return 0, err
		}
		if err := m.step(); err != nil {
			return 0, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.MiningModel.Iters {
			if err := r.metric(rundir.Metric{Stage: minerLoop, Iter: it + 1, Loss: map[string]float64{lossName: v}, LR: lr}); err != nil {
				return 0, err
			}
		}
		return v, nil
	}
	if err := r.runLoop(l); err != nil {
		return err
	}
	ts, err := n.Export()
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.BiasedFile), ts, map[string]string{"network": "miner", "loss": lossName}); err != nil {
		return err
	}
	return r.markDone(minerLoop)
}

// loadPretrained starts a network from the user's --pretrained file (resnet18).
func (r *runner) loadPretrained(n *model.Net) error {
	if r.c.Pretrained == "" {
		return nil
	}
	ts, err := tensor.ReadWeights(r.c.Pretrained)
	if err != nil {
		return fmt.Errorf("--pretrained: %w", err)
	}
	skipped, err := n.Load(ts, true)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		if s != "fc.weight" && s != "fc.bias" {
			return fmt.Errorf("--pretrained %s: no usable tensor %q for model %s", r.c.Pretrained, s, r.c.Model)
		}
	}
	if len(skipped) > 0 {
		r.logf("pretrained: %s loaded, head %v kept at random initialisation", r.c.Pretrained, skipped)
	}
	return nil
}

// minerFile is the network whose mistakes mine.
func (r *runner) minerFile() string {
	c := r.c
	if c.MiningModel != nil || c.SelectWithGCE || c.Dataset == "celeba" {
		return rundir.BiasedFile
	}
	return rundir.VanillaFile
}

func (r *runner) mine() error {
	c := r.c
	conflict := r.conflict()
	flags := make([]bool, len(conflict))
	switch c.Miner {
	case "oracle":
		copy(flags, conflict)
	case "wrong":
		n, err := r.loadNet(r.minerFile())
		if err != nil {
			return err
		}
		defer n.Close()
		pred, _, err := r.predict(n, r.train, model.NoMask)
		if err != nil {
			return err
		}
		for i, p := range pred {
			flags[i] = p != r.train.Labels[i]
		}
	case "ensemble":
		ts, meta, err := tensor.ReadFile(r.path(rundir.CheckpointDir + "/" + ensembleFile))
		var score []float32
		count := 0
		if err == nil {
			score = ts["score"].F32
			fmt.Sscan(meta["count"], &count)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if count == 0 { // pre-training shorter than an epoch: score once now
			n, err := r.loadNet(rundir.BiasedFile)
			if err != nil {
				return err
			}
			_, py, err := r.predict(n, r.train, model.NoMask)
			n.Close()
			if err != nil {
				return err
			}
			score = make([]float32, len(py))
			for i, p := range py {
				score[i] = 1 - p
			}
			count = 1
		}
		for i, s := range score {
			flags[i] = float64(s)/float64(count) > c.EnsembleThreshold
		}
	}
	r.flags = flags
	f8, c8 := make([]uint8, len(flags)), make([]uint8, len(flags))
	for i := range flags {
		if flags[i] {
			f8[i] = 1
		}
		if conflict[i] {
			c8[i] = 1
		}
	}
	ts := map[string]tensor.Tensor{"flags": tensor.U8(f8, len(f8)), "conflict": tensor.U8(c8, len(c8))}
	if err := tensor.WriteFile(r.path(rundir.MinedFile), ts, map[string]string{"miner": c.Miner}); err != nil {
		return err
	}
	m := MinedScore(flags, conflict)
	r.logf("mined %d of %d training samples (%d truly conflicting): precision %.3f, recall %.3f",
		m.Flagged, len(flags), r.train.NumConflicting(), m.Precision, m.Recall)
	return nil
}

func (r *runner) loadMined() error {
	ts, _, err := tensor.ReadFile(r.path(rundir.MinedFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is missing in %s: run the mine stage (--stages)", rundir.MinedFile, r.o.Out)
		}
		return err
	}
	f := ts["flags"].U8
	if len(f) != r.train.Len() {
		return fmt.Errorf("%s: %d flags for %d training samples (another dataset?)", r.path(rundir.MinedFile), len(f), r.train.Len())
	}
	r.flags = make([]bool, len(f))
	for i, v := range f {
		r.flags[i] = v != 0
	}
	return nil
}

func (r *runner) batchFlags(idx []int) []bool {
	out := make([]bool, len(idx))
	for k, i := range idx {
		out[k] = r.flags[i]
	}
	return out
}

// minerLoop names the cmnist mining model's pre-training run: a loop of its own within
// StagePretrain, with its own checkpoint state and metrics rows.
const minerLoop = "pretrain-miner"

// metricStage is the pipeline stage whose run wrote a metrics.jsonl row of the given stage.
func metricStage(row string) string {
	if row == minerLoop {
		return StagePretrain
	}
	return row
}

func (r *runner) prune() error {
	c := r.c
	n, err := r.loadNet(rundir.VanillaFile)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.InitScores(c.ScoreInit); err != nil {
		return err
	}
	scores, names := n.ScoreList()
	o, err := optim.New(optim.FromStage(c.Prune), scores, names)
	if err != nil {
		return err
	}
	defer o.Close()
	up := c.LambdaUp
	if c.AsCoded() {
		up = 80
	}
	ws := sampler.NewWeighted(sampler.Weights(r.flags, up), c.BatchSize, c.Seed, "prune")
	l := loop{name: "prune", stage: StagePrune, iters: c.Prune.Iters}
	m := member{stepsKey: "prune_steps", net: n, opt: o}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		if err := r.save(m, ts); err != nil {
			return nil, err
		}
		sc, err := n.ExportScores()
		if err != nil {
			return nil, err
		}
		prefixed("scores/", sc, ts)
		return ts, nil
	}
	l.restore = func(ts map[string]tensor.Tensor) error {
		if err := r.load(m, ts); err != nil {
			return err
		}
		return n.LoadScores(unprefix("scores/", ts))
	}
	asCoded := c.AsCoded()
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		idx := ws.Indices(it)
		x, y, labels := r.batch(s, r.train, idx, true, "prune", it)
		gen, err := torch.NewGenerator(rngFor(c.Seed, "prune/mask", it).Uint64())
		if err != nil {
			return 0, err
		}
		defer gen.Close()
		lr := o.LR()
		logits, feat := n.Run(s, x, model.Forward{Train: true, Mask: model.SampleMask, Gen: gen, Tau: c.MaskTau, AsCoded: asCoded})
		ce := loss.CE(s, logits, y)
		var sparse *torch.Tensor
		for _, sc := range scores {
			term := sc
			if !asCoded {
				term = s.Abs(sc)
			}
			if sparse == nil {
				sparse = s.Sum(term)
			} else {
				sparse = s.Add(sparse, s.Sum(term))
			}
		}
		con := loss.SupCon(s, feat, labels, r.batchFlags(idx), c.Temperature, asCoded)
		total := s.Add(s.Add(ce, s.MulScalar(sparse, c.LambdaSparse)), s.MulScalar(con, c.LambdaCon))
		tv, err := m.descend(s, total)
		if err != nil || isBad(tv) {
			return tv, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.Prune.Iters || it == 0 {
			kept, per, err := n.Kept()
			if err != nil {
				return 0, err
			}
			m := rundir.Metric{Stage: "prune", Iter: it + 1, LR: lr, Kept: &kept, KeptPer: per, Loss: map[string]float64{
				"ce": s.Item(ce), "sparse": s.Item(sparse), "supcon": s.Item(con), "total": tv}}
			if it > 0 { // at iteration 1 the subnetwork is still the whole vanilla network
				if m.Valid, err = r.validateSubnet(n); err != nil {
					return 0, err
				}
			}
			if err := r.metric(m); err != nil {
				return 0, err
			}
		}
		return tv, s.Err()
	}
	if err := r.runLoop(l); err != nil {
		return err
	}
	sc, err := n.ExportScores()
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.ScoresFile), sc, nil); err != nil {
		return err
	}
	masks, err := n.FixMasks()
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.MaskFile), masks, nil); err != nil {
		return err
	}
	kept, _ := rundir.KeptRatios(masks)
	r.logf("pruning done: kept %.2f%% of %d masked weights", 100*kept, r.arch.MaskedCount())
	return nil
}

// validateSubnet scores the subnetwork the current Θ selects, 1[Θ ≥ 0] without noise, as the
// reference does while pruning, so the validation curve shows what pruning alone achieves.
func (r *runner) validateSubnet(n *model.Net) (*metrics.Accuracy, error) {
	if _, err := n.FixMasks(); err != nil {
		return nil, err
	}
	a, err := r.evaluate(n, r.valid, model.FixedMask)
	return &a, err
}

func (r *runner) finetune() error {
	c := r.c
	n, err := r.loadNet(rundir.VanillaFile)
	if err != nil {
		return err
	}
	defer n.Close()
	ms, _, err := tensor.ReadFile(r.path(rundir.MaskFile))
	if err != nil {
		return fmt.Errorf("fine-tuning needs the pruning stage's mask: %w", err)
	}
	if err := n.SetMasks(ms); err != nil {
		return err
	}
	if err := n.SetRequiresGrad(true); err != nil {
		return err
	}
	o, err := optim.New(optim.FromStage(c.Finetune), n.Trainable(), n.TrainableNames())
	if err != nil {
		return err
	}
	defer o.Close()
	ws := sampler.NewWeighted(sampler.Weights(r.flags, c.LambdaUp), c.BatchSize, c.Seed, "finetune")
	best := map[string]tensor.Tensor(nil)
	l := loop{name: "finetune", stage: StageFinetune, iters: c.Finetune.Iters}
	m := member{stepsKey: "finetune_steps", net: n, opt: o}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		if err := r.save(m, ts); err != nil {
			return nil, err
		}
		prefixed("best/", best, ts)
		return ts, nil
	}
	l.restore = func(ts map[string]tensor.Tensor) error {
		if b := unprefix("best/", ts); len(b) > 0 {
			best = b
		}
		return r.load(m, ts)
	}
	asCoded := c.AsCoded()
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		idx := ws.Indices(it)
		x, y, labels := r.batch(s, r.train, idx, true, "finetune", it)
		lr := o.LR()
		logits, feat := n.Run(s, x, model.Forward{Train: true, Mask: model.FixedMask})
		ce := loss.CE(s, logits, y)
		con := loss.SupCon(s, feat, labels, r.batchFlags(idx), c.Temperature, asCoded)
		total := s.Add(ce, s.MulScalar(con, c.LambdaCon))
		tv, err := m.descend(s, total)
		if err != nil || isBad(tv) {
			return tv, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.Finetune.Iters {
			a, err := r.evaluate(n, r.valid, model.FixedMask)
			if err != nil {
				return 0, err
			}
			m := rundir.Metric{Stage: "finetune", Iter: it + 1, LR: lr, Valid: &a,
				Loss: map[string]float64{"ce": s.Item(ce), "supcon": s.Item(con), "total": tv}}
			if err := r.metric(m); err != nil {
				return 0, err
			}
			if c.Select == "best-valid" && (best == nil || a.Accuracy > r.st.Floats["best_valid"]) {
				if best, err = n.Export(); err != nil {
					return 0, err
				}
				r.st.Floats["best_valid"] = a.Accuracy
				r.st.Ints["selected_iter"] = it + 1
			}
		}
		return tv, s.Err()
	}
	if err := r.runLoop(l); err != nil {
		return err
	}
	out := best
	if c.Select != "best-valid" || best == nil {
		if out, err = n.Export(); err != nil {
			return err
		}
		r.st.Ints["selected_iter"] = c.Finetune.Iters
	}
	return tensor.WriteFile(r.path(rundir.DCWPFile), out, map[string]string{"network": "dcwp"})
}
