package dcwp

import (
	"time"

	"github.com/dcwp-go/dcwp/rundir"
)

// profile accumulates where the running loop's time goes (rundir.LoopProfile). Passes over
// a split read their own batches: those count as the pass's, not as data.
type profile struct {
	loops  map[string]rundir.LoopProfile
	cur    string // the loop running, "" outside loops
	inPass bool
}

func (p *profile) add(f func(lp *rundir.LoopProfile, sec float64), since time.Time) {
	if p.cur == "" {
		return
	}
	lp := p.loops[p.cur]
	f(&lp, time.Since(since).Seconds())
	p.loops[p.cur] = lp
}

// begin starts timing loop name; the func it returns ends it after iters iterations.
func (p *profile) begin(name string) func(iters int) rundir.LoopProfile {
	if p.loops == nil {
		p.loops = map[string]rundir.LoopProfile{}
	}
	p.cur = name
	t0 := time.Now()
	return func(iters int) rundir.LoopProfile {
		p.add(func(lp *rundir.LoopProfile, sec float64) {
			lp.Iters += iters
			lp.Seconds += sec
		}, t0)
		p.cur = ""
		return p.loops[name]
	}
}

// step runs one iteration of the running loop, counting its time less the batches it read
// and the passes it made.
func (p *profile) step(f func() (float64, error)) (float64, error) {
	before, t0 := p.loops[p.cur], time.Now()
	v, err := f()
	p.add(func(lp *rundir.LoopProfile, s float64) {
		lp.Step += s - (lp.Data - before.Data) - (lp.Eval - before.Eval)
	}, t0)
	return v, err
}

func (p *profile) checkpoint(since time.Time) {
	p.add(func(lp *rundir.LoopProfile, s float64) { lp.Checkpoint += s }, since)
}

func (p *profile) data(since time.Time) {
	if !p.inPass {
		p.add(func(lp *rundir.LoopProfile, s float64) { lp.Data += s }, since)
	}
}

// pass times a pass over a split; call the func it returns at the pass's end.
func (p *profile) pass() func() {
	t0 := time.Now()
	p.inPass = true
	return func() {
		p.inPass = false
		p.add(func(lp *rundir.LoopProfile, s float64) { lp.Eval += s }, t0)
	}
}
