package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// The fault matrix over sweeps: the sweep process alone, one of its runs, or the whole
// process group (a lost terminal) killed with SIGKILL at a seeded moment once a checkpoint
// exists. No run outlives its sweep (a run left going would finish unrecorded, or run beside
// the rerun); the rerun without --resume refuses to start a run over its checkpoint; with
// --resume every run ends byte-identical to an uninterrupted sweep's (tensors, metrics.jsonl,
// config.json, summary.json less its clock figures); a further rerun has nothing to do.
func TestFaultSweep(t *testing.T) {
	rng := faultRand(t)
	args := append(tinyArgs(t), "--seed", "1,2", "--jobs", "2")
	ref := filepath.Join(t.TempDir(), "ref")
	if code, stderr := sweepRun(t, append(args, "--out", ref)...); code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d\n%s", code, stderr)
	}
	cases := []struct {
		name  string
		delay time.Duration
		kill  func(t *testing.T, cmd *exec.Cmd, out string)
		code  int // the sweep's own exit status
	}{
		{"sweep", 0, func(t *testing.T, cmd *exec.Cmd, out string) { cmd.Process.Signal(syscall.SIGKILL) }, -1},
		{"run", 0, func(t *testing.T, cmd *exec.Cmd, out string) { syscall.Kill(runningPID(t, out), syscall.SIGKILL) }, exit.Failure},
		{"group", 0, func(t *testing.T, cmd *exec.Cmd, out string) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }, -1},
	}
	for i := range cases { // every moment drawn before any case runs: the seed replays them all
		cases[i].delay = time.Duration(rng.IntN(500)) * time.Millisecond
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "killed")
			cmd := exec.Command(os.Args[0], append([]string{"sweep"}, append(args, "--out", out)...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Minute, "a checkpoint", func() bool {
				m, _ := filepath.Glob(filepath.Join(out, "*", rundir.CheckpointDir))
				return len(m) > 0
			})
			time.Sleep(c.delay)
			running := runningPIDs(out)
			killed := time.Now()
			c.kill(t, cmd, out)
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("the sweep: exit %d, want %d\n%s", code, c.code, stderr.String())
			}
			t.Logf("killed %v after the first checkpoint", c.delay)
			p, _, _ := sweep.ReadPlan(out)
			waitFor(t, 10*time.Second, "every run to end with its sweep", func() bool {
				for _, s := range sweep.InspectAll(out, p) {
					if s.Task != nil && alive(s.Task.PID) {
						return false
					}
				}
				return true
			})
			st := sweep.InspectAll(out, p)
			t.Logf("after the kill: %s", sweep.CountLine(st))
			resume := false
			for _, s := range st {
				resume = resume || s.State != sweep.Done && s.HasCheckpoint()
			}
			if c.name == "sweep" { // its runs were stopped with it, not left to finish
				for dir := range running {
					sum, err := os.Stat(filepath.Join(dir, rundir.SummaryFile))
					if err == nil {
						if sum.ModTime().After(killed) {
							t.Errorf("the run in %s went on after its sweep died", dir)
						}
						continue
					}
					// one that had begun (config.json: its signal handler was set) says where it stopped
					log, _ := os.ReadFile(filepath.Join(dir, sweep.LogFile))
					if _, err := os.Stat(filepath.Join(dir, rundir.ConfigFile)); err == nil && !strings.Contains(string(log), "dcwp-train: stopped by SIGTERM") {
						t.Errorf("the run in %s did not say where it stopped when its sweep died:\n%s", dir, tail(string(log)))
					}
				}
			}
			code, errs := sweepRun(t, append(args, "--out", out)...)
			if resume && (code != exit.Usage || !strings.Contains(errs, "pass --resume")) {
				t.Fatalf("rerun without --resume: exit %d, want %d and a pointer to --resume\n%s", code, exit.Usage, errs)
			}
			if code, errs := sweepRun(t, append(args, "--out", out, "--resume")...); code != 0 {
				t.Fatalf("resumed sweep: exit %d\n%s", code, errs)
			}
			sameSweep(t, ref, out)
			if code, errs := sweepRun(t, append(args, "--out", out)...); code != 0 || !strings.Contains(errs, "0 of 2 runs to do") {
				t.Fatalf("rerun of the finished sweep: exit %d\n%s", code, errs)
			}
		})
	}
}

// runningPIDs are the processes of the runs of the sweep in out that are running, by folder.
func runningPIDs(out string) map[string]int {
	m, _ := filepath.Glob(filepath.Join(out, "*", sweep.TaskFile))
	pids := map[string]int{}
	for _, f := range m {
		var task sweep.Task
		if err := atomicfile.ReadJSON(f, &task); err == nil && task.State == sweep.Running {
			pids[filepath.Dir(f)] = task.PID
		}
	}
	return pids
}

// runningPID is the process of a run of the sweep in out that has a checkpoint.
func runningPID(t *testing.T, out string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(out, "*", rundir.CheckpointDir))
	for _, ck := range m {
		var task sweep.Task
		if err := atomicfile.ReadJSON(filepath.Join(filepath.Dir(ck), sweep.TaskFile), &task); err == nil && task.State == sweep.Running {
			return task.PID
		}
	}
	t.Fatalf("no run of %s is running with a checkpoint", out)
	return 0
}

// alive reports whether the process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z' && b[i+2] != 'X'
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, d)
		}
	}
}

// sameSweep fails unless every run of the sweep got holds the files of want's run of the
// same name, the same (sameContent), but for the sweep's own log and task files.
func sameSweep(t *testing.T, want, got string) {
	t.Helper()
	p, _, err := sweep.ReadPlan(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Runs {
		wf, gf := regularFiles(t, sweep.Dir(want, r)), regularFiles(t, sweep.Dir(got, r))
		for _, m := range []map[string][]byte{wf, gf} {
			delete(m, sweep.LogFile)
			delete(m, sweep.TaskFile)
		}
		if fmt.Sprint(keys(wf)) != fmt.Sprint(keys(gf)) {
			t.Fatalf("files of %s:\n%v\nwant those of the uninterrupted sweep's run:\n%v", sweep.Dir(got, r), keys(gf), keys(wf))
		}
		for rel, a := range wf {
			if !sameContent(t, rel, a, gf[rel]) {
				t.Errorf("%s differs from the uninterrupted sweep's", filepath.Join(sweep.Dir(got, r), rel))
			}
		}
	}
}

// SIGINT and SIGTERM end a run with a word: where it stopped and the command that continues
// it; the exit status is the shell's for the signal (130, 143), and that command ends the
// run byte-identical to an uninterrupted one.
func TestFaultSignal(t *testing.T) {
	rng := faultRand(t)
	self := os.Args[0]
	train := append(tinyArgs(t), "--threads", "1")
	ref := filepath.Join(t.TempDir(), "ref")
	if code, stderr := runChild(t, self, append(train, "--out", ref)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}
	for _, c := range []struct {
		sig  syscall.Signal
		name string
		when trigger
	}{
		{syscall.SIGINT, "SIGINT", atIter("pretrain", 1+rng.IntN(20), 0)},
		{syscall.SIGTERM, "SIGTERM", atIter("prune", 1+rng.IntN(40), 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			ch := startChild(t, self, append(train, "--out", out)...)
			if !c.when(t, ch) {
				t.Fatalf("the run ended first\n%s", ch.stderr.String())
			}
			ch.cmd.Process.Signal(c.sig)
			code := ch.wait()
			word := fmt.Sprintf("dcwp-train: stopped by %s in ", c.name)
			resume := "with: dcwp-train --out " + out + " --resume"
			if code != exit.Signal(c.sig) || !strings.Contains(ch.stderr.String(), word) || !strings.Contains(ch.stderr.String(), resume) {
				t.Fatalf("exit %d, want %d and %q ... %q\n%s", code, exit.Signal(c.sig), word, resume, tail(ch.stderr.String()))
			}
			t.Logf("%s", tail(ch.stderr.String())[strings.LastIndex(tail(ch.stderr.String()), "\n")+1:])
			checkWhole(t, out)
			if code, stderr := runChild(t, self, "--out", out, "--resume", "--no-progress"); code != 0 {
				t.Fatalf("resume: exit %d\n%s", code, tail(stderr))
			}
			sameRun(t, ref, out)
		})
	}
}
