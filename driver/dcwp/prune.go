package dcwp

import (
	"github.com/dcwp-go/dcwp/budget"
	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/sampler"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

const countPruneSteps = "prune_steps" // the checkpoint's counter of the scores' optimizer steps

// prune is stage 3: the vanilla network's weights frozen, its scores Θ learn which weights
// to keep, on batches that up-weight the mined samples; writes the scores and the mask.
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
	m, err := r.newMember(n, c.Prune, true, "", countPruneSteps)
	if err != nil {
		return err
	}
	defer m.close()
	if err := r.runLoop(r.pruneLoop(m)); err != nil {
		return err
	}
	sc, err := n.ExportScores()
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.ScoresFile), sc, r.fileMeta(rundir.RoleScores, nil)); err != nil {
		return err
	}
	t, err := r.maskThreshold(sc)
	if err != nil {
		return err
	}
	masks, err := n.FixMasksAt(t)
	if err != nil {
		return err
	}
	if err := tensor.WriteFile(r.path(rundir.MaskFile), masks, r.fileMeta(rundir.RoleMask, nil)); err != nil {
		return err
	}
	kept, _ := rundir.KeptRatios(masks)
	r.logf("pruning done: kept %.2f%% of %d masked weights", 100*kept, r.arch.MaskedCount())
	return nil
}

// maskThreshold is the t of the final mask 1[Θ ≥ t]: 0 as in the paper, or, with a FLOPs
// budget, the threshold that keeps the top-scored units until the budget (budget.Threshold).
func (r *runner) maskThreshold(scores map[string]tensor.Tensor) (float64, error) {
	if r.c.TargetFLOPs == 0 {
		return 0, nil
	}
	t, err := budget.Threshold(r.arch, scores, r.c.TargetFLOPs)
	if err != nil {
		return 0, err
	}
	r.logf("FLOPs budget %.1f%%: the final mask keeps the scores ≥ %.4g", 100*r.c.TargetFLOPs, t)
	return t, nil
}

func (r *runner) pruneLoop(m member) loop {
	c := r.c
	n := m.net
	up := c.LambdaUp
	if c.AsCoded() {
		up = 80
	}
	ws := sampler.NewWeighted(sampler.Weights(r.flags, up), c.BatchSize, c.Seed, rundir.StagePrune)
	l := loop{name: rundir.StagePrune, iters: c.Prune.Iters}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		if err := m.save(ts); err != nil {
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
		if err := m.load(ts); err != nil {
			return err
		}
		return n.LoadScores(unprefix("scores/", ts))
	}
	asCoded := c.AsCoded()
	obj := loss.Objective{LambdaSparse: c.LambdaSparse, LambdaCon: c.LambdaCon, Temperature: c.Temperature, AsCoded: asCoded}
	scores, _ := n.ScoreList()
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		idx := ws.Indices(it)
		x, y, labels := r.batch(s, r.train, idx, true, rundir.StagePrune, it)
		gen, err := torch.NewGenerator(rngFor(c.Seed, "prune/mask", it).Uint64())
		if err != nil {
			return 0, err
		}
		defer gen.Close()
		lr := m.opt.LR()
		logits, feat := n.Run(s, x, model.Forward{Train: true, Mask: model.SampleMask, Gen: gen, Tau: c.MaskTau, AsCoded: asCoded})
		t := obj.Terms(s, logits, feat, y, labels, r.batchFlags(idx), scores)
		tv, err := m.descend(s, t.Total)
		if err != nil || isBad(tv) {
			return tv, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.Prune.Iters || it == 0 {
			losses := map[string]float64{"ce": s.Item(t.CE), "sparse": s.Item(t.Sparse), "supcon": s.Item(t.Con), "total": tv}
			if err := r.pruneMetric(n, it, lr, losses); err != nil {
				return 0, err
			}
		}
		return tv, s.Err()
	}
	return l
}

func (r *runner) pruneMetric(n *model.Net, it int, lr float64, losses map[string]float64) error {
	kept, per, err := n.Kept()
	if err != nil {
		return err
	}
	m := rundir.Metric{Stage: rundir.StagePrune, Iter: it + 1, LR: lr, Kept: &kept, KeptPer: per, Loss: losses}
	if it > 0 { // at iteration 1 the subnetwork is still the whole vanilla network
		if m.Valid, err = r.validateSubnet(n); err != nil {
			return err
		}
	}
	return r.metrics.append(m)
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
