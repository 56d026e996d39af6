package dcwp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/plot"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// Options of one dcwp-train run.
type Options struct {
	Config rundir.Config // effective settings (ignored on resume: the run's config.json wins)
	Out    string        // run directory
	Resume bool          // continue from Out/checkpoint
	Log    io.Writer     // progress and messages
	Bar    bool          // draw progress bars (a terminal) instead of periodic lines
	// StopAfter, when set, makes the run exit with ErrStopped after that many training
	// iterations of the named loop have run and been checkpointed (tests of resume).
	StopLoop  string
	StopAfter int
	// AfterIter, when set, is called after every training iteration (tests slow a run down
	// with it to kill it at a known point).
	AfterIter func(loop string, iter int)
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
	metricsF *os.File
	summary  rundir.Summary
	flags    []bool    // mined flags, train order
	curStage string    // stage whose wall time is being counted
	segStart time.Time // start of the not yet counted part of curStage
}

// Run executes the configured stages and returns the summary.
func Run(o Options) (*rundir.Summary, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	defer torch.Pin(o.Config.Threads)() // every op of the run on one OS thread, with its count (kept on --resume)
	r := &runner{o: o}
	if err := r.setup(); err != nil {
		return nil, err
	}
	defer r.metricsF.Close()
	return r.run()
}

func (r *runner) logf(format string, args ...any) { fmt.Fprintf(r.o.Log, format+"\n", args...) }

func (r *runner) path(name string) string { return filepath.Join(r.o.Out, name) }

func (r *runner) setup() error {
	o := r.o
	if o.Out == "" {
		return errors.New("no run directory given (--out)")
	}
	cfg := o.Config
	if o.Resume {
		var saved rundir.Config
		if err := atomicfile.ReadJSON(r.path(rundir.ConfigFile), &saved); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		// device and threads may change on resume; every other setting is the run's own.
		saved.Device, saved.Threads = cfg.Device, cfg.Threads
		if cfg.Data != "" {
			saved.Data = cfg.Data
		}
		cfg = saved
	}
	if err := Validate(&cfg); err != nil {
		return err
	}
	r.c = &cfg
	dev, err := torch.ParseDevice(cfg.Device)
	if err != nil {
		return err
	}
	r.dev = dev
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	if r.arch, err = arch.ForRun(cfg.Model, cfg.Dataset, cfg.AsCoded()); err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	r.st.fillMaps()
	if o.Resume {
		st, ts, ok, err := readCheckpoint(o.Out)
		if err != nil {
			return err
		}
		if ok {
			r.st, r.resumeTs = st, ts
			r.st.fillMaps()
			r.logf("resuming %s: done %v; %s at iteration %d", o.Out, r.st.Done, r.st.Loop, r.st.Iter)
		} else {
			r.logf("resuming %s: no checkpoint, starting from the beginning", o.Out)
		}
		if err := truncateMetrics(r.path(rundir.MetricsFile), r.st.MetricsSize); err != nil {
			return err
		}
	} else {
		st, _, ok, err := readCheckpoint(o.Out)
		if err != nil {
			return err
		}
		switch {
		case ok && cfg.Stages[0] == StagePretrain:
			return fmt.Errorf("%s already holds a run with a checkpoint: pass --resume to continue it, or choose another --out", o.Out)
		case ok:
			// rerun later stages of an existing run: forget them (and what follows) as done
			first := stageIndex(cfg.Stages[0])
			var keep []string
			for _, d := range st.Done {
				if i := stageIndex(d); i < 0 || i < first {
					keep = append(keep, d)
				}
			}
			r.st.Done, r.st.StageSeconds = keep, st.StageSeconds
			r.st.fillMaps()
			// A rerun replaces those stages: their old times and curves would add to the new ones.
			for s := range r.st.StageSeconds {
				if stageIndex(s) >= first {
					delete(r.st.StageSeconds, s)
				}
			}
			if err := dropMetrics(r.path(rundir.MetricsFile), first); err != nil {
				return err
			}
			r.logf("%s: rerunning %v on the existing run (done before: %v)", o.Out, cfg.Stages, keep)
		default:
			os.Remove(r.path(rundir.MetricsFile))
		}
		if err := atomicfile.WriteJSON(r.path(rundir.ConfigFile), cfg); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(r.path(rundir.MetricsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	r.metricsF = f
	return r.loadData()
}

func truncateMetrics(path string, size int64) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Size() > size {
		return os.Truncate(path, size)
	}
	return nil
}

// dropMetrics removes the rows that stages first, first+1, … wrote to metrics.jsonl.
func dropMetrics(path string, first int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var kept [][]byte
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var row struct{ Stage string }
		if err := json.Unmarshal(line, &row); err != nil {
			return fmt.Errorf("%s line %d: %w", path, n+1, err)
		}
		if stageIndex(metricStage(row.Stage)) < first {
			kept = append(kept, line)
		}
	}
	return atomicfile.Write(path, func(w *bufio.Writer) error {
		for _, line := range kept {
			w.Write(line)
			w.WriteByte('\n')
		}
		return nil
	})
}

func (r *runner) loadData() error {
	c := r.c
	if c.Data == "" {
		return errors.New("no data folder given (--data)")
	}
	var err error
	load := func(split string) (*dataset.Split, error) {
		s, err := dataset.Load(c.Data, c.Dataset, c.ConflictPct, split)
		if err != nil {
			return nil, fmt.Errorf("loading %s %s split from %s: %w", c.Dataset, split, c.Data, err)
		}
		if got := s.InputShape(); got != r.arch.Input {
			return nil, fmt.Errorf("%s %s split: images are %v, model %s wants %v", c.Dataset, split, got, c.Model, r.arch.Input)
		}
		return s, nil
	}
	if r.train, err = load(dataset.Train); err != nil {
		return err
	}
	if r.valid, err = load(dataset.Valid); err != nil {
		return err
	}
	if r.test, err = load(dataset.Test); err != nil {
		return err
	}
	r.logf("data: %s %s%%: train %d (%d conflicting), valid %d, test %d", c.Dataset, c.ConflictPct,
		r.train.Len(), r.train.NumConflicting(), r.valid.Len(), r.test.Len())
	return nil
}

func (r *runner) metric(m rundir.Metric) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = r.metricsF.Write(append(b, '\n'))
	return err
}

func (r *runner) wants(stage string) bool { return slices.Contains(r.c.Stages, stage) }

func (r *runner) run() (*rundir.Summary, error) {
	c := r.c
	stages := c.Stages
	if c.Mode == "vanilla" {
		stages = []string{StagePretrain}
	}
	r.summary.StageSeconds = r.st.StageSeconds
	var err error
	last := stages[len(stages)-1]
	for _, stage := range AllStages {
		run := slices.Contains(stages, stage) && !r.st.done(stage)
		if !run && !slices.Contains(stages, stage) && stageIndex(stage) > stageIndex(last) {
			break
		}
		r.curStage, r.segStart = stage, time.Now()
		switch stage {
		case StagePretrain:
			if run {
				err = r.pretrain()
			}
		case StageMine:
			if run {
				err = r.mine()
			} else {
				err = r.loadMined()
			}
		case StagePrune:
			if run {
				err = r.prune()
			}
		case StageFinetune:
			if run {
				err = r.finetune()
			}
		}
		if err != nil {
			return nil, err
		}
		if run {
			if err := r.markDone(stage); err != nil {
				return nil, err
			}
		}
		r.curStage = ""
	}
	return r.finish(last)
}

func stageIndex(s string) int { return slices.Index(AllStages, s) }

// saveState writes the checkpoint with the given loop tensors.
func (r *runner) saveState(ts map[string]tensor.Tensor) error {
	if err := r.metricsF.Sync(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	st, err := r.metricsF.Stat()
	if err != nil {
		return err
	}
	r.st.MetricsSize = st.Size()
	if r.curStage != "" {
		r.st.StageSeconds[r.curStage] += time.Since(r.segStart).Seconds()
		r.segStart = time.Now()
	}
	return writeCheckpoint(r.o.Out, r.st, ts)
}

// newNet builds a network initialised from (seed, role).
func (r *runner) newNet(role string) (*model.Net, error) {
	h := uint64(r.c.Seed)
	for _, b := range []byte(role) {
		h = h*1099511628211 ^ uint64(b)
	}
	return model.New(r.arch, r.dev, h)
}

func (r *runner) loadNet(file string) (*model.Net, error) {
	ts, _, err := tensor.ReadFile(r.path(file))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing in %s: run the stage that writes it (--stages)", file, r.o.Out)
		}
		return nil, err
	}
	n, err := r.newNet("load")
	if err != nil {
		return nil, err
	}
	if _, err := n.Load(ts, false); err != nil {
		n.Close()
		return nil, fmt.Errorf("%s: %w", r.path(file), err)
	}
	return n, nil
}

// batch turns sample indices into an input tensor, a label tensor and the host labels.
func (r *runner) batch(s *torch.Scope, sp *dataset.Split, idx []int, train bool, stream string, it int) (x, y *torch.Tensor, labels []int32) {
	x = pixels(s, sp, idx, train, rngFor(r.c.Seed, stream+"/aug", it), r.dev)
	labels = make([]int32, len(idx))
	y64 := make([]int64, len(idx))
	for k, i := range idx {
		labels[k] = sp.Labels[i]
		y64[k] = int64(sp.Labels[i])
	}
	y = s.FromInt64(y64, []int64{int64(len(idx))}, r.dev)
	return x, y, labels
}

// pixels is the network input for the samples idx: sp.Batch's values, scaled by libtorch
// where the transform leaves the stored bytes as they are. Scaling there, with the same
// division ToTensor does, gives the same floats as Batch at a fraction of the cost.
func pixels(s *torch.Scope, sp *dataset.Split, idx []int, train bool, rng *rand.Rand, dev torch.Device) *torch.Tensor {
	if px, shape, ok := sp.RawBatch(idx, train); ok {
		return s.DivScalar(s.ToFloat(s.FromUint8(px, dims(shape), dev)), 255)
	}
	data, shape := sp.Batch(idx, train, rng)
	return s.FromFloat32(data, dims(shape), dev)
}

func dims(shape [4]int) []int64 {
	return []int64{int64(shape[0]), int64(shape[1]), int64(shape[2]), int64(shape[3])}
}

// predict runs n over a split in eval mode and returns predictions and p(label).
func (r *runner) predict(n *model.Net, sp *dataset.Split, mask model.MaskMode) (pred []int32, py []float32, err error) {
	const bs = 500
	pred = make([]int32, 0, sp.Len())
	py = make([]float32, 0, sp.Len())
	for lo := 0; lo < sp.Len(); lo += bs {
		hi := min(lo+bs, sp.Len())
		idx := make([]int, hi-lo)
		for k := range idx {
			idx[k] = lo + k
		}
		s := torch.NewNoGradScope()
		x, y, _ := r.batch(s, sp, idx, false, "eval", 0)
		logits, _ := n.Run(s, x, model.Forward{Mask: mask})
		p := s.Gather(s.Softmax(logits, 1), 1, s.Unsqueeze(y, 1))
		lv := s.Float32s(logits)
		pv := s.Float32s(p)
		err := s.Err()
		s.Close()
		if err != nil {
			return nil, nil, err
		}
		pred = append(pred, metrics.Argmax(lv, r.arch.Classes)...)
		py = append(py, pv...)
	}
	return pred, py, nil
}

func (r *runner) evaluate(n *model.Net, sp *dataset.Split, mask model.MaskMode) (metrics.Accuracy, error) {
	pred, _, err := r.predict(n, sp, mask)
	if err != nil {
		return metrics.Accuracy{}, err
	}
	return metrics.Score(pred, sp.Labels, sp.Bias, r.arch.Classes), nil
}

// finish evaluates the networks, writes summary.json and the plots.
func (r *runner) finish(last string) (*rundir.Summary, error) {
	vanilla, err := r.loadNet(rundir.VanillaFile)
	if err != nil {
		return nil, err
	}
	defer vanilla.Close()
	r.logf("evaluating the vanilla network on valid and test")
	if r.summary.Vanilla.Valid, err = r.evaluate(vanilla, r.valid, model.NoMask); err != nil {
		return nil, err
	}
	if r.summary.Vanilla.Test, err = r.evaluate(vanilla, r.test, model.NoMask); err != nil {
		return nil, err
	}
	if r.flags != nil {
		r.summary.Mined = MinedScore(r.flags, r.conflict())
	}
	var ms map[string]tensor.Tensor
	if stageIndex(last) >= stageIndex(StagePrune) {
		if ms, _, err = tensor.ReadFile(r.path(rundir.MaskFile)); err != nil {
			return nil, err
		}
		r.summary.KeptRatio, r.summary.KeptPerLayer = rundir.KeptRatios(ms)
	}
	if stageIndex(last) >= stageIndex(StageFinetune) {
		n, err := r.loadNet(rundir.DCWPFile)
		if err != nil {
			return nil, err
		}
		defer n.Close()
		if err := n.SetMasks(ms); err != nil {
			return nil, err
		}
		r.logf("evaluating the DCWP subnetwork on valid and test")
		e := &rundir.Eval{}
		if e.Valid, err = r.evaluate(n, r.valid, model.FixedMask); err != nil {
			return nil, err
		}
		if e.Test, err = r.evaluate(n, r.test, model.FixedMask); err != nil {
			return nil, err
		}
		r.summary.DCWP = e
		if it, ok := r.st.Ints["selected_iter"]; ok {
			r.summary.SelectedIter = it
		}
	}
	r.summary.StageSeconds = r.st.StageSeconds
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.summary.PeakMemoryMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	if err := atomicfile.WriteJSON(r.path(rundir.SummaryFile), r.summary); err != nil {
		return nil, err
	}
	if err := r.plots(); err != nil {
		r.logf("warning: plots not drawn: %v", err)
	}
	return &r.summary, nil
}

func (r *runner) plots() error {
	ms, err := plot.ReadMetrics(r.path(rundir.MetricsFile))
	if err != nil {
		return err
	}
	_, err = plot.Metrics(ms, r.path(rundir.PlotsDir))
	return err
}

func (r *runner) conflict() []bool {
	c := make([]bool, r.train.Len())
	for i := range c {
		c[i] = r.train.Conflicting(i)
	}
	return c
}

// MinedScore compares mined flags with the true conflict labels.
func MinedScore(flags, conflict []bool) rundir.Mined {
	tp, fl, pos := 0, 0, 0
	for i, f := range flags {
		if f {
			fl++
			if conflict[i] {
				tp++
			}
		}
		if conflict[i] {
			pos++
		}
	}
	m := rundir.Mined{Flagged: fl}
	if fl > 0 {
		m.Precision = float64(tp) / float64(fl)
	}
	if pos > 0 {
		m.Recall = float64(tp) / float64(pos)
	}
	return m
}

func isBad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
