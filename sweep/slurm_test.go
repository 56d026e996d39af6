package sweep

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
)

// fakeSlurm puts sbatch, sacct and squeue on PATH as shell scripts: each appends its name
// to the returned file, then runs its body.
func fakeSlurm(t *testing.T, bodies map[string]string) (calls string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake Slurm commands are shell scripts")
	}
	bin := t.TempDir()
	calls = filepath.Join(bin, "calls")
	for _, name := range []string{"sbatch", "sacct", "squeue"} {
		body, ok := bodies[name]
		if !ok {
			body = "exit 1"
		}
		script := "#!/bin/sh\necho " + name + " >> '" + calls + "'\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	return calls
}

func readCalls(t *testing.T, calls string) []string {
	t.Helper()
	b, err := os.ReadFile(calls)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func twoRuns() *Plan {
	return &Plan{Version: 1, Runs: []Run{{Index: 0, Name: "r0"}, {Index: 1, Name: "r1"}}}
}

// A damaged jobs.json fails Submit, naming the file, before sbatch runs: the arrays it
// records are not replaced by the new one.
func TestSubmitDamagedJobs(t *testing.T) {
	calls := fakeSlurm(t, map[string]string{"sbatch": "echo 42"})
	out := t.TempDir()
	jobs := filepath.Join(out, SlurmDir, JobsFile)
	damaged := []byte(`[{"id":"7","indices":[0,1]`)
	if err := os.MkdirAll(filepath.Dir(jobs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobs, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	p := twoRuns()
	_, err := Slurm{}.Submit(out, InspectAll(out, p))
	if err == nil || !strings.Contains(err.Error(), jobs) {
		t.Fatalf("Submit with a damaged %s: %v, want an error naming it", JobsFile, err)
	}
	if c := readCalls(t, calls); len(c) != 0 {
		t.Errorf("Submit ran %v", c)
	}
	if b, _ := os.ReadFile(jobs); string(b) != string(damaged) {
		t.Errorf("%s was rewritten: %s", JobsFile, b)
	}

	// Whole, it is kept and the new array appended.
	if err := atomicfile.WriteJSON(jobs, []Job{{ID: "7", Indices: []int{0, 1}}}); err != nil {
		t.Fatal(err)
	}
	job, err := Slurm{}.Submit(out, InspectAll(out, p))
	if err != nil || job.ID != "42" {
		t.Fatalf("Submit: %+v, %v", job, err)
	}
	if got, err := ReadJobs(out); err != nil || len(got) != 2 || got[0].ID != "7" || got[1].ID != "42" {
		t.Fatalf("jobs after a submission: %+v, %v", got, err)
	}
}

// Later submissions override earlier ones whatever order Slurm prints them in.
func TestSlurmStatesLaterJobWins(t *testing.T) {
	fakeSlurm(t, map[string]string{"sacct": `printf '9_0|COMPLETED\n5_0|FAILED\n5_1|CANCELLED by 1\n'`})
	states, ok := SlurmStates(t.Context(), []Job{{ID: "5"}, {ID: "9"}})
	if !ok || states[0] != "COMPLETED" || states[1] != "CANCELLED" {
		t.Fatalf("states %v, ok %v", states, ok)
	}
}

// WaitSlurm asks Slurm once a tick (one sacct, one squeue), reading its job's tasks from
// the answer Overview's refinement used, not those of an earlier array of the same runs.
func TestWaitSlurmAsksOnceATick(t *testing.T) {
	calls := fakeSlurm(t, map[string]string{
		"sacct":  `printf '9_0|COMPLETED\n9_1|FAILED\n'`,
		"squeue": `echo '5_0 RUNNING'`, // an earlier array still holds run 0
	})
	out := t.TempDir()
	job := Job{ID: "9", Indices: []int{0, 1}}
	if err := os.MkdirAll(filepath.Join(out, SlurmDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(out, SlurmDir, JobsFile), []Job{{ID: "5", Indices: []int{0}}, job}); err != nil {
		t.Fatal(err)
	}
	st, err := WaitSlurm(t.Context(), out, twoRuns(), job, Options{}, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c := readCalls(t, calls); strings.Join(c, " ") != "sacct squeue" {
		t.Errorf("one tick ran %v, want sacct squeue", c)
	}
	if st[1].State != Failed {
		t.Errorf("run 1: %s (%s), want failed", st[1].State, st[1].Detail)
	}
}
