package dcwp

import (
	"fmt"
	"slices"

	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/sampler"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

const ensembleFile = "ensemble.safetensors" // under checkpoint/: the ensemble miner's scores

// The checkpoint's counters of pre-training (ckState.Counts): each network's optimizer
// steps, and the checks summed in the ensemble miner's score.
const (
	countERMSteps         = "erm_steps"
	countBiasedSteps      = "biased_steps"
	countMiningModelSteps = "miner_steps" // its name from when the mining model was the miner
	countEnsemble         = "ensemble_count"
)

// pretrain is stage 1: the ERM classifier, and beside it on the same batches the biased
// network (unless the separate mining model, trained first, takes its place).
func (r *runner) pretrain() error {
	c := r.c
	if c.MiningModel != nil && !r.st.done(rundir.LoopMiningModel) {
		if err := r.trainMiningModel(); err != nil {
			return err
		}
	}
	erm, err := r.pretrainNet("erm", rundir.CE, countERMSteps)
	if err != nil {
		return err
	}
	defer erm.close()
	nets := []pretrainNet{erm}
	if c.MiningModel == nil {
		b, err := r.pretrainNet("biased", c.BiasLoss, countBiasedSteps)
		if err != nil {
			return err
		}
		defer b.close()
		nets = append(nets, b)
	}
	var ens *ensembleScore
	if c.Miner == rundir.MinerEnsemble && len(nets) > 1 {
		ens = &ensembleScore{score: make([]float32, r.train.Len()), counts: r.st.Counts}
	}
	watch, err := r.newFitWatch()
	if err != nil {
		return err
	}
	if err := r.runLoop(r.pretrainLoop(nets, ens, watch)); err != nil {
		return err
	}
	watch.chose(r)
	if err := r.writeNet(rundir.VanillaFile, erm.net, r.fileMeta(rundir.RoleVanilla, nil)); err != nil {
		return err
	}
	if len(nets) > 1 {
		if err := r.writeNet(rundir.BiasedFile, nets[1].net, r.fileMeta(rundir.RoleBiased, map[string]string{"loss": string(c.BiasLoss)})); err != nil {
			return err
		}
	}
	if ens != nil {
		return ens.write(r.path(rundir.CheckpointDir + "/" + ensembleFile))
	}
	return nil
}

// pretrainNet is one network of pre-training and the loss it learns from.
type pretrainNet struct {
	member
	role string // "erm" or "biased": its checkpoint prefix and its key in the metrics' losses
	loss rundir.Loss
}

func (p pretrainNet) close() {
	p.member.close()
	p.net.Close()
}

// pretrainNet builds the network of a role, from --pretrained when given, trained with the
// pre-training optimizer; counter names its step count.
func (r *runner) pretrainNet(role string, l rundir.Loss, counter string) (pretrainNet, error) {
	n, err := r.newNet(role)
	if err != nil {
		return pretrainNet{}, err
	}
	if err := r.loadPretrained(n); err != nil {
		n.Close()
		return pretrainNet{}, err
	}
	m, err := r.newMember(n, r.c.Pretrain, false, role+"/", counter)
	if err != nil {
		n.Close()
		return pretrainNet{}, err
	}
	return pretrainNet{m, role, l}, nil
}

// ensembleScore sums 1 - p_y of the biased network over the checks made about once an
// epoch (the ensemble miner); counts[countEnsemble] is how many were made.
type ensembleScore struct {
	score  []float32
	counts map[string]int
}

func (e *ensembleScore) add(py []float32) {
	for i, p := range py {
		e.score[i] += 1 - p
	}
	e.counts[countEnsemble]++
}

func (e *ensembleScore) write(path string) error {
	ts := map[string]tensor.Tensor{"score": tensor.F32(e.score, len(e.score))}
	return tensor.WriteFile(path, ts, map[string]string{"count": fmt.Sprint(e.counts[countEnsemble])})
}

// pretrainLoop trains nets[0] (ERM) and nets[1] (biased, when there is one) on the same
// batches; ens, when set, scores the training set with nets[1] every epoch; watch, when
// set, ends the loop where the rule of --pretrain-iters auto says.
func (r *runner) pretrainLoop(nets []pretrainNet, ens *ensembleScore, watch *fitWatch) loop {
	c := r.c
	sh := &sampler.Shuffle{N: r.train.Len(), Batch: c.BatchSize, Seed: c.Seed, Stream: rundir.StagePretrain}
	epochIters := (r.train.Len() + c.BatchSize - 1) / c.BatchSize
	l := loop{name: rundir.StagePretrain, iters: c.Pretrain.Iters}
	if watch != nil {
		l.stop = func(int) bool { return watch.stopped }
	}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		for _, n := range nets {
			if err := n.save(ts); err != nil {
				return nil, err
			}
		}
		if ens != nil {
			ts["ensemble/score"] = tensor.F32(append([]float32(nil), ens.score...), len(ens.score))
		}
		return ts, nil
	}
	l.restore = func(ts map[string]tensor.Tensor) error {
		for _, n := range nets {
			if err := n.load(ts); err != nil {
				return err
			}
		}
		if ens != nil {
			saved := ts["ensemble/score"].F32
			if len(saved) != len(ens.score) {
				return fmt.Errorf("checkpoint: %d ensemble scores for %d training samples (from another run or another --data?)", len(saved), len(ens.score))
			}
			copy(ens.score, saved)
		}
		return nil
	}
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		x, y, _ := r.batch(s, r.train, sh.Indices(it), true, rundir.StagePretrain, it)
		lr := nets[0].opt.LR()
		vals := map[string]float64{}
		for _, n := range nets {
			vals[n.role] = trainStep(s, n.net, x, y, n.loss, c.Q)
		}
		if err := s.Err(); err != nil {
			return 0, err
		}
		for _, n := range nets {
			if err := n.step(); err != nil {
				return 0, err
			}
		}
		if ens != nil && (it+1)%epochIters == 0 {
			_, py, err := r.predict(nets[1].net, r.train, model.NoMask)
			if err != nil {
				return 0, err
			}
			ens.add(py)
		}
		fit, err := watch.check(r, nets[0].net, it)
		if err != nil {
			return 0, err
		}
		if err := r.pretrainMetric(it, vals, lr, nets[0].net, fit, watch != nil && watch.stopped); err != nil {
			return 0, err
		}
		worst := vals["erm"]
		if b, ok := vals["biased"]; ok && isBad(b) {
			worst = b
		}
		return worst, nil
	}
	return l
}

// pretrainMetric logs the losses every EvalEvery iterations (with fit, the mined samples'
// share --pretrain-iters auto checks, where measured), and the ERM network's validation
// accuracy every tenth time, and both at the end (stop: the rule ends pre-training here).
func (r *runner) pretrainMetric(it int, vals map[string]float64, lr float64, erm *model.Net, fit *float64, stop bool) error {
	c := r.c
	end := it+1 == c.Pretrain.Iters || stop
	if (it+1)%c.EvalEvery != 0 && !end {
		return nil
	}
	m := rundir.Metric{Stage: rundir.StagePretrain, Iter: it + 1, Loss: vals, LR: lr, MinedFit: fit}
	if (it+1)%(10*c.EvalEvery) == 0 || end {
		a, err := r.evaluate(erm, r.valid, model.NoMask)
		if err != nil {
			return err
		}
		m.Valid = &a
	}
	return r.metrics.append(m)
}

// trainMiningModel trains the separate mining model (cmnist's preset has one): an
// SGD-trained network (GCE with --select-with-gce, else CE) whose predictions mine; saved as
// biased.safetensors.
func (r *runner) trainMiningModel() error {
	c := r.c
	n, err := r.newNet("miner") // its role seeds its initial weights: the name it had, for the same results
	if err != nil {
		return err
	}
	defer n.Close()
	lossName := rundir.CE
	if c.SelectWithGCE {
		lossName = c.BiasLoss
	}
	m, err := r.newMember(n, *c.MiningModel, false, "", countMiningModelSteps)
	if err != nil {
		return err
	}
	defer m.close()
	sh := &sampler.Shuffle{N: r.train.Len(), Batch: c.BatchSize, Seed: c.Seed, Stream: rundir.LoopMiningModel}
	l := loop{name: rundir.LoopMiningModel, iters: c.MiningModel.Iters}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		return ts, m.save(ts)
	}
	l.restore = m.load
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		x, y, _ := r.batch(s, r.train, sh.Indices(it), true, rundir.LoopMiningModel, it)
		lr := m.opt.LR()
		v := trainStep(s, n, x, y, lossName, c.Q)
		if err := s.Err(); err != nil {
			return 0, err
		}
		if err := m.step(); err != nil {
			return 0, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.MiningModel.Iters {
			if err := r.metrics.append(rundir.Metric{Stage: rundir.LoopMiningModel, Iter: it + 1, Loss: map[string]float64{string(lossName): v}, LR: lr}); err != nil {
				return 0, err
			}
		}
		return v, nil
	}
	if err := r.runLoop(l); err != nil {
		return err
	}
	if err := r.writeNet(rundir.BiasedFile, n, r.fileMeta(rundir.RoleBiased, map[string]string{"loss": string(lossName), "trained": "separately"})); err != nil {
		return err
	}
	return r.markDone(rundir.LoopMiningModel)
}

// checkPretrained reads the --pretrained file before anything is written, when pre-training
// is to run: a file that cannot start the network is refused at once, not after the mining
// network has trained into the run directory. Without one, a resnet18 run says it starts
// from random weights.
func (r *runner) checkPretrained(old ckState) error {
	runs := slices.Contains(r.c.Stages, rundir.StagePretrain) || r.c.Mode == rundir.ModeVanilla
	if !runs || (r.o.Resume && old.done(rundir.StagePretrain)) {
		return nil
	}
	if r.c.Pretrained == "" {
		if r.c.Model == "resnet18" { // the reference starts from ImageNet weights on its real-image data
			r.logf("model resnet18 starts from random weights: give --pretrained FILE.safetensors (torchvision-named, e.g. ImageNet) to start from trained ones")
		}
		return nil
	}
	_, err := r.readPretrained()
	return err
}

// readPretrained reads the --pretrained file (resnet18) and checks that it fills every
// parameter of the model but the head.
func (r *runner) readPretrained() (map[string]tensor.Tensor, error) {
	ts, err := tensor.ReadWeights(r.c.Pretrained)
	if err != nil {
		return nil, fmt.Errorf("--pretrained: %w", err)
	}
	for _, s := range model.Unfilled(r.arch, ts) {
		if s != "fc.weight" && s != "fc.bias" {
			return nil, fmt.Errorf("--pretrained %s: no usable tensor %q for model %s", r.c.Pretrained, s, r.c.Model)
		}
	}
	return ts, nil
}

// loadPretrained starts a network from the user's --pretrained file.
func (r *runner) loadPretrained(n *model.Net) error {
	if r.c.Pretrained == "" {
		return nil
	}
	ts, err := r.readPretrained()
	if err != nil {
		return err
	}
	skipped, err := n.Load(ts, true)
	if err != nil {
		return fmt.Errorf("--pretrained %s: %w", r.c.Pretrained, err)
	}
	if len(skipped) > 0 {
		r.logf("pretrained: %s loaded, head %v kept at random initialisation", r.c.Pretrained, skipped)
	}
	return nil
}
