package dcwp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/progress"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// Options of one dcwp-train run.
type Options struct {
	Config   rundir.Config // effective settings (ignored on resume: the run's config.json wins)
	Out      string        // run directory
	Resume   bool          // continue from Out/checkpoint
	Log      io.Writer     // progress and messages
	Progress progress.Mode // how the training loops show progress on Log
	// StopAfter, when set, makes the run exit with ErrStopped after that many training
	// iterations of the named loop have run and been checkpointed (tests of resume).
	StopLoop  string
	StopAfter int
	// AfterIter, when set, is called after every training iteration (tests slow a run down
	// with it to kill it at a known point).
	AfterIter func(loop string, iter int)
	// Data is how the images are read (size, normalisation, validation split, cache).
	Data DataOptions
	// MemoryFormat lays out the networks' 4-D tensors (channels-last for the conv networks
	// where faster); it changes only summation order, so it may change on resume.
	MemoryFormat torch.MemoryFormat
	// Started is when the process began (zero: when Run was called); the summary's
	// wall_seconds counts from it.
	Started time.Time
}

// ErrStopped is returned when Options.StopAfter ends a run early on purpose.
var ErrStopped = errors.New("stopped on request")

type runner struct {
	o        Options
	c        *rundir.Config
	dev      torch.Device
	arch     *arch.Arch
	train    *dataset.Split
	valid    *dataset.Split
	test     *dataset.Split
	st       ckState
	resumeTs map[string]tensor.Tensor // tensors of the checkpoint being resumed (for st.Loop)
	stages   []stage                  // the pipeline, in order
	metrics  *metricsLog
	id       string // the run directory's id (rundir.RunFile), recorded in every file written
	summary  rundir.Summary
	flags    []bool    // mined flags, train order
	curStage string    // stage whose wall time is being counted
	segStart time.Time // start of the not yet counted part of curStage
	wallSeg  time.Time // start of the not yet counted part of the process's wall time
	prof     profile   // where each loop's time goes
}

// Run executes the configured stages and returns the summary.
func Run(o Options) (*rundir.Summary, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	defer torch.Pin(o.Config.Threads)() // every op of the run on one OS thread, with its count (kept on --resume)
	r := &runner{o: o, st: newState(), metrics: &metricsLog{path: filepath.Join(o.Out, rundir.MetricsFile)}, wallSeg: o.Started}
	if r.wallSeg.IsZero() {
		r.wallSeg = time.Now()
	}
	defer r.metrics.close()
	var err error
	if r.stages, err = r.pipeline(); err != nil {
		return nil, err
	}
	if err := r.setup(); err != nil {
		return nil, err
	}
	return r.run()
}

func (r *runner) logf(format string, args ...any) { fmt.Fprintf(r.o.Log, format+"\n", args...) }

func (r *runner) path(name string) string { return filepath.Join(r.o.Out, name) }

func (r *runner) setup() error {
	if r.o.Out == "" {
		return errors.New("no run directory given (--out)")
	}
	cfg, err := r.config()
	if err != nil {
		return badInput(err)
	}
	r.c = &cfg
	if r.dev, err = torch.ParseDevice(cfg.Device); err != nil {
		return err
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	// The data is read and checked before anything is written to --out; a folder dataset's
	// shape, classes and validation split go into the config.json written below.
	// Data the run cannot read or use is bad input, as in dcwp-eval (internal/exit).
	if err := r.loadData(); err != nil {
		return badInput(err)
	}
	if r.arch, err = r.c.Arch(); err != nil {
		return badInput(err)
	}
	if got := r.train.InputShape(); got != r.arch.Input {
		return badInput(fmt.Errorf("%s: images are %v, model %s wants %v", cfg.Dataset, got, cfg.Model, r.arch.Input))
	}
	if n := r.train.Len(); cfg.BatchSize > n {
		return badInput(fmt.Errorf("batch size %d is larger than the %d samples of the %s training split", cfg.BatchSize, n, cfg.Dataset))
	}
	old, ts, ok, err := r.checkDir()
	if err != nil {
		return badInput(err)
	}
	if err := r.checkPretrained(old); err != nil {
		return badInput(err)
	}
	if err := os.MkdirAll(r.o.Out, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	if err := r.removeStale(); err != nil {
		return err
	}
	if r.o.Resume {
		err = r.resume(old, ts, ok)
	} else {
		err = r.start(old, ok)
	}
	if err != nil {
		return err
	}
	// A fresh run replaces every network, so it gets a new id; a rerun or resume keeps it.
	if r.id, err = rundir.EnsureID(r.o.Out, !r.o.Resume && rundir.StageIndex(r.c.Stages[0]) == 0); err != nil {
		return err
	}
	return r.metrics.open()
}

// config is the run's effective configuration, checked, its stages in pipeline order: the
// options' own, or on resume the run's config.json.
func (r *runner) config() (rundir.Config, error) {
	cfg := r.o.Config
	if r.o.Resume {
		saved, err := rundir.ReadConfig(r.o.Out)
		if err != nil {
			return cfg, fmt.Errorf("--resume: %w", err)
		}
		// device and threads may change on resume; every other setting is the run's own.
		saved.Device, saved.Threads = cfg.Device, cfg.Threads
		if cfg.Data != "" {
			saved.Data = cfg.Data
		}
		cfg = saved
	}
	return cfg, cfg.Check()
}

// checkDir reads the run directory's checkpoint and refuses, before anything is written,
// a directory the run would damage or cannot continue.
func (r *runner) checkDir() (old ckState, ts map[string]tensor.Tensor, ok bool, err error) {
	if err := checkOutputs(r.o.Out, r.c.Pretrained); err != nil {
		return old, nil, false, err
	}
	if old, ts, ok, err = readCheckpoint(r.o.Out); err != nil {
		return old, nil, false, err
	}
	if ok {
		if err := checkState(old, r.loopIters()); err != nil {
			return old, nil, false, fmt.Errorf("%s: %w", ckPath(r.o.Out), err)
		}
	}
	return old, ts, ok, r.checkContinue(old, ok)
}

// resume continues from the run's checkpoint (st, ts), if it has one (ok).
func (r *runner) resume(st ckState, ts map[string]tensor.Tensor, ok bool) error {
	if ok {
		r.st, r.resumeTs = st, ts
		r.logf("resuming %s: done %v; %s at iteration %d", r.o.Out, r.st.Done, r.st.Loop, r.st.Iter)
	} else {
		r.logf("resuming %s: no checkpoint, starting from the beginning", r.o.Out)
	}
	return r.metrics.truncate(r.st.MetricsSize, r.logf)
}

// start begins a run, or reruns later stages of an existing one (st, ok: its checkpoint,
// checked by checkContinue), and writes its config.json.
func (r *runner) start(st ckState, ok bool) error {
	switch {
	case ok:
		if err := r.forgetFrom(st, rundir.StageIndex(r.c.Stages[0])); err != nil {
			return err
		}
	default:
		if err := r.metrics.remove(); err != nil {
			return err
		}
	}
	return atomicfile.WriteJSON(r.path(rundir.ConfigFile), *r.c)
}

// forgetFrom takes the earlier stages of an existing run as done and forgets stage first
// and what follows: a rerun replaces them, so their old times and curves would add to the new.
func (r *runner) forgetFrom(old ckState, first int) error {
	var keep []string
	for _, d := range old.Done {
		if i := rundir.StageIndex(d); i < 0 || i < first {
			keep = append(keep, d)
		}
	}
	r.st.Done, r.st.StageSeconds = keep, old.StageSeconds
	if slices.Contains(keep, rundir.StagePretrain) { // the length it chose, for summary.json
		if n, ok := old.Counts[countPretrainChosen]; ok {
			r.st.Counts[countPretrainChosen] = n
		}
	}
	for s := range r.st.StageSeconds {
		if rundir.StageIndex(s) >= first {
			delete(r.st.StageSeconds, s)
		}
	}
	if err := r.metrics.dropFrom(first); err != nil {
		return err
	}
	r.logf("%s: rerunning %v on the existing run (done before: %v)", r.o.Out, r.c.Stages, keep)
	return nil
}

// run goes through the pipeline up to the last stage asked for: a stage asked for and not
// done runs; mining's flags are read back when it is not run, for the stages after it.
func (r *runner) run() (*rundir.Summary, error) {
	stages := r.c.Stages
	if r.c.Mode == rundir.ModeVanilla {
		stages = []string{rundir.StagePretrain}
	}
	last := stages[len(stages)-1]
	for _, s := range upTo(r.stages, last) {
		if err := r.runStage(s, slices.Contains(stages, s.Name) && !r.st.done(s.Name)); err != nil {
			return nil, err
		}
	}
	return r.finish(last)
}

// runStage runs stage s, or when it is not to run (not asked for, or done) reads back what
// the later stages take from it.
func (r *runner) runStage(s stage, run bool) error {
	r.curStage, r.segStart = s.Name, time.Now()
	defer func() { r.curStage = "" }()
	if !run {
		if s.load != nil {
			return s.load()
		}
		return nil
	}
	if err := s.run(); err != nil {
		return err
	}
	return r.markDone(s.Name)
}
