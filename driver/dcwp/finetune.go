package dcwp

import (
	"fmt"
	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/sampler"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// The checkpoint's counters of fine-tuning: the optimizer's steps, and the iteration of the
// network it reports.
const (
	countFinetuneSteps = "finetune_steps"
	countSelectedIter  = "selected_iter" // 0: not yet chosen
)

// finetune is stage 4: the vanilla network under the pruning mask, its kept weights trained
// on the up-weighting batches; writes the reported network (the last, or with --select
// best-valid the best on validation).
func (r *runner) finetune() error {
	c := r.c
	n, err := r.loadNet(rundir.VanillaFile)
	if err != nil {
		return err
	}
	defer n.Close()
	ms, err := r.readMasks()
	if err != nil {
		return err
	}
	if err := n.SetMasks(ms); err != nil {
		return fmt.Errorf("fine-tuning: %s: %w", r.path(rundir.MaskFile), err)
	}
	m, err := r.newMember(n, c.Finetune, false, "", countFinetuneSteps)
	if err != nil {
		return err
	}
	defer m.close()
	var best map[string]tensor.Tensor // weights of the best validation accuracy (best-valid)
	if err := r.runLoop(r.finetuneLoop(m, &best)); err != nil {
		return err
	}
	out := best
	if c.Select != rundir.SelectBestValid || best == nil {
		if out, err = n.Export(); err != nil {
			return err
		}
		r.st.Counts[countSelectedIter] = c.Finetune.Iters
	}
	return tensor.WriteFile(r.path(rundir.DCWPFile), out, r.fileMeta(rundir.RoleDCWP, nil))
}

func (r *runner) finetuneLoop(m member, best *map[string]tensor.Tensor) loop {
	c := r.c
	n := m.net
	ws := sampler.NewWeighted(sampler.Weights(r.flags, c.LambdaUp), c.BatchSize, c.Seed, rundir.StageFinetune)
	l := loop{name: rundir.StageFinetune, iters: c.Finetune.Iters}
	l.state = func() (map[string]tensor.Tensor, error) {
		ts := map[string]tensor.Tensor{}
		if err := m.save(ts); err != nil {
			return nil, err
		}
		prefixed("best/", *best, ts)
		return ts, nil
	}
	l.restore = func(ts map[string]tensor.Tensor) error {
		if b := unprefix("best/", ts); len(b) > 0 {
			*best = b
		}
		return m.load(ts)
	}
	obj := loss.Objective{LambdaCon: c.LambdaCon, Temperature: c.Temperature, AsCoded: c.AsCoded()}
	l.step = func(it int) (float64, error) {
		s := torch.NewScope()
		defer s.Close()
		idx := ws.Indices(it)
		x, y, labels := r.batch(s, r.train, idx, true, rundir.StageFinetune, it)
		lr := m.opt.LR()
		logits, feat := n.Run(s, x, model.Forward{Train: true, Mask: model.FixedMask})
		t := obj.Terms(s, logits, feat, y, labels, r.batchFlags(idx), nil)
		tv, err := m.descend(s, t.Total)
		if err != nil || isBad(tv) {
			return tv, err
		}
		if (it+1)%c.EvalEvery == 0 || it+1 == c.Finetune.Iters {
			a, err := r.evaluate(n, r.valid, model.FixedMask)
			if err != nil {
				return 0, err
			}
			row := rundir.Metric{Stage: rundir.StageFinetune, Iter: it + 1, LR: lr, Valid: &a,
				Loss: map[string]float64{"ce": s.Item(t.CE), "supcon": s.Item(t.Con), "total": tv}}
			if err := r.metrics.append(row); err != nil {
				return 0, err
			}
			if err := r.keepBest(n, it, a, best); err != nil {
				return 0, err
			}
		}
		return tv, s.Err()
	}
	return l
}

// keepBest keeps n's weights as *best when they score best on validation so far (--select
// best-valid).
func (r *runner) keepBest(n *model.Net, it int, a metrics.Accuracy, best *map[string]tensor.Tensor) error {
	if r.c.Select != rundir.SelectBestValid || (*best != nil && a.Accuracy <= r.st.Best.Valid) {
		return nil
	}
	b, err := n.Export()
	if err != nil {
		return err
	}
	*best = b
	r.st.Best.Valid = a.Accuracy
	r.st.Counts[countSelectedIter] = it + 1
	return nil
}
