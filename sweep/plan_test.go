package sweep

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep/grid"
)

// What a run read from its data (a folder dataset's spec, a carved validation split) is
// not a difference from its plan, which is made from flags alone; a setting is.
func TestConfigDiff(t *testing.T) {
	plan := rundir.Config{Dataset: "folder", Model: "mlp", Seed: 1, Threads: 2, Device: "cpu"}
	read := plan
	read.DataSpec = &dataset.Spec{Classes: 3, ClassNames: []string{"a", "b", "c"}, Input: [3]int{3, 8, 8}}
	read.ValidSplit = &dataset.ValidFrom{From: "carve", Share: 0.1, Count: 4}
	otherSpec := read
	otherSpec.DataSpec = &dataset.Spec{Classes: 2, Input: [3]int{3, 8, 8}}
	cases := []struct {
		name      string
		run, plan rundir.Config
		want      string
	}{
		{"same", plan, plan, ""},
		{"the data's settings", read, plan, ""},
		{"the launcher's settings", func() rundir.Config { c := plan; c.Threads, c.Device = 8, "cuda:1"; return c }(), plan, ""},
		{"a setting", func() rundir.Config { c := read; c.Seed = 2; return c }(), plan, "seed is 2, the plan has 1"},
		{"a data setting the plan has", otherSpec, read, "data_spec is {"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ConfigDiff(c.run, c.plan); c.want == "" && got != "" || !strings.HasPrefix(got, c.want) {
				t.Fatalf("ConfigDiff = %q, want %q", got, c.want)
			}
		})
	}
}

// seedResolver resolves --seed alone, as dcwp-train does: "00" and "+0" are 0.
func seedResolver(args []string) (rundir.Config, error) {
	c := rundir.Config{Dataset: "cmnist", Model: "mlp"}
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "--seed" {
			v, err := strconv.ParseInt(args[i+1], 10, 64)
			if err != nil {
				return c, err
			}
			c.Seed = v
		}
	}
	return c, nil
}

// Two points of a grid that resolve to the same run are refused, naming their values: the
// sweep would train it twice and a report average it as two.
func TestNewPlanDuplicates(t *testing.T) {
	spec := grid.NewSpec([]grid.Flag{{Name: "seed"}, {Name: "model"}})
	cases := []struct {
		seeds string
		runs  int
		err   string
	}{
		{"0,1,2", 3, ""},
		{"0,00,+0", 0, "runs seed=0 and seed=00 are the same run (--seed 0 and 00 give the same settings"},
		{"1,2,+2", 0, "runs seed=2 and seed=+2 are the same run (--seed 2 and +2"},
	}
	for _, c := range cases {
		t.Run(c.seeds, func(t *testing.T) {
			g, err := spec.Lists(map[string]string{"seed": c.seeds, "model": "mlp"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewPlan(spec, g, seedResolver)
			switch {
			case c.err == "" && err != nil:
				t.Fatal(err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want %q", err, c.err)
			case c.err == "" && len(p.Runs) != c.runs:
				t.Fatalf("%d runs, want %d", len(p.Runs), c.runs)
			}
		})
	}
}

// A run that wrote summary.json is done, whatever its task file says: a sweep killed while
// its run went on never recorded the end.
func TestInspectTaskFile(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cfg, err := rundir.ParseConfig([]byte(fixture.ConfigJSON))
	if err != nil {
		t.Fatal(err)
	}
	r := Run{Name: "r", Config: cfg}
	cases := []struct {
		name    string
		task    *Task
		summary bool
		want    State
	}{
		{"finished, task says running, its process gone", &Task{State: Running, Host: host, PID: gone.Process.Pid}, true, Done},
		{"finished, task says cancelled", &Task{State: Cancelled, Host: host}, true, Done},
		{"finished, no task file", nil, true, Done},
		{"unfinished, its process gone", &Task{State: Running, Host: host, PID: gone.Process.Pid}, false, Interrupted},
		{"unfinished, its process here", &Task{State: Running, Host: host, PID: os.Getpid()}, false, Running},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			dir := Dir(out, r)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), r.Config); err != nil {
				t.Fatal(err)
			}
			if c.task != nil {
				c.task.Started = time.Now()
				if err := atomicfile.WriteJSON(filepath.Join(dir, TaskFile), c.task); err != nil {
					t.Fatal(err)
				}
			}
			if c.summary {
				if err := os.WriteFile(filepath.Join(dir, rundir.SummaryFile), []byte("{}"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if s := Inspect(out, r); s.State != c.want {
				t.Fatalf("state %s (%s), want %s", s.State, s.Detail, c.want)
			}
		})
	}
}
