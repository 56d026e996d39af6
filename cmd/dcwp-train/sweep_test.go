package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/report"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// asTrain makes the test binary dcwp-train itself when a sweep starts it (its runs, its
// Slurm tasks): sweeps start os.Executable(), which in a test is this binary.
const asTrain = "DCWP_TEST_AS_DCWP_TRAIN"

// fixtureRoot holds the tiny dataset, made on first use; TestMain removes it (each run of
// the package used to leave one behind in the temporary folder).
var fixtureRoot string

func TestMain(m *testing.M) {
	if os.Getenv(asTrain) == "1" {
		os.Exit(run(os.Args, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "dcwp-sweep-fixture-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var fixtureData = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(fixtureRoot, "data")
	return dir, fixture.CMNIST(dir)
})

// tinyArgs are short runs on the fixture (seconds each); oracle mining needs no biased net.
func tinyArgs(t *testing.T) []string {
	t.Helper()
	data, err := fixtureData()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(asTrain, "1")
	return []string{"--dataset", "cmnist", "--data", data, "--model", "mlp", "--preset", "quick", "--batch-size", "16",
		"--pretrain-iters", "20", "--mining-model-iters", "15", "--mining-model-step", "10", "--prune-iters", "40", "--finetune-iters", "20",
		"--eval-every", "10", "--checkpoint-every", "5", "--miner", "oracle", "--no-progress"}
}

func sweepRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr strings.Builder
	code := run(append([]string{"dcwp-train", "sweep"}, args...), &stderr)
	return code, stderr.String()
}

func TestSweepBadInput(t *testing.T) {
	args := tinyArgs(t)
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("seed: [0, 1]\nlearning-rate: 0.1\n"), 0o644)
	other := filepath.Join(dir, "other")
	if code, stderr := sweepRun(t, append(args, "--seed", "0,1", "--out", other, "--launcher", "print")...); code != 0 {
		t.Fatalf("print: exit %d\n%s", code, stderr)
	}
	grid := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	runDir := filepath.Join(dir, "a-run")
	os.MkdirAll(runDir, 0o755)
	os.WriteFile(filepath.Join(runDir, rundir.ConfigFile), []byte(fixture.ConfigJSON), 0o644)
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"one run planned three times", []string{"--seed", "0,00,+0", "--out", filepath.Join(dir, "g")}, nil, exit.Usage,
			"runs seed=0 and seed=00 are the same run (--seed 0 and 00 give the same settings"},
		{"a share list on folder data", []string{"--dataset", "folder", "--data", folderManifest(t), "--conflict-pct", "1,5",
			"--out", filepath.Join(dir, "h")}, nil, exit.Usage, "dataset folder is not chosen by a conflict share"},
		{"one share in two spellings", []string{"--conflict-pct", "1,1.0", "--out", filepath.Join(dir, "h2")}, nil,
			exit.Usage, "are the same run"},
		{"second YAML document", []string{"--grid", grid("two.yaml", "seed: [0, 1]\n---\nmodel: cnn\n"), "--out", filepath.Join(dir, "i")}, nil,
			exit.Usage, "two.yaml:2: a second YAML document"},
		{"grid sets out", []string{"--grid", grid("out.yaml", "seed: [0, 1]\nout: runs/x\n"), "--out", filepath.Join(dir, "j")}, nil,
			exit.Usage, `out.yaml:2: "out" cannot be set in a grid: the sweep gives each run its folder`},
		{"grid sets resume", []string{"--grid", grid("resume.yaml", "resume: true\n"), "--out", filepath.Join(dir, "k")}, nil,
			exit.Usage, `"resume" cannot be set in a grid: pass --resume to dcwp-train sweep`},
		{"grid lists later stages", []string{"--grid", grid("stages.yaml", "stages: [pretrain, 'prune,finetune']\n"), "--out", filepath.Join(dir, "l")}, nil,
			exit.Usage, "run stages=prune-finetune: --stages prune,finetune: a sweep's runs are new run directories, so their stages start with pretrain"},
		{"out is a run directory", []string{"--seed", "0,1", "--out", runDir}, nil, exit.Usage, "is a run directory (it holds config.json), not a sweep folder"},
		{"flag after an argument", []string{"status", filepath.Join(dir, "m"), "--out", filepath.Join(dir, "m")}, nil, exit.Usage,
			"--out comes after the argument"},
		{"unknown flag in grid file", []string{"--grid", unknown, "--out", filepath.Join(dir, "a")}, nil, exit.Usage, `unknown.yaml:2: unknown flag "learning-rate"`},
		{"list on a single flag", []string{"--threads", "1,2", "--out", filepath.Join(dir, "b")}, nil, exit.Usage, "--threads takes one value for the whole sweep"},
		{"two grids in one folder", []string{"--seed", "5", "--out", other}, nil, exit.Usage, "holds another sweep"},
		{"setting dcwp-train refuses", []string{"--model", "mlp,vgg", "--out", filepath.Join(dir, "c")}, nil, exit.Usage, "run model=vgg"},
		{"no sbatch", []string{"--out", filepath.Join(dir, "d"), "--launcher", "slurm"}, map[string]string{"PATH": dir}, exit.Usage, "or use --launcher local"},
		{"unknown launcher", []string{"--out", filepath.Join(dir, "e"), "--launcher", "k8s"}, nil, exit.Usage, "want local, slurm or print"},
		{"too many jobs", []string{"--out", filepath.Join(dir, "f"), "--jobs", "1000"}, nil, exit.Usage, "--jobs 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, stderr := sweepRun(t, append(args, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, c.code, c.stderr, stderr)
			}
			if _, err := os.Stat(filepath.Join(runDir, sweep.PlanFile)); err == nil {
				t.Fatalf("%s written into the run directory %s", sweep.PlanFile, runDir)
			}
		})
	}
}

// A run that fails (here: no 2 % split in the fixture) leaves the others to finish; the
// sweep exits non-zero at the end, status and report name it failed with its log; a
// run folder of other settings is refused unless --force.
func TestSweepFailedRun(t *testing.T) {
	args := tinyArgs(t)
	out := filepath.Join(t.TempDir(), "s")
	code, stderr := sweepRun(t, append(args, "--conflict-pct", "2,1", "--out", out, "--jobs", "2")...)
	if code != exit.Failure || !strings.Contains(stderr, "1 of 2 runs did not finish") || !strings.Contains(stderr, "conflict-pct=2: failed") {
		t.Fatalf("exit %d, want %d naming the failed run:\n%s", code, exit.Failure, stderr)
	}
	p, _, _ := sweep.ReadPlan(out)
	st := sweep.InspectAll(out, p)
	if st[0].State != sweep.Failed || st[1].State != sweep.Done || st[0].Log != filepath.Join(out, "conflict-pct=2", sweep.LogFile) {
		t.Fatalf("states %s (%s) and %s", st[0].State, st[0].Log, st[1].State)
	}
	entries, err := report.Collect([]string{out})
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	report.Build(entries).Write(&md, "md")
	if !strings.Contains(md.String(), "conflict-pct=2: **failed**") || !strings.Contains(md.String(), st[0].Log) {
		t.Fatalf("report does not name the failed run and its log:\n%s", md.String())
	}

	// the done run's folder now holds other settings
	cfgPath := filepath.Join(out, "conflict-pct=1", rundir.ConfigFile)
	var cfg rundir.Config
	b, _ := os.ReadFile(cfgPath)
	json.Unmarshal(b, &cfg)
	cfg.LambdaCon = 42
	b, _ = json.Marshal(cfg)
	os.WriteFile(cfgPath, b, 0o644)
	code, stderr = sweepRun(t, append(args, "--conflict-pct", "2,1", "--out", out)...)
	if code != exit.Usage || !strings.Contains(stderr, "lambda_con is 42") || !strings.Contains(stderr, "--force") {
		t.Fatalf("folder of other settings: exit %d\n%s", code, stderr)
	}
}

// TestSweepBudget is the budget sweep of issue 28 in small (tiny runs, budgets 1 and 0.5,
// weight and channel, one seed): the sweep takes both lists, every run records its budget
// and the FLOPs its mask kept (at most the budget; budget 1 cuts nothing), and the report
// gives the kept FLOPs per group and draws its plot.
func TestSweepBudget(t *testing.T) {
	args := tinyArgs(t)
	out := filepath.Join(t.TempDir(), "budget")
	if code, stderr := sweepRun(t, append(args, "--mask-granularity", "weight,channel", "--target-flops", "1,0.5", "--out", out, "--jobs", "2")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	md := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	if code := run([]string{"dcwp-train", "report", "--out", md, out}, &stderr); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr.String())
	}
	if b, err := os.ReadFile(strings.TrimSuffix(md, ".md") + ".png"); err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("no PNG beside the report (%v)", err)
	}
	entries, err := report.Collect([]string{out})
	if err != nil {
		t.Fatal(err)
	}
	tb := report.Build(entries)
	seen := map[string]bool{}
	for _, r := range tb.Rows {
		set := map[string]string{}
		for _, s := range r.Settings {
			set[s.Key] = s.Value
		}
		var budget float64
		fmt.Sscan(set["target_flops"], &budget)
		seen[set["mask_granularity"]+" "+set["target_flops"]] = true
		if r.N != 1 || r.FLOPsKept == nil || r.FLOPsKept.Mean <= 0 || r.FLOPsKept.Mean > budget {
			t.Errorf("%s budget %s: %d runs, kept FLOPs %+v", set["mask_granularity"], set["target_flops"], r.N, r.FLOPsKept)
		}
	}
	for _, want := range []string{"weight 1", "weight 0.5", "channel 1", "channel 0.5"} {
		if !seen[want] {
			t.Errorf("no group %q in %v", want, seen)
		}
	}
}

// startSlurm starts the one-node Slurm of `just slurm-local` (idempotent: seconds when it
// runs) and points sbatch and squeue at its slurm.conf.
func startSlurm(t *testing.T) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join("..", "..", "tools", "slurm-local.sh"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tools/slurm-local.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	conf, ok := strings.CutPrefix(lines[len(lines)-1], "SLURM_CONF=")
	if !ok {
		t.Fatalf("tools/slurm-local.sh printed %q, want SLURM_CONF=... last", out)
	}
	t.Setenv("SLURM_CONF", conf)
}

// A real two-task Slurm array of short runs: submitted, waited for, each run's log and
// marker in its folder. Then an array held in the queue and cancelled: status says so,
// and the same sweep run again finishes it.
func TestSweepSlurm(t *testing.T) {
	startSlurm(t)
	args := append(tinyArgs(t), "--seed", "1,2", "--launcher", "slurm", "--slurm-cpus", "1", "--slurm-time", "5")
	out := filepath.Join(t.TempDir(), "slurm")
	if code, stderr := sweepRun(t, append(args, "--out", out, "--slurm-wait")...); code != 0 {
		t.Fatalf("slurm sweep: exit %d\n%s", code, stderr)
	}
	p, _, _ := sweep.ReadPlan(out)
	for _, s := range sweep.InspectAll(out, p) {
		if s.State != sweep.Done || s.Task == nil || s.Task.SlurmJob == "" || s.Log == "" {
			t.Fatalf("run %s: %s, task %+v, log %q", s.Run.Name, s.State, s.Task, s.Log)
		}
	}

	held := filepath.Join(t.TempDir(), "held")
	if code, stderr := sweepRun(t, append(args, "--out", held, "--slurm-arg=--hold")...); code != 0 {
		t.Fatalf("held sweep: exit %d\n%s", code, stderr)
	}
	jobs, err := sweep.ReadJobs(held)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %v, %v", jobs, err)
	}
	if o, err := exec.Command("scancel", jobs[0].ID).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, o)
	}
	p, _, _ = sweep.ReadPlan(held)
	var st []sweep.Status
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if st, err = sweep.Overview(t.Context(), held, p); err != nil {
			t.Fatal(err)
		}
		if sweep.Counts(st)[sweep.Cancelled] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after scancel: %s", sweep.CountLine(st))
		}
	}
	if code, stderr := sweepRun(t, append(args, "--out", held, "--slurm-wait")...); code != 0 {
		t.Fatalf("rerun of the cancelled sweep: exit %d\n%s", code, stderr)
	}
	if st, _ = sweep.Overview(t.Context(), held, p); sweep.Counts(st)[sweep.Done] != 2 {
		t.Fatalf("after the rerun: %s", sweep.CountLine(st))
	}
}

// folderManifest is the fixture as a --dataset folder CSV manifest with a bias column: its
// train and test images, no validation rows (dcwp-train carves them from train).
func folderManifest(t *testing.T) string {
	t.Helper()
	data, err := fixtureData()
	if err != nil {
		t.Fatal(err)
	}
	m := filepath.Join(data, "manifest.csv")
	if _, err := os.Stat(m); err == nil {
		return m
	}
	rows := []string{"path,label,split,bias"}
	for _, p := range []struct{ sub, split string }{{"1pct/align", "train"}, {"1pct/conflict", "train"}, {"test", "test"}} {
		s, err := dataset.LoadDir(filepath.Join(data, "cmnist", p.sub), "cmnist")
		if err != nil {
			t.Fatal(err)
		}
		for i, path := range s.Paths {
			rows = append(rows, fmt.Sprintf("%s,%d,%s,%d", path, s.Labels[i], p.split, s.Bias[i]))
		}
	}
	if err := atomicfile.Write(m, func(w *bufio.Writer) error { _, err := w.WriteString(strings.Join(rows, "\n") + "\n"); return err }); err != nil {
		t.Fatal(err)
	}
	return m
}

// A 2 × 2 sweep on --dataset folder: every run done (what a run reads from its data, its
// classes and carved validation split, is not a difference from the plan), status says so,
// a rerun has nothing to do, and the report averages two runs per row.
func TestSweepFolder(t *testing.T) {
	args := append(tinyArgs(t), "--dataset", "folder", "--data", folderManifest(t), "--seed", "1,2", "--lambda-con", "0.5,1",
		"--jobs", "2", "--threads", "1")
	out := filepath.Join(t.TempDir(), "folder")
	if code, stderr := sweepRun(t, append(args, "--out", out)...); code != 0 {
		t.Fatalf("folder sweep: exit %d\n%s", code, stderr)
	}
	p, _, _ := sweep.ReadPlan(out)
	st := sweep.InspectAll(out, p)
	if n := sweep.Counts(st)[sweep.Done]; n != 4 {
		t.Fatalf("%s, want 4 done", sweep.CountLine(st))
	}
	cfg, err := rundir.ReadConfig(st[0].Dir)
	if err != nil || cfg.DataSpec == nil || cfg.ValidSplit == nil {
		t.Fatalf("the runs read no data_spec and valid_split (%v): the test does not test the fix", err)
	}
	if code, stderr := sweepRun(t, append(args, "--out", out)...); code != 0 || !strings.Contains(stderr, "0 of 4 runs to do") {
		t.Fatalf("rerun of the finished sweep: exit %d\n%s", code, stderr)
	}
	entries, err := report.Collect([]string{out})
	if err != nil {
		t.Fatal(err)
	}
	tab := report.Build(entries)
	if len(tab.Rows) != 2 || tab.Rows[0].N != 2 || tab.Rows[1].N != 2 {
		var md strings.Builder
		tab.Write(&md, "md")
		t.Fatalf("report: want 2 rows of n = 2\n%s", md.String())
	}
}
