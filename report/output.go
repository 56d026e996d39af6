package report

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// Output is one file a report writes, and the flag that names it (for messages).
type Output struct {
	Flag, Path string
}

// CheckOutputs refuses, before anything is written, outputs that would damage the runs or
// the report's own data: a path that is no regular file (a device, FIFO, symlink or folder
// the write would replace), one of the files of the runs read (compared by identity, so
// hard links count), a name runs and sweeps use (a report named summary.json or sweep.json
// would be read back by the next report as a run's or a sweep's), a folder that does not
// exist, or two outputs on one path. Errors name the flag and the path; they are bad input.
func CheckOutputs(entries []Entry, roots []string, outs ...Output) error {
	inputs := inputFiles(entries, roots)
	names := reservedNames()
	for i, o := range outs {
		if o.Path == "" {
			continue
		}
		if base := filepath.Base(o.Path); slices.Contains(names, base) {
			return exit.Usagef("%s %s: %s is the name of a file of a run directory or a sweep; the next report would read this one as such: choose another name", o.Flag, o.Path, base)
		}
		if err := atomicfile.CheckOutput(o.Path, inputs...); err != nil {
			return exit.Usagef("%s: %w", o.Flag, err)
		}
		for _, p := range outs[:i] {
			if p.Path != "" && filepath.Clean(p.Path) == filepath.Clean(o.Path) {
				return exit.Usagef("%s %s is also %s: give two different paths", o.Flag, o.Path, p.Flag)
			}
		}
	}
	return nil
}

// reservedNames are the names of the files a report, a sweep or a run reads from a folder.
func reservedNames() []string {
	return append(rundir.FileNames(), sweep.PlanFile, sweep.TaskFile, sweep.LogFile)
}

// inputFiles are every file of the runs and sweeps read, existing or not, and their plots.
func inputFiles(entries []Entry, roots []string) []string {
	var in []string
	for _, r := range roots {
		in = append(in, filepath.Join(r, sweep.PlanFile))
	}
	for _, e := range entries {
		in = append(in, rundir.Files(e.Dir)...)
		in = append(in, filepath.Join(e.Dir, sweep.TaskFile), filepath.Join(e.Dir, sweep.LogFile),
			filepath.Join(filepath.Dir(e.Dir), sweep.PlanFile))
		plots, _ := filepath.Glob(filepath.Join(e.Dir, rundir.PlotsDir, "*.png"))
		in = append(in, plots...)
	}
	return in
}

// plotPath is the plot's path: --plot, or beside --out with .png for its extension.
func plotPath(out, plot string) (Output, error) {
	if plot != "" || out == "" {
		return Output{"--plot", plot}, nil
	}
	p := out[:len(out)-len(filepath.Ext(out))] + ".png"
	if filepath.Clean(p) == filepath.Clean(out) {
		return Output{}, exit.Usagef("--out %s: the plot would go beside it as %s, the same file: give --plot another path", out, p)
	}
	return Output{"--plot (by default beside --out)", p}, nil
}

// warnf is how the report says what it could not do that is no failure (a plot).
func warnf(w interface{ Write([]byte) (int, error) }, format string, a ...any) {
	fmt.Fprintf(w, "report: warning: "+format+"\n", a...)
}
