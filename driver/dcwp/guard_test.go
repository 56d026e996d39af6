package dcwp

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
)

// snapshot is every file under dir, by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

func copyRun(t *testing.T) string {
	t.Helper()
	ref, err := uninterrupted()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(out, os.DirFS(ref)); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefusedBeforeWriting: settings, data and run directories the run cannot use are
// refused as bad input, and the run directory is left byte for byte as it was.
func TestRefusedBeforeWriting(t *testing.T) {
	cases := []struct {
		name   string
		fresh  bool // an empty directory instead of a copy of a finished run
		setup  func(t *testing.T, out string)
		edit   func(c *rundir.Config)
		resume bool
		want   string
		usage  bool
	}{
		{"batch larger than the split", true, nil, func(c *rundir.Config) { c.BatchSize = 500 }, false,
			"batch size 500 is larger than the 162 samples", true},
		{"new run over a finished run", false, nil, func(c *rundir.Config) {}, false, "already holds a run with a checkpoint", true},
		{"new run over a finished run, wrong data", false, nil, func(c *rundir.Config) { c.Data = t.TempDir() }, false, "loading cmnist", true},
		{"rerun with wrong data", false, nil, func(c *rundir.Config) { c.Data, c.Stages = t.TempDir(), []string{rundir.StageFinetune} }, false, "loading cmnist", true},
		{"rerun without a checkpoint", false, func(t *testing.T, out string) { os.RemoveAll(filepath.Join(out, rundir.CheckpointDir)) },
			func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "holds no run whose earlier stages are done", true},
		{"rerun before pre-training finished", false, func(t *testing.T, out string) { rewriteState(t, out, `{"loop":"pretrain","iter":5}`) },
			func(c *rundir.Config) { c.Stages = []string{rundir.StagePrune, rundir.StageFinetune} }, false, "stage pretrain of the run", true},
		{"resume from a foreign loop", false, func(t *testing.T, out string) { rewriteState(t, out, `{"loop":"train","iter":5}`) },
			func(c *rundir.Config) {}, true, `inside loop "train"`, true},
		{"resume past the loop's end", false, func(t *testing.T, out string) { rewriteState(t, out, `{"loop":"prune","iter":41}`) },
			func(c *rundir.Config) {}, true, "iteration 41 of prune, which has 40", true},
		{"resume at a negative iteration", false, func(t *testing.T, out string) { rewriteState(t, out, `{"loop":"prune","iter":-5}`) },
			func(c *rundir.Config) {}, true, "iteration -5 of prune", true},
		{"resume with stages []", false, func(t *testing.T, out string) {
			b, _ := os.ReadFile(filepath.Join(out, rundir.ConfigFile))
			os.WriteFile(filepath.Join(out, rundir.ConfigFile), bytes.Replace(b, []byte(`"stages": [`), []byte(`"stages": [],"x":[`), 1), 0o644)
		}, func(c *rundir.Config) {}, true, "no stage given", true},
		{"metrics.jsonl a FIFO", false, fifoAt(rundir.MetricsFile), func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "metrics.jsonl is a FIFO", true},
		{"run.json a FIFO", false, fifoAt(rundir.RunFile), func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "run.json is a FIFO", true},
		{"config.json a directory", false, func(t *testing.T, out string) {
			os.Remove(filepath.Join(out, rundir.ConfigFile))
			os.Mkdir(filepath.Join(out, rundir.ConfigFile), 0o755)
		}, func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "config.json is a directory", true},
		{"rerun without the pruning mask", false, func(t *testing.T, out string) { os.Remove(filepath.Join(out, rundir.MaskFile)) },
			func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "mask.safetensors is missing: stage prune", true},
		{"rerun without the mined flags", false, func(t *testing.T, out string) { os.Remove(filepath.Join(out, rundir.MinedFile)) },
			func(c *rundir.Config) { c.Stages = []string{rundir.StagePrune} }, false, "mined.safetensors is missing: stage mine", true},
		{"checkpoint a file", false, func(t *testing.T, out string) {
			os.RemoveAll(filepath.Join(out, rundir.CheckpointDir))
			os.WriteFile(filepath.Join(out, rundir.CheckpointDir), []byte("x"), 0o644)
		}, func(c *rundir.Config) { c.Stages = []string{rundir.StageFinetune} }, false, "checkpoint is not a directory", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			if !c.fresh {
				out = copyRun(t)
			}
			if c.setup != nil {
				c.setup(t, out)
			}
			before := snapshot(t, out)
			cfg := tinyConfig(t, testData, "clean")
			c.edit(&cfg)
			_, err := Run(Options{Config: cfg, Out: out, Resume: c.resume})
			if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrBadInput) != c.usage {
				t.Fatalf("error %v, want one saying %q (bad input: %v)", err, c.want, c.usage)
			}
			after := snapshot(t, out)
			for name, b := range before {
				if after[name] != b {
					t.Errorf("%s changed", name)
				}
			}
			if len(after) != len(before) {
				t.Errorf("files before %d, after %d", len(before), len(after))
			}
		})
	}
}

// rewriteState replaces the bookkeeping of the run's checkpoint, keeping its tensors.
func rewriteState(t *testing.T, out, state string) {
	t.Helper()
	_, ts, ok, err := readCheckpoint(out)
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	st, err := parseState(map[string]string{"state": state})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeCheckpoint(out, st, ts); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterCutMetrics: a metrics.jsonl cut mid-row is cut back to its last whole row
// on resume, so every row of the resumed file parses and the rows before the cut are kept.
func TestResumeAfterCutMetrics(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(t, testData, "clean")
	if _, err := Run(Options{Config: cfg, Out: out, StopLoop: rundir.StageFinetune, StopAfter: 10}); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopping in finetune: %v", err)
	}
	p := filepath.Join(out, rundir.MetricsFile)
	full, _ := os.ReadFile(p)
	cut := len(full) * 2 / 3
	if full[cut-1] == '\n' {
		cut--
	}
	os.WriteFile(p, full[:cut], 0o644)
	var log strings.Builder
	if _, err := Run(Options{Config: tinyConfig(t, testData, "clean"), Out: out, Resume: true, Log: &log}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	whole := rundir.WholeRows(full[:cut])
	if !bytes.HasPrefix(got, full[:whole]) || len(got) <= whole {
		t.Fatalf("resumed metrics.jsonl does not continue the whole rows before the cut")
	}
	if _, err := rundir.ParseMetrics(got); err != nil {
		t.Fatalf("resumed metrics.jsonl: %v", err)
	}
	if !strings.Contains(log.String(), "rows after byte") {
		t.Fatalf("no warning about the lost rows:\n%s", log.String())
	}
}

// TestStaleTempRemoved: temporary files that killed writes left are removed by the next run
// of the directory, others are left alone.
func TestStaleTempRemoved(t *testing.T) {
	out := copyRun(t)
	stale := []string{".config.json.tmp-3k2j1", filepath.Join(rundir.CheckpointDir, ".state.safetensors.tmp-zz9a"),
		filepath.Join(rundir.PlotsDir, ".loss-prune.png.tmp-1")}
	keep := []string{".hidden", "notes.tmp-1", ".x.tmp-NOTBASE36"}
	for _, f := range append(stale, keep...) {
		os.WriteFile(filepath.Join(out, f), []byte("partial"), 0o644)
	}
	cfg := tinyConfig(t, testData, "clean")
	cfg.Stages = []string{rundir.StageFinetune}
	if _, err := Run(Options{Config: cfg, Out: out}); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s removed", f)
		}
	}
}

func TestCheckState(t *testing.T) {
	iters := map[string]int{rundir.StagePretrain: 20, rundir.LoopMiningModel: 15, rundir.StagePrune: 40, rundir.StageFinetune: 20}
	cases := []struct{ state, want string }{
		{`{"loop":"prune","iter":40,"done":["pretrain-miner","pretrain","mine"]}`, ""},
		{`{}`, ""},
		{`{"loop":"prune","iter":41}`, "iteration 41 of prune, which has 40"},
		{`{"loop":"pretrain-miner","iter":-1}`, "iteration -1 of pretrain-miner"},
		{`{"loop":"","iter":3}`, "iteration 3 of no loop"},
		{`{"loop":"sgd"}`, `inside loop "sgd"`},
		{`{"done":["pretrain","magic"]}`, `stage "magic" is done`},
		{`{"metrics_size":-1}`, "metrics.jsonl of -1 bytes"},
		{`{"ints":{"prune_steps":-4}}`, "checkpoint counters"},
		{`{"floats":{"best_valid":1.5}}`, "best validation accuracy 1.5"},
		{`{"stage_seconds":{"prune":-1}}`, `stage "prune" took -1 seconds`},
	}
	for _, c := range cases {
		st, err := parseState(map[string]string{"state": c.state})
		if err == nil {
			err = checkState(st, iters)
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", c.state, err, c.want)
		}
	}
	if _, err := parseState(map[string]string{}); err == nil || !strings.Contains(err.Error(), "not a dcwp-train checkpoint") {
		t.Errorf("no state: %v", err)
	}
}

// FuzzParseState: the checkpoint's bookkeeping, read back on every resume, is refused or
// accepted, never a panic; what checkState accepts resumes inside the loops' bounds.
func FuzzParseState(f *testing.F) {
	f.Add(`{"loop":"prune","iter":10,"done":["pretrain-miner","pretrain","mine"],"metrics_size":100}`)
	iters := map[string]int{rundir.StagePretrain: 20, rundir.LoopMiningModel: 15, rundir.StagePrune: 40, rundir.StageFinetune: 20}
	f.Fuzz(func(t *testing.T, state string) {
		st, err := parseState(map[string]string{"state": state})
		if err != nil || checkState(st, iters) != nil {
			return
		}
		if st.Loop != "" && (st.Iter < 0 || st.Iter > iters[st.Loop]) || st.MetricsSize < 0 || st.StageSeconds == nil {
			t.Fatalf("accepted %+v", st)
		}
	})
}

// fifoAt is a setup that replaces the run's file name with a FIFO.
func fifoAt(name string) func(t *testing.T, out string) {
	return func(t *testing.T, out string) {
		p := filepath.Join(out, name)
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
