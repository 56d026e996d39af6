package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func twoRuns() *Plan {
	return &Plan{Version: 1, Runs: []Run{{Index: 0, Name: "r0"}, {Index: 1, Name: "r1"}}}
}

// A damaged jobs.json fails Submit, naming the file, before sbatch is even looked up (PATH
// holds none here, so reaching it would fail differently): the arrays it records are not
// replaced by the new one.
func TestSubmitDamagedJobs(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	out := t.TempDir()
	jobs := filepath.Join(out, SlurmDir, JobsFile)
	damaged := []byte(`[{"id":"7","indices":[0,1]`)
	if err := os.MkdirAll(filepath.Dir(jobs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobs, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Slurm{}.Submit(out, InspectAll(out, twoRuns()))
	if err == nil || !strings.Contains(err.Error(), jobs) {
		t.Fatalf("Submit with a damaged %s: %v, want an error naming it", JobsFile, err)
	}
	if b, _ := os.ReadFile(jobs); string(b) != string(damaged) {
		t.Errorf("%s was rewritten: %s", JobsFile, b)
	}
}
