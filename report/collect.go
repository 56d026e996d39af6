// Package report collects run directories (a sweep's, or any) into the paper's tables: one
// row per group of runs that differ only in seed, with mean ± std of the test accuracies of
// the vanilla and the DCWP networks, the gain, the kept ratio, the mined precision and
// recall and the wall time; as markdown, CSV or JSON, and a PNG plot against conflict pct.
// It reads run directories only (config.json, summary.json, the sweep's markers), so it
// needs no libtorch: dcwp-report runs wherever the folders are copied.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// Entry is one run found: finished (Summary set) or not (State says why).
type Entry struct {
	Name    string
	Dir     string
	State   sweep.State
	Detail  string
	Log     string
	Config  rundir.Config
	Summary *rundir.Summary
}

// Collect finds the runs under each path: a sweep folder (every run of its plan, missing
// ones too), a run directory, or a folder holding either one level down.
func Collect(paths []string) ([]Entry, error) {
	var out []Entry
	for _, p := range paths {
		es, err := collect(p, true)
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			return nil, fmt.Errorf("%s: no run directory (config.json) or sweep (sweep.json) here or one level down", p)
		}
		out = append(out, es...)
	}
	return out, nil
}

func collect(path string, descend bool) ([]Entry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", path)
	}
	plan, ok, err := sweep.ReadPlan(path)
	switch {
	case err != nil:
		return nil, err
	case ok:
		return fromPlan(path, plan)
	}
	if _, err := os.Stat(filepath.Join(path, rundir.ConfigFile)); err == nil {
		e, err := fromRun(path)
		return []Entry{e}, err
	}
	if !descend {
		return nil, nil
	}
	subs, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	var out []Entry
	for _, d := range subs {
		if d.IsDir() {
			es, err := collect(filepath.Join(path, d.Name()), false)
			if err != nil {
				return nil, err
			}
			out = append(out, es...)
		}
	}
	return out, nil
}

func fromPlan(dir string, p *sweep.Plan) ([]Entry, error) {
	var out []Entry
	for _, s := range sweep.InspectAll(dir, p) {
		e, err := entry(s, s.Run.Config)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func fromRun(dir string) (Entry, error) {
	cfg, err := rundir.ReadConfig(dir)
	if err != nil {
		return Entry{}, err
	}
	clean := filepath.Clean(dir)
	s := sweep.Inspect(filepath.Dir(clean), sweep.Run{Name: filepath.Base(clean), Config: cfg})
	return entry(s, cfg)
}

func entry(s sweep.Status, cfg rundir.Config) (Entry, error) {
	e := Entry{Name: s.Run.Name, Dir: s.Dir, State: s.State, Detail: s.Detail, Log: s.Log, Config: cfg}
	if s.State != sweep.Done {
		return e, nil
	}
	sum, err := rundir.ReadSummary(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		e.State, e.Detail = sweep.Interrupted, "summary.json is missing"
		return e, nil
	}
	if err != nil {
		return e, err
	}
	e.Summary = &sum
	return e, nil
}
