package dcwp

import (
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/rundir"
)

// countPretrainChosen is the checkpoint's counter of the pre-training length that
// --pretrain-iters auto chose, kept for summary.json once pre-training is done.
const countPretrainChosen = "pretrain_chosen_iters"

// fitWatch follows the mined-fit rule of --pretrain-iters auto (rundir.StopMinedFit): how
// many of the mined samples the ERM network predicts right, every EvalEvery iterations.
// It reads the training labels and the mining model's predictions, never a bias label.
type fitWatch struct {
	mined   *dataset.Split // the mined training samples; nil when none were mined
	fit     float64        // the share at which pre-training stops
	last    float64        // the share at the last check
	stopped bool
	at      int // the iterations pre-training ran: where the rule stopped it, or all
}

// newFitWatch mines the training split with the separate mining model, trained before the
// ERM network: the flags the mine stage computes from the same network (mineWrong).
// nil when pre-training has a fixed length.
func (r *runner) newFitWatch() (*fitWatch, error) {
	a := r.c.PretrainAuto
	if a == nil {
		return nil, nil
	}
	flags := make([]bool, r.train.Len())
	if err := r.mineWrong(flags); err != nil {
		return nil, err
	}
	var idx []int
	for i, f := range flags {
		if f {
			idx = append(idx, i)
		}
	}
	w := &fitWatch{fit: a.Fit}
	if len(idx) == 0 {
		r.logf("pretrain: --pretrain-iters auto: the mining model mined no sample, so the rule has nothing to watch: pre-training runs all %d iterations", r.c.Pretrain.Iters)
		return w, nil
	}
	w.mined = r.train.Subset(idx)
	r.logf("pretrain: --pretrain-iters auto (rule %s): stops once the ERM network predicts %.0f %% of the %d mined samples right, checked every %d iterations, at most %d",
		a.Rule, 100*a.Fit, len(idx), r.c.EvalEvery, r.c.Pretrain.Iters)
	return w, nil
}

// check measures, at the rule's checks, the share of the mined samples that erm predicts
// right after iteration it, and whether pre-training stops there; the share, or nil
// between checks.
func (w *fitWatch) check(r *runner, erm *model.Net, it int) (*float64, error) {
	if w == nil || w.mined == nil || (it+1)%r.c.EvalEvery != 0 {
		return nil, nil
	}
	pred, _, err := r.predict(erm, w.mined, model.NoMask)
	if err != nil {
		return nil, err
	}
	right := 0
	for i, p := range pred {
		if p == w.mined.Labels[i] {
			right++
		}
	}
	w.last = float64(right) / float64(len(pred))
	if w.stopped = w.last >= w.fit; w.stopped {
		w.at = it + 1
	}
	return &w.last, nil
}

// chose records and logs the length the rule chose, once pre-training has ended.
func (w *fitWatch) chose(r *runner) {
	if w == nil {
		return
	}
	iters := r.c.Pretrain.Iters
	if w.stopped {
		iters = w.at
	}
	r.st.Counts[countPretrainChosen] = iters
	switch {
	case w.stopped:
		r.logf("pretrain: stopped after %d of at most %d iterations (--pretrain-iters auto, rule %s): the ERM network predicts %.1f %% of the %d mined samples right, at least %.0f %%",
			iters, r.c.Pretrain.Iters, r.c.PretrainAuto.Rule, 100*w.last, w.mined.Len(), 100*w.fit)
	case w.mined != nil:
		r.logf("pretrain: ran all %d iterations (--pretrain-iters auto, rule %s): the ERM network predicts %.1f %% of the %d mined samples right, less than %.0f %%",
			iters, r.c.PretrainAuto.Rule, 100*w.last, w.mined.Len(), 100*w.fit)
	}
}

// summarizeAuto records in summary.json the pre-training length the rule chose.
func (r *runner) summarizeAuto() {
	a, n := r.c.PretrainAuto, r.st.Counts[countPretrainChosen]
	if a == nil || n == 0 {
		return
	}
	r.summary.PretrainAuto = &rundir.AutoChoice{Rule: a.Rule, Iters: n, Max: r.c.Pretrain.Iters}
}
