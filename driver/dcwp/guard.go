package dcwp

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// ErrBadInput marks the errors Run finds before it writes anything: settings, the run
// directory, its config.json and checkpoint, an output path that cannot be written safely.
// The command reports them as bad input (internal/exit's badInput sentinels).
var ErrBadInput = errors.New("bad input")

type inputError struct{ err error }

func (e inputError) Error() string        { return e.err.Error() }
func (e inputError) Unwrap() error        { return e.err }
func (e inputError) Is(target error) bool { return target == ErrBadInput }

// badInput marks err as bad input; nil stays nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return inputError{err}
}

// checkOutputs refuses a run directory that the run would damage rather than write: one
// that is not a directory, or holds, where the run writes a file, something that is not a
// regular file (the write would replace a directory, device, FIFO or link; metrics.jsonl,
// appended to, would block on a FIFO) or is one of the run's inputs.
func checkOutputs(out string, inputs ...string) error {
	fi, err := os.Stat(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("run directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("run directory %s is not a directory", out)
	}
	paths := rundir.Files(out)
	for _, sub := range []string{rundir.CheckpointDir, rundir.PlotsDir} {
		fi, err := os.Lstat(filepath.Join(out, sub))
		if err == nil && !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", filepath.Join(out, sub))
		}
		if err == nil && sub == rundir.CheckpointDir {
			paths = append(paths, ckPath(out))
		}
	}
	plots, _ := filepath.Glob(filepath.Join(out, rundir.PlotsDir, "*.png"))
	for _, p := range append(paths, plots...) {
		if err := atomicfile.CheckOutput(p, inputs...); err != nil {
			return err
		}
	}
	return nil
}

// removeStale removes the temporary files that killed writes left in the run directory.
func (r *runner) removeStale() error {
	for _, dir := range []string{r.o.Out, filepath.Join(r.o.Out, rundir.CheckpointDir), filepath.Join(r.o.Out, rundir.PlotsDir)} {
		gone, err := atomicfile.RemoveStale(dir)
		for _, p := range gone {
			r.logf("removed %s, left by an interrupted write", p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkContinue refuses to start the configured stages on the run directory's state
// (old, ok: its checkpoint) when that cannot work: a fresh run over a run that has a
// checkpoint, or later stages of a run whose earlier stages are not done.
func (r *runner) checkContinue(old ckState, ok bool) error {
	first := r.c.Stages[0]
	from := rundir.StageIndex(first)
	switch {
	case !r.o.Resume && ok && from == 0:
		return fmt.Errorf("%s already holds a run with a checkpoint: pass --resume to continue it, or choose another --out", r.o.Out)
	case from == 0:
		return nil
	case !ok:
		return fmt.Errorf("--stages %s: %s holds no run whose earlier stages are done (no checkpoint); start with %s",
			first, r.o.Out, r.stages[0].Name)
	}
	for _, s := range r.stages[:from] {
		if !old.done(s.Name) {
			return fmt.Errorf("--stages %s: stage %s of the run in %s is not done (continue it with --resume, or rerun from %s)",
				first, s.Name, r.o.Out, s.Name)
		}
	}
	return r.readEarlier(r.stages[:from])
}

// readEarlier reads back the files of the earlier stages that a rerun takes as they are,
// before anything is written: a missing or damaged one is refused while the run is as it
// was (the rerun would otherwise have cut metrics.jsonl and rewritten config.json first).
func (r *runner) readEarlier(earlier []stage) error {
	for _, s := range earlier {
		for _, f := range s.Files {
			_, _, err := tensor.ReadFile(r.path(f))
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s is missing: stage %s of the run did not write it (rerun from %s)", r.path(f), s.Name, s.Name)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", r.path(f), err)
			}
		}
		if s.load != nil {
			if err := s.load(); err != nil {
				return err
			}
		}
	}
	return nil
}

// loopIters are the iterations of each training loop of the run, by loop name.
func (r *runner) loopIters() map[string]int {
	m := map[string]int{}
	for _, l := range rundir.Loops() {
		if o := l.Optim(r.c); o != nil {
			m[l.Name] = o.Iters
		}
	}
	return m
}

// checkState refuses checkpoint bookkeeping that no run of this configuration writes, so a
// damaged or foreign checkpoint stops the resume with a message instead of a crash deep in
// a loop (a negative iteration indexes the sampler's permutation).
func checkState(st ckState, iters map[string]int) error {
	if st.Loop != "" {
		n, ok := iters[st.Loop]
		if !ok {
			return fmt.Errorf("checkpoint is inside loop %q, which this run does not have", st.Loop)
		}
		if st.Iter < 0 || st.Iter > n {
			return fmt.Errorf("checkpoint is at iteration %d of %s, which has %d", st.Iter, st.Loop, n)
		}
	} else if st.Iter != 0 {
		return fmt.Errorf("checkpoint is at iteration %d of no loop", st.Iter)
	}
	for _, d := range st.Done {
		if _, ok := iters[d]; !ok && rundir.StageIndex(d) < 0 {
			return fmt.Errorf("checkpoint says stage %q is done, which this run does not have", d)
		}
	}
	if st.MetricsSize < 0 {
		return fmt.Errorf("checkpoint records a metrics.jsonl of %d bytes", st.MetricsSize)
	}
	for name, n := range st.Counts {
		if n < 0 || n > rundir.MaxIters {
			return fmt.Errorf("checkpoint counters: %s %d, want 0 to %d", name, n, rundir.MaxIters)
		}
	}
	if v := st.Best.Valid; !(v >= 0 && v <= 1) {
		return fmt.Errorf("checkpoint best validation accuracy %v: want a share in [0, 1]", v)
	}
	for s, sec := range st.StageSeconds {
		if !(sec >= 0) || math.IsInf(sec, 0) {
			return fmt.Errorf("checkpoint says stage %q took %v seconds", s, sec)
		}
	}
	return nil
}
