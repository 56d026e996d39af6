package dcwp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/plot"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

func tinyConfig(t testing.TB, data string, variant rundir.Variant) rundir.Config {
	c, err := tinyConfigErr(data, variant)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tinyConfigErr is tinyConfig for callers outside a test (the child process, a OnceValues),
// where a t.Fatal could not stop anything.
func tinyConfigErr(data string, variant rundir.Variant) (rundir.Config, error) {
	c, err := Preset("quick", "cmnist", dataset.MustShare("1"), "mlp", variant)
	if err != nil {
		return c, err
	}
	c.Data, c.Variant, c.Threads, c.Seed = data, variant, 1, 3
	c.BatchSize = 16
	c.MiningModel.Iters, c.MiningModel.StepSize = 15, 10
	c.Pretrain.Iters, c.Prune.Iters, c.Finetune.Iters = 20, 40, 20
	c.EvalEvery, c.CheckpointEvery = 10, 5
	c.Miner = "oracle"
	return c, nil
}

var testData string

// uninterrupted runs the child's configuration once, without interruption, for the resume
// and disk-full tests to compare against; its directory sits inside testData.
var uninterrupted = sync.OnceValues(func() (string, error) {
	out := filepath.Join(testData, "uninterrupted-run")
	cfg, err := tinyConfigErr(testData, "clean")
	if err != nil {
		return "", err
	}
	_, err = Run(Options{Config: cfg, Out: out})
	return out, err
})

// childRun trains in a separate process. The resume test kills it during pruning; with
// DCWP_TEST_CHILD_FSIZE it caps the size of any file it writes from pruning iteration 12 on,
// as a disk that fills up between two checkpoints would.
func childRun(dir string) {
	cfg, err := tinyConfigErr(os.Getenv("DCWP_TEST_CHILD_DATA"), "clean")
	auto := os.Getenv("DCWP_TEST_CHILD_AUTO") != ""
	if auto { // TestResumeAfterKillUnderAuto: killed inside pre-training
		cfg, err = autoConfig(os.Getenv("DCWP_TEST_CHILD_DATA"), 0.5)
		cfg.Stages = []string{rundir.StagePretrain, rundir.StageMine}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		os.Exit(1)
	}
	limit, _ := strconv.ParseUint(os.Getenv("DCWP_TEST_CHILD_FSIZE"), 10, 64)
	_, err = Run(Options{Config: cfg, Out: dir, AfterIter: func(loop string, it int) {
		switch {
		case loop == rundir.StagePrune && limit > 0 && it == 12:
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
				fmt.Fprintln(os.Stderr, "setrlimit:", err)
				os.Exit(4)
			}
		case loop == rundir.StagePrune && limit == 0, loop == rundir.StagePretrain && auto:
			time.Sleep(40 * time.Millisecond)
		}
	}})
	fmt.Fprintln(os.Stderr, "child finished:", err)
	if err != nil {
		os.Exit(1)
	}
	os.Exit(3)
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("DCWP_TEST_CHILD_OUT"); dir != "" { // the process the resume and disk-full tests run
		childRun(dir)
	}
	dir, _ := os.MkdirTemp("", "dcwp-test-data")
	if err := fixture.CMNIST(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testData = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestRunModes(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *rundir.Config)
	}{
		{"clean", func(c *rundir.Config) {}},
		{"as-coded", func(c *rundir.Config) { c.Variant = "as-coded" }},
		{"wrong miner, one pre-training run", func(c *rundir.Config) { c.Miner, c.MiningModel = "wrong", nil }},
		{"ensemble miner, best-valid", func(c *rundir.Config) { c.Miner, c.MiningModel, c.Select = "ensemble", nil, "best-valid" }},
		{"cnn", func(c *rundir.Config) {
			c.Model = "cnn"
			c.Pretrain.Iters, c.Prune.Iters, c.Finetune.Iters = 4, 4, 4
			c.MiningModel.Iters = 2
		}},
		{"vanilla", func(c *rundir.Config) { c.Mode, c.Stages = "vanilla", []string{rundir.StagePretrain} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			cfg := tinyConfig(t, testData, "clean")
			c.edit(&cfg)
			sum, err := Run(Options{Config: cfg, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			files := []string{rundir.ConfigFile, rundir.SummaryFile, rundir.MetricsFile, rundir.VanillaFile}
			if cfg.Mode == "vanilla" {
				if sum.DCWP != nil {
					t.Fatal("vanilla mode reported a DCWP network")
				}
			} else {
				files = append(files, rundir.BiasedFile, rundir.DCWPFile, rundir.ScoresFile, rundir.MaskFile, rundir.MinedFile)
				if sum.DCWP == nil || sum.KeptRatio <= 0 || sum.KeptRatio > 1 {
					t.Fatalf("summary %+v", sum)
				}
				if cfg.Miner == "oracle" && (sum.Mined.Precision != 1 || sum.Mined.Recall != 1) {
					t.Fatalf("oracle mined %+v", sum.Mined)
				}
			}
			for _, f := range files {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Fatalf("missing %s", f)
				}
			}
			r, err := rundir.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Network(rundir.Vanilla); err != nil {
				t.Fatal(err)
			}
			if cfg.Mode != "vanilla" {
				if _, err := r.Network(rundir.DCWP); err != nil {
					t.Fatal(err)
				}
			}
			if r.Config.Variant != cfg.Variant {
				t.Fatalf("config variant %q", r.Config.Variant)
			}
			checkValidLogged(t, out, cfg.Stages)
			checkProfile(t, sum, cfg)
		})
	}
}

// checkProfile fails unless the summary splits each loop's time: its iterations, steps that
// took time, the validation passes, and parts that add up to no more than the loop's wall time.
func checkProfile(t *testing.T, sum *rundir.Summary, cfg rundir.Config) {
	t.Helper()
	loops := map[string]int{}
	for i, st := range rundir.Stages() {
		if cfg.Mode == rundir.ModeVanilla && i > 0 { // vanilla stops after the first stage
			break
		}
		for _, l := range st.Loops {
			if o := l.Optim(&cfg); o != nil {
				loops[l.Name] = o.Iters
			}
		}
	}
	if len(sum.Profile) != len(loops) {
		t.Fatalf("profile of %d loops %v, want %d", len(sum.Profile), sum.Profile, len(loops))
	}
	for name, iters := range loops {
		p := sum.Profile[name]
		parts := p.Step + p.Data + p.Eval + p.Checkpoint
		if p.Iters != iters || !(p.Step > 0) || !(p.Data > 0) || parts > p.Seconds*1.0001 {
			t.Errorf("profile of %s: %+v; want %d iterations, steps and data that took time, parts within the wall time", name, p, iters)
		}
		if name != rundir.LoopMiningModel && !(p.Eval > 0) { // the mining model's loop validates nothing
			t.Errorf("profile of %s: no evaluation time (%+v)", name, p)
		}
	}
}

// checkValidLogged fails unless metrics.jsonl holds a validation accuracy for each stage
// run that trains (its rows under the stage's own name).
func checkValidLogged(t *testing.T, run string, stages []string) {
	t.Helper()
	ms, err := plot.ReadMetrics(filepath.Join(run, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if m.Valid != nil {
			seen[m.Stage] = true
		}
	}
	for _, st := range rundir.Stages() {
		if len(st.Loops) > 0 && slices.Contains(stages, st.Name) && !seen[st.Name] {
			t.Errorf("metrics.jsonl has no validation accuracy for stage %s", st.Name)
		}
	}
}

func TestMinedScore(t *testing.T) {
	cases := []struct {
		name            string
		flags, conflict []bool
		want            rundir.Mined
	}{
		{"perfect", []bool{true, false, true}, []bool{true, false, true}, rundir.Mined{Flagged: 2, Precision: 1, Recall: 1}},
		{"half", []bool{true, true, false, false}, []bool{true, false, true, false}, rundir.Mined{Flagged: 2, Precision: 0.5, Recall: 0.5}},
		{"everything", []bool{true, true, true, true}, []bool{true, false, false, false}, rundir.Mined{Flagged: 4, Precision: 0.25, Recall: 1}},
		{"nothing", []bool{false, false}, []bool{true, false}, rundir.Mined{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MinedScore(c.flags, c.conflict); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *rundir.Config)
		want string
	}{
		{"unknown dataset", func(c *rundir.Config) { c.Dataset = "svhn" }, `unknown dataset "svhn"`},
		{"unknown model", func(c *rundir.Config) { c.Model = "vgg" }, `unknown model "vgg"`},
		{"unknown miner", func(c *rundir.Config) { c.Miner = "magic" }, `unknown miner "magic"`},
		{"bad layout", func(c *rundir.Config) { c.Data = t.TempDir() }, "dataset cmnist train: folder"},
		{"nan loss", func(c *rundir.Config) { c.LambdaSparse = 1e38 }, "stage prune: loss is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := tinyConfig(t, testData, "clean")
			c.edit(&cfg)
			_, err := Run(Options{Config: cfg, Out: t.TempDir()})
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestResumeAfterKill kills a real training process with SIGKILL during pruning, resumes it,
// and requires exactly the weights of an uninterrupted run.
func TestResumeAfterKill(t *testing.T) {
	ref, out, cmd := startChild(t)
	killedAt := killAtCheckpoint(t, cmd, out, rundir.StagePrune, 10)
	if _, err := os.Stat(filepath.Join(out, rundir.DCWPFile)); err == nil {
		t.Fatal("the child finished before it was killed")
	}
	if _, err := Run(Options{Config: tinyConfig(t, testData, "clean"), Out: out, Resume: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rundir.VanillaFile, rundir.BiasedFile, rundir.ScoresFile, rundir.MaskFile, rundir.DCWPFile, rundir.MinedFile} {
		if !sameFile(t, ref, out, f) {
			t.Fatalf("%s differs after kill at prune iteration %d and resume", f, killedAt)
		}
	}
	ma, _ := os.ReadFile(filepath.Join(ref, rundir.MetricsFile))
	mb, _ := os.ReadFile(filepath.Join(out, rundir.MetricsFile))
	if !bytes.Equal(ma, mb) {
		t.Fatalf("metrics.jsonl differs after resume:\n%s\n---\n%s", ma, mb)
	}
	t.Logf("killed at prune iteration %d; resumed run matches", killedAt)
}

// TestRerunReplacesStages reruns pruning and fine-tuning on a copy of a finished run, the
// stages typed in any order and repeated: they run in pipeline order, replace their earlier
// rows in metrics.jsonl instead of adding to them, and end with the same files and the same
// DCWP figures in summary.json as the first run.
func TestRerunReplacesStages(t *testing.T) {
	ref, err := uninterrupted()
	if err != nil {
		t.Fatal(err)
	}
	want := readSummary(t, ref)
	for _, stages := range [][]string{{rundir.StagePrune, rundir.StageFinetune}, {rundir.StageFinetune, rundir.StagePrune, rundir.StagePrune}} {
		t.Run(strings.Join(stages, ","), func(t *testing.T) {
			out := t.TempDir()
			if err := os.CopyFS(out, os.DirFS(ref)); err != nil {
				t.Fatal(err)
			}
			cfg := tinyConfig(t, testData, "clean")
			cfg.Stages = stages
			if _, err := Run(Options{Config: cfg, Out: out}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{rundir.MetricsFile, rundir.ScoresFile, rundir.MaskFile, rundir.DCWPFile} {
				if !sameFile(t, ref, out, f) {
					t.Errorf("%s differs after rerunning %v", f, stages)
				}
			}
			if idRef, _, _ := rundir.ReadID(ref); !sameID(t, out, idRef) {
				t.Errorf("rerunning %v changed the run id", stages)
			}
			got := readSummary(t, out)
			if got.DCWP == nil || !reflect.DeepEqual(*got.DCWP, *want.DCWP) || got.KeptRatio != want.KeptRatio || got.SelectedIter != want.SelectedIter {
				t.Errorf("summary after rerunning %v: DCWP %+v kept %v selected %d, want %+v %v %d",
					stages, got.DCWP, got.KeptRatio, got.SelectedIter, want.DCWP, want.KeptRatio, want.SelectedIter)
			}
		})
	}
}

func readSummary(t *testing.T, run string) rundir.Summary {
	t.Helper()
	var s rundir.Summary
	if err := atomicfile.ReadJSON(filepath.Join(run, rundir.SummaryFile), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDiskFullKeepsCheckpoint lets writes fail in a real training process between two
// checkpoints (RLIMIT_FSIZE: the kernel refuses to grow any file past the limit, as a full
// disk would), and requires a clear error, the earlier checkpoint intact, no temporary files
// left, and a resumed run that ends with the uninterrupted run's weights.
func TestDiskFullKeepsCheckpoint(t *testing.T) {
	ref, out, cmd := startChild(t, "DCWP_TEST_CHILD_FSIZE=65536") // smaller than a checkpoint, larger than metrics.jsonl
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{"stage prune, iteration 15: checkpoint (the previous one is intact)", "state.safetensors", "file too large"} {
		if !strings.Contains(stderr.String(), want) {
			t.Fatalf("child's error lacks %q:\n%s", want, stderr.String())
		}
	}
	st, _, ok, err := readCheckpoint(out)
	if err != nil || !ok || st.Loop != rundir.StagePrune || st.Iter != 10 {
		t.Fatalf("checkpoint after the failed write: %+v ok=%v err=%v, want prune iteration 10", st, ok, err)
	}
	left, _ := filepath.Glob(filepath.Join(out, rundir.CheckpointDir, ".*tmp*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
	if _, err := Run(Options{Config: tinyConfig(t, testData, "clean"), Out: out, Resume: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rundir.ScoresFile, rundir.MaskFile, rundir.DCWPFile} {
		if !sameFile(t, ref, out, f) {
			t.Fatalf("%s differs after a failed checkpoint write and resume", f)
		}
	}
}

// sameFile reports whether the file name holds the same bytes in two run directories
// (tensor files are deterministic: sorted names, fixed metadata), but for the run id in a
// tensor file's metadata: two runs have two ids.
func sameFile(t *testing.T, dirA, dirB, name string) bool {
	t.Helper()
	a, errA := os.ReadFile(filepath.Join(dirA, name))
	b, errB := os.ReadFile(filepath.Join(dirB, name))
	if errA != nil || errB != nil {
		t.Fatalf("%v; %v", errA, errB)
	}
	if strings.HasSuffix(name, ".safetensors") {
		return sameTensors(t, a, b)
	}
	return len(a) > 0 && bytes.Equal(a, b)
}

// sameID reports whether every network file of the run carries id, as run.json does.
func sameID(t *testing.T, run, id string) bool {
	t.Helper()
	got, _, err := rundir.ReadID(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rundir.VanillaFile, rundir.BiasedFile, rundir.MinedFile, rundir.ScoresFile, rundir.MaskFile, rundir.DCWPFile} {
		_, meta, err := tensor.ReadFile(filepath.Join(run, f))
		if err != nil {
			t.Fatal(err)
		}
		if meta[rundir.MetaRunID] != got {
			t.Errorf("%s has run id %q, run.json %q", f, meta[rundir.MetaRunID], got)
			return false
		}
	}
	return id != "" && got == id
}

func sameTensors(t *testing.T, a, b []byte) bool {
	ta, ma, errA := tensor.Decode(a)
	tb, mb, errB := tensor.Decode(b)
	if errA != nil || errB != nil {
		t.Fatalf("%v; %v", errA, errB)
	}
	if ma[rundir.MetaRunID] == "" || mb[rundir.MetaRunID] == "" {
		t.Fatalf("a tensor file without a run id: %v; %v", ma, mb)
	}
	delete(ma, rundir.MetaRunID)
	delete(mb, rundir.MetaRunID)
	return len(ta) > 0 && reflect.DeepEqual(ta, tb) && reflect.DeepEqual(ma, mb)
}

func TestPresetLambdaCon(t *testing.T) {
	cases := []struct {
		preset, model string
		variant       rundir.Variant
		wantModel     string
		want          float64
	}{
		{"paper", "cnn", rundir.Clean, "cnn", 0.05},
		{"paper", "", "", "cnn", 0.05}, // cnn is Colored MNIST's default model
		{"paper", "mlp", rundir.Clean, "mlp", mlpLambdaCon},
		{"paper", "mlp", rundir.AsCoded, "mlp", 0.05},
		{"quick", "", "", QuickModel, mlpLambdaCon},
		{"quick", "cnn", "", "cnn", 0.05}, // the preset follows the model asked for, not its default
		{"quick", "mlp", rundir.AsCoded, "mlp", 0.05},
	}
	for _, c := range cases {
		cfg, err := Preset(c.preset, "cmnist", dataset.MustShare("1"), c.model, c.variant)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.LambdaCon != c.want || cfg.Model != c.wantModel || cfg.Variant == "" {
			t.Errorf("%s %q %q: model %s λ_con %v variant %q, want model %s λ_con %v",
				c.preset, c.model, c.variant, cfg.Model, cfg.LambdaCon, cfg.Variant, c.wantModel, c.want)
		}
	}
}

// TestPixelsMatchBatch requires libtorch's scaling of the stored bytes to give exactly the
// floats dataset.Batch gives, for every byte value, and the float path where a transform
// resamples.
func TestPixelsMatchBatch(t *testing.T) {
	img := make([]uint8, 3*32*32)
	for i := range img {
		img[i] = uint8(i * 7)
	}
	cases := []struct {
		ds    string
		train bool
	}{{dataset.CMNIST, true}, {dataset.CIFAR10C, false}, {dataset.CIFAR10C, true}}
	for _, c := range cases {
		sp := &dataset.Split{Dataset: c.ds, C: 3, H: 32, W: 32, Classes: 10,
			Images: slices.Concat(img, img), Labels: []int32{0, 1}, Bias: []int32{0, 1}}
		s := torch.NewScope()
		idx := []int{1, 0}
		got := s.Float32s(pixels(s, sp, idx, c.train, rand.New(rand.NewPCG(4, 5)), torch.CPUDevice))
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		want, _ := sp.Batch(idx, c.train, rand.New(rand.NewPCG(4, 5)))
		if !slices.Equal(got, want) {
			t.Errorf("%s train=%v: pixels differs from Batch", c.ds, c.train)
		}
		s.Close()
	}
}

func TestDropMetrics(t *testing.T) {
	rows := `{"stage":"pretrain-miner","iter":1}
{"stage":"pretrain","iter":1}
{"stage":"prune","iter":1}
{"stage":"finetune","iter":1}
`
	cases := []struct {
		name, in, first, want, err string
	}{
		{"from prune", rows, rundir.StagePrune, `{"stage":"pretrain-miner","iter":1}
{"stage":"pretrain","iter":1}
`, ""},
		{"from finetune", rows, rundir.StageFinetune, strings.TrimSuffix(rows, `{"stage":"finetune","iter":1}`+"\n"), ""},
		{"empty file", "", rundir.StagePrune, "", ""},
		{"corrupt row", rows + "{oops\n", rundir.StagePrune, rows + "{oops\n", "line 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), rundir.MetricsFile)
			if err := os.WriteFile(path, []byte(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			err := (&metricsLog{path: path}).dropFrom(rundir.StageIndex(c.first))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %s and %q", err, path, c.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != c.want {
				t.Fatalf("kept\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestMetricRowOntoAFullDisk: a row that only part fits on the disk is taken back whole, so
// metrics.jsonl never ends in a row cut short (the fault matrix met one at a random moment).
func TestMetricRowOntoAFullDisk(t *testing.T) {
	mnt := fixture.Tmpfs(t, "16k")
	path := filepath.Join(mnt, rundir.MetricsFile)
	row := `{"stage":"pretrain","iter":1}` + "\n"
	before := strings.Repeat(row, 4050/len(row)) // a little less than the tmpfs's 4 KiB page
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = filler.Write(make([]byte, 4096))
	}
	filler.Close()
	m := &metricsLog{path: path}
	if err := m.open(); err != nil {
		t.Fatal(err)
	}
	defer m.close()
	big := rundir.Metric{Stage: rundir.StagePrune, Iter: 2, Loss: map[string]float64{"ce": 0.123456789, "sparse": 12345.6789, "supcon": 3.14159265, "total": 1.23456789}}
	err = m.append(big)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("metric onto a full disk: %v, want the disk full, naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != before {
		t.Fatalf("metrics.jsonl after the failed row ends in %q, want it as it was", got[max(0, len(got)-80):])
	}
}

// startChild returns the uninterrupted reference run's directory and a command that trains
// the tiny config into a new run directory in a child process (childRun), with env added.
func startChild(t *testing.T, env ...string) (ref, out string, cmd *exec.Cmd) {
	t.Helper()
	ref, err := uninterrupted()
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "DCWP_TEST_CHILD_OUT="+out, "DCWP_TEST_CHILD_DATA="+testData), env...)
	return ref, out, cmd
}

// TestEnsembleScoresMustFitTheData: mining refuses an ensemble score file whose length is
// not the training split's (another run's, or one made with other --data), naming it,
// instead of indexing past it or leaving samples unflagged.
func TestEnsembleScoresMustFitTheData(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(t, testData, "clean")
	cfg.Miner, cfg.MiningModel = "ensemble", nil
	cfg.Stages = []string{rundir.StagePretrain}
	if _, err := Run(Options{Config: cfg, Out: out}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, rundir.CheckpointDir, ensembleFile)
	if _, _, err := tensor.ReadFile(path); err != nil {
		t.Fatalf("pre-training wrote no ensemble scores: %v", err)
	}
	if err := tensor.WriteFile(path, map[string]tensor.Tensor{"score": tensor.F32([]float32{0.5, 0.9}, 2)}, map[string]string{"count": "1"}); err != nil {
		t.Fatal(err)
	}
	cfg.Stages = []string{rundir.StageMine}
	_, err := Run(Options{Config: cfg, Out: out})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "2 ensemble scores") {
		t.Fatalf("mining with a foreign score file: %v, want an error naming %s", err, path)
	}
}

// killAtCheckpoint starts cmd, a child run writing out, and kills it with SIGKILL once its
// checkpoint is at iteration min or later of loop; it returns that iteration.
func killAtCheckpoint(t *testing.T, cmd *exec.Cmd, out, loop string, min int) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	killedAt := -1
	for time.Now().Before(deadline) {
		st, _, ok, err := readCheckpoint(out)
		if err == nil && ok && st.Loop == loop && st.Iter >= min {
			cmd.Process.Signal(syscall.SIGKILL)
			killedAt = st.Iter
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Wait()
	if killedAt < 0 {
		t.Fatalf("the child never reached a %s checkpoint", loop)
	}
	return killedAt
}
