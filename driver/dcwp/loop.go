package dcwp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/optim"
	"github.com/dcwp-go/dcwp/driver/sampler"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/progress"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

func rngFor(seed int64, stream string, it int) *rand.Rand { return sampler.RNG(seed, stream, it) }

func isBad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// loop is one resumable training loop.
type loop struct {
	name    string
	iters   int
	state   func() (map[string]tensor.Tensor, error)
	restore func(ts map[string]tensor.Tensor) error
	step    func(it int) (float64, error) // the loss; NaN or infinite stops the run
	// stop, when set, says after iteration it whether the loop ends there, before iters
	// (a rule that picks the loop's length); it is asked before the checkpoint, so a
	// resumed run meets the same decision at the same iteration.
	stop func(it int) bool
}

// member is one network a loop trains with its own optimizer; its checkpoint tensors sit
// under prefix ("net/…", "opt/…") and its optimizer step count in counts[counter].
type member struct {
	prefix  string
	counts  map[string]int
	counter string
	net     *model.Net
	opt     *optim.Optimizer
}

// newMember sets up the training of n with the loop's optimizer: of its weights, or with
// scores of its pruning scores Θ (the weights stay frozen). Its step count is the
// checkpoint's counter named counter.
func (r *runner) newMember(n *model.Net, st rundir.Optim, scores bool, prefix, counter string) (member, error) {
	var params []*torch.Tensor
	var names []string
	if scores {
		params, names = n.ScoreList()
	} else {
		if err := n.SetRequiresGrad(true); err != nil {
			return member{}, err
		}
		params, names = n.Trainable(), n.TrainableNames()
	}
	o, err := optim.New(optim.FromConfig(st), params, names)
	if err != nil {
		return member{}, err
	}
	return member{prefix: prefix, counts: r.st.Counts, counter: counter, net: n, opt: o}, nil
}

func (m member) close() { m.opt.Close() }

// save adds the member's network and optimizer state to ts.
func (m member) save(ts map[string]tensor.Tensor) error {
	if err := netState(m.prefix+"net/", m.net, ts); err != nil {
		return err
	}
	st, err := m.opt.State(m.prefix + "opt/")
	if err != nil {
		return err
	}
	prefixed("", st, ts)
	m.counts[m.counter] = m.opt.Steps
	return nil
}

func (m member) load(ts map[string]tensor.Tensor) error {
	if _, err := m.net.Load(unprefix(m.prefix+"net/", ts), false); err != nil {
		return err
	}
	return m.opt.Restore(m.prefix+"opt/", ts, m.counts[m.counter])
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
func (m member) step() error { return m.opt.Update() }

func netState(prefix string, n *model.Net, into map[string]tensor.Tensor) error {
	ts, err := n.Export()
	if err != nil {
		return err
	}
	prefixed(prefix, ts, into)
	return nil
}

// trainStep runs forward/backward of one network with a loss and returns the loss value.
func trainStep(s *torch.Scope, n *model.Net, x, y *torch.Tensor, lossName rundir.Loss, q float64) float64 {
	logits, _ := n.Run(s, x, model.Forward{Train: true})
	var l *torch.Tensor
	if lossName == rundir.GCE {
		l = loss.GCE(s, logits, y, q)
	} else {
		l = loss.CE(s, logits, y)
	}
	s.Backward(l)
	return s.Item(l)
}

// runLoop runs l from its checkpoint (when the run being resumed stopped in it) to its end,
// checkpointing every CheckpointEvery iterations.
func (r *runner) runLoop(l loop) error {
	start := 0
	if r.st.Loop == l.name && r.resumeTs != nil {
		if err := l.restore(r.resumeTs); err != nil {
			return fmt.Errorf("resuming %s: %w", l.name, err)
		}
		start = r.st.Iter
		r.resumeTs = nil
	}
	end := r.prof.begin(l.name)
	it := start
	defer func() { r.logProfile(l.name, end(it-start)) }() // after the progress line's end
	p := progress.New(r.o.Log, progress.Options{Name: l.name, Total: l.iters, Start: start, Mode: r.o.Progress, Header: true})
	defer p.Finish()
	lastCk := start
	for ; it < l.iters; it++ {
		v, err := r.prof.step(func() (float64, error) { return l.step(it) })
		if err != nil {
			return fmt.Errorf("stage %s, iteration %d: %w", l.name, it+1, err)
		}
		if isBad(v) {
			where := "no checkpoint of this stage was written yet"
			if lastCk > 0 {
				where = fmt.Sprintf("the checkpoint of iteration %d is kept in %s", lastCk, ckPath(r.o.Out))
			}
			return fmt.Errorf("stage %s: loss is %v at iteration %d; stopped (%s)", l.name, v, it+1, where)
		}
		p.Set(it+1, fmt.Sprintf("loss %.4f", v))
		if r.o.AfterIter != nil {
			r.o.AfterIter(l.name, it+1)
		}
		if l.stop != nil && l.stop(it) {
			it++ // the iterations done, as the loop's end leaves it
			break
		}
		if (it+1)%r.c.CheckpointEvery != 0 || it+1 >= l.iters {
			continue
		}
		if err := r.checkpointLoop(l, it+1); err != nil {
			return err
		}
		lastCk = it + 1
		if r.o.StopLoop == l.name && it+1 >= r.o.StopAfter {
			return ErrStopped
		}
	}
	return nil
}

// checkpointLoop writes the checkpoint of loop l after iteration it.
func (r *runner) checkpointLoop(l loop, it int) error {
	defer r.prof.checkpoint(time.Now())
	ts, err := l.state()
	if err != nil {
		return err
	}
	r.st.Loop, r.st.Iter = l.name, it
	if err := r.saveState(ts); err != nil {
		return fmt.Errorf("stage %s, iteration %d: %w", l.name, it, err)
	}
	return nil
}

// logProfile says where a loop's time went, against its steps' own time.
func (r *runner) logProfile(name string, p rundir.LoopProfile) {
	if p.Iters == 0 {
		return
	}
	r.logf("%s: %d iterations in %.1f s: steps %.1f s (%.1f ms each), data %.1f s, evaluation %.1f s, checkpoints %.1f s, other %.1f s",
		name, p.Iters, p.Seconds, p.Step, 1000*p.Step/float64(p.Iters), p.Data, p.Eval, p.Checkpoint,
		p.Seconds-p.Step-p.Data-p.Eval-p.Checkpoint)
}

func (r *runner) markDone(name string) error {
	r.st.Done = append(r.st.Done, name)
	r.st.Loop, r.st.Iter = "", 0
	return r.saveState(nil)
}

// saveState writes the checkpoint with the given loop tensors.
func (r *runner) saveState(ts map[string]tensor.Tensor) error {
	size, err := r.metrics.synced()
	if err != nil {
		return err
	}
	r.st.MetricsSize = size
	r.st.WallSeconds += time.Since(r.wallSeg).Seconds()
	r.wallSeg = time.Now()
	if r.curStage != "" {
		r.st.StageSeconds[r.curStage] += time.Since(r.segStart).Seconds()
		r.segStart = time.Now()
	}
	return writeCheckpoint(r.o.Out, r.st, ts)
}
