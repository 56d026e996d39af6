// Package report collects run directories (a sweep's, or any) into the paper's tables: one
// row per group of runs that differ only in seed, with mean ± std of the test accuracies of
// the vanilla and the DCWP networks, the gain, the kept ratio, the mined precision and
// recall and the wall time; as markdown, CSV or JSON, and a PNG plot against the setting that varies.
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
	if err := distinct(out); err != nil {
		return nil, err
	}
	return out, nil
}

// distinct refuses one run reached twice (a folder given twice, a symlink beside its
// target, a sweep and one of its runs) or two folders holding the same run (a copy: the
// same run id and settings): its seeds would be averaged twice. A copy whose later stages
// were rerun with other settings (a branch: pruning at another granularity or budget from
// the same pre-training) is another run of the table, in another group.
func distinct(entries []Entry) error {
	type seen struct {
		dir string
		fi  os.FileInfo
	}
	var dirs []seen
	ids := map[string][]Entry{}
	for _, e := range entries {
		fi, err := os.Stat(e.Dir)
		if err != nil {
			continue // a planned run not started: no folder to compare
		}
		for _, s := range dirs {
			if os.SameFile(s.fi, fi) {
				return fmt.Errorf("%s and %s are the same run directory (a symbolic link, or a folder given twice): give it once", s.dir, e.Dir)
			}
		}
		dirs = append(dirs, seen{e.Dir, fi})
		id, ok, err := rundir.ReadID(e.Dir)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, other := range ids[id] {
			if sameSettings(other.Config, e.Config) {
				return fmt.Errorf("%s and %s hold the same run (id %s in %s) with the same settings: one is a copy of the other; give one of them", other.Dir, e.Dir, id, rundir.RunFile)
			}
		}
		ids[id] = append(ids[id], e)
	}
	return nil
}

// sameSettings: a and b compute the same run (every setting a group tells apart, and the
// seed; json.Marshal fails only on a NaN, which no checked config holds).
func sameSettings(a, b rundir.Config) bool {
	var ignore []string
	for _, k := range ignored {
		if k != "seed" {
			ignore = append(ignore, k)
		}
	}
	d, err := rundir.ConfigDiff(a, b, ignore...)
	return err == nil && len(d) == 0
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
		sub := filepath.Join(path, d.Name())
		if ok, err := isDir(sub, d); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		// One level down only, so a link to a folder above cannot make a loop.
		es, err := collect(sub, false)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// isDir says whether a folder's entry is a folder, following a symbolic link (a folder of
// links to run directories is one way to pick runs); a link that cannot be followed (to
// nothing, or a loop) is an error naming it, not a run silently left out.
func isDir(path string, d fs.DirEntry) (bool, error) {
	if d.Type()&fs.ModeSymlink == 0 {
		return d.IsDir(), nil
	}
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return false, fmt.Errorf("%s: a symbolic link that cannot be followed (%w): remove it, or point it at a run directory", path, err)
	}
	return st.IsDir(), nil
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
