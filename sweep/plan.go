// Package sweep runs a grid of dcwp-train runs: the plan (sweep.json, one ordinary run
// directory per run under the sweep's folder), the state of each run read from its folder,
// and the launchers that start them (local processes, a Slurm job array, or printed shell
// commands). It starts dcwp-train as a process and needs no libtorch itself; the command
// gives it the function that resolves a run's flags into its configuration.
package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep/grid"
)

// PlanFile is the plan's name inside the sweep's folder.
const PlanFile = "sweep.json"

// planVersion changes when sweep.json's meaning does.
const planVersion = 1

// Resolver turns one run's dcwp-train flags into its effective configuration, refusing
// settings dcwp-train would refuse.
type Resolver func(args []string) (rundir.Config, error)

// Run is one run of a plan.
type Run struct {
	Index   int            `json:"index"`
	Name    string         `json:"name"`    // its folder under the sweep's
	Varying []grid.Setting `json:"varying"` // the settings that name it
	Args    []string       `json:"args"`    // its dcwp-train flags, less --out and what a launcher sets
	Config  rundir.Config  `json:"config"`  // what dcwp-train resolves them to
}

// Plan is the list of runs of a sweep, as written to sweep.json.
type Plan struct {
	Version int         `json:"version"`
	Grid    []grid.Axis `json:"grid"`
	Runs    []Run       `json:"runs"`
}

// NewPlan resolves every point of the grid into a run; a point dcwp-train would refuse
// fails the plan, naming the run.
func NewPlan(spec *grid.Spec, g grid.Grid, resolve Resolver) (*Plan, error) {
	points, err := spec.Points(g)
	if err != nil {
		return nil, err
	}
	p := &Plan{Version: planVersion, Grid: g.Axes}
	byKey := map[string]int{}
	for i, pt := range points {
		args := spec.Args(pt)
		cfg, err := resolve(args)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", pt.Name, err)
		}
		r := Run{Index: i, Name: pt.Name, Varying: pt.Varying, Args: args, Config: cfg}
		key, err := runKey(cfg)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", pt.Name, err)
		}
		if j, dup := byKey[key]; dup {
			return nil, duplicate(p.Runs[j], r)
		}
		byKey[key] = i
		p.Runs = append(p.Runs, r)
	}
	return p, nil
}

// duplicate is the error for two points of a grid that resolve to the same run: a sweep
// would train it twice and a report count it twice. It names the values that differ only
// in how they are written, or in a setting the run does not use.
func duplicate(a, b Run) error {
	var same []string
	for k, s := range a.Varying {
		if k < len(b.Varying) && b.Varying[k].Value != s.Value {
			same = append(same, fmt.Sprintf("--%s %s and %s", s.Flag, s.Value, b.Varying[k].Value))
		}
	}
	return exit.Usagef("runs %s and %s are the same run (%s give the same settings: the same value written two ways, "+
		"or a flag these runs do not use): list each value once", a.Name, b.Name, strings.Join(same, ", "))
}

// Dir is the folder of run r in the sweep folder out.
func Dir(out string, r Run) string { return filepath.Join(out, r.Name) }

// ReadPlan reads out/sweep.json; ok is false when there is none.
func ReadPlan(out string) (p *Plan, ok bool, err error) {
	path := filepath.Join(out, PlanFile)
	p = &Plan{}
	if err := atomicfile.ReadJSON(path, p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if p.Version != planVersion {
		return nil, false, fmt.Errorf("%s: plan version %d, this dcwp-train reads %d", path, p.Version, planVersion)
	}
	for i, r := range p.Runs {
		if r.Index != i || r.Name == "" || filepath.Base(r.Name) != r.Name || r.Name == "." || r.Name == ".." {
			return nil, false, fmt.Errorf("%s: run %d (%q) is malformed", path, i, r.Name)
		}
	}
	return p, true, nil
}

// Write writes the plan to out/sweep.json, atomically.
func (p *Plan) Write(out string) error { return atomicfile.WriteJSON(filepath.Join(out, PlanFile), p) }

// Adopt writes p as out's plan, or checks that out's existing plan is the same grid:
// two grids in one folder would mix their runs. force replaces a different plan.
func (p *Plan) Adopt(out string, force bool) error {
	old, ok, err := ReadPlan(out)
	if err != nil {
		return err
	}
	if ok && !force {
		if why := old.differs(p); why != "" {
			return exit.Usagef("%s holds another sweep (%s): choose another --out, or pass --force to replace its plan",
				filepath.Join(out, PlanFile), why)
		}
	}
	return p.Write(out)
}

// differs says how two plans differ, "" when they are the same runs.
func (p *Plan) differs(q *Plan) string {
	if len(p.Runs) != len(q.Runs) {
		return fmt.Sprintf("%d runs, this one %d", len(p.Runs), len(q.Runs))
	}
	for i := range p.Runs {
		a, b := p.Runs[i], q.Runs[i]
		if a.Name != b.Name {
			return fmt.Sprintf("run %d is %s, here %s", i, a.Name, b.Name)
		}
		if d := ConfigDiff(a.Config, b.Config); d != "" {
			return fmt.Sprintf("run %s: %s", a.Name, d)
		}
	}
	return ""
}

// launcherSet are the settings that do not make a run what it is: the tool's version, the
// device and the thread count (dcwp-train's --resume may change the last two, and
// launchers set them).
var launcherSet = []string{"tool_version", "device", "threads"}

// ConfigDiff names the first setting (config.json key, in sorted order) in which a run's
// configuration a differs from the plan's b, "" when none. What the run read from its data
// (rundir.DataKeys) counts only where the plan sets it too: the plan is made from flags,
// before any data is read.
func ConfigDiff(a, b rundir.Config) string {
	mb, err := rundir.Settings(b)
	if err != nil {
		return "cannot be compared: " + err.Error()
	}
	ignore := slices.Clone(launcherSet)
	for _, k := range rundir.DataKeys() {
		if _, ok := mb[k]; !ok {
			ignore = append(ignore, k)
		}
	}
	d, err := rundir.ConfigDiff(a, b, ignore...)
	if err != nil {
		return "cannot be compared: " + err.Error()
	}
	if len(d) == 0 {
		return ""
	}
	ma, _ := rundir.Settings(a)
	return fmt.Sprintf("%s is %s, the plan has %s", d[0], orNone(ma[d[0]]), orNone(mb[d[0]]))
}

// runKey is what makes a configuration the run it is, comparable as a string: its
// settings less the launcher's, in config.json's form with sorted keys.
func runKey(c rundir.Config) (string, error) {
	m, err := rundir.Settings(c)
	if err != nil {
		return "", err
	}
	for _, k := range launcherSet {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func orNone(b json.RawMessage) string {
	if b == nil {
		return "unset"
	}
	return string(b)
}
