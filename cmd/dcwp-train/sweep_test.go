package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/report"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// asTrain makes the test binary dcwp-train itself when a sweep starts it (its runs, its
// Slurm tasks): sweeps start os.Executable(), which in a test is this binary.
const asTrain = "DCWP_TEST_AS_DCWP_TRAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asTrain) == "1" {
		os.Exit(run(os.Args, os.Stderr))
	}
	os.Exit(m.Run())
}

var fixtureData = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dcwp-sweep-fixture-")
	if err != nil {
		return "", err
	}
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

// summaries reads every run's summary.json without the figures that depend on the clock.
func summaries(t *testing.T, out string) map[string]rundir.Summary {
	t.Helper()
	p, ok, err := sweep.ReadPlan(out)
	if err != nil || !ok {
		t.Fatalf("plan of %s: %v", out, err)
	}
	got := map[string]rundir.Summary{}
	for _, r := range p.Runs {
		b, err := os.ReadFile(filepath.Join(sweep.Dir(out, r), rundir.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var s rundir.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		s.StageSeconds, s.PeakMemoryMB, s.Profile = nil, 0, nil
		got[r.Name] = s
	}
	return got
}

// A sweep killed at a random moment (sweep and runs at once, as a lost terminal would) and
// started again with --resume ends with the summaries of an uninterrupted sweep; a rerun
// after that finishes nothing, since nothing is missing.
func TestSweepKilledAndResumed(t *testing.T) {
	args := append(tinyArgs(t), "--seed", "1,2", "--jobs", "2")
	dir := t.TempDir()
	whole, killed := filepath.Join(dir, "whole"), filepath.Join(dir, "killed")
	if code, stderr := sweepRun(t, append(args, "--out", whole)...); code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d\n%s", code, stderr)
	}

	cmd := exec.Command(os.Args[0], append([]string{"sweep"}, append(args, "--out", killed)...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// once a checkpoint exists, somewhere in the next half second
	deadline := time.Now().Add(time.Minute)
	for {
		if m, _ := filepath.Glob(filepath.Join(killed, "*", rundir.CheckpointDir)); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	p, _, _ := sweep.ReadPlan(killed)
	for deadline := time.Now().Add(10 * time.Second); sweep.Counts(sweep.InspectAll(killed, p))[sweep.Running] > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) { // SIGKILL takes its time to land on every process of the group
			t.Fatal("runs still running 10 s after SIGKILL")
		}
	}

	if code, stderr := sweepRun(t, append(args, "--out", killed)...); code != exit.Usage || !strings.Contains(stderr, "pass --resume") {
		t.Fatalf("restart without --resume: exit %d, want %d and a pointer to --resume\n%s", code, exit.Usage, stderr)
	}
	if code, stderr := sweepRun(t, append(args, "--out", killed, "--resume")...); code != 0 {
		t.Fatalf("resumed sweep: exit %d\n%s", code, stderr)
	}
	if a, b := summaries(t, whole), summaries(t, killed); !reflect.DeepEqual(a, b) {
		t.Fatalf("summaries differ:\nuninterrupted %+v\nkilled+resumed %+v", a, b)
	}
	before, _ := os.Stat(filepath.Join(killed, "seed=1", rundir.SummaryFile))
	code, stderr := sweepRun(t, append(args, "--out", killed)...)
	after, _ := os.Stat(filepath.Join(killed, "seed=1", rundir.SummaryFile))
	if code != 0 || !strings.Contains(stderr, "0 of 2 runs to do") || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("rerun of a finished sweep: exit %d, summary rewritten %v\n%s", code, !after.ModTime().Equal(before.ModTime()), stderr)
	}
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
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
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
