package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/progress"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
	"github.com/dcwp-go/dcwp/sweep/grid"
)

// notGridFlags are the train flags a sweep sets for each run itself, and why a grid file
// cannot set them: its own --out and --resume, and its progress.
func notGridFlags() map[string]string {
	return map[string]string{
		"out":         "the sweep gives each run its folder under its own --out (dcwp-train sweep --out SWEEP_DIR)",
		"resume":      "pass --resume to dcwp-train sweep: it continues each run that has a checkpoint",
		"no-progress": "pass --no-progress to dcwp-train sweep; its runs never show progress bars",
	}
}

// Settings one sweep has one value of; launchers set threads and device per run.
var (
	singleFlags = []string{"data", "device", "threads"}
	rawFlags    = []string{"stages"} // its commas are its own: a list only in a grid file
	slotFlags   = []string{"threads", "device"}
	pathFlags   = []string{"data", "pretrained"} // made absolute: runs start in other folders
)

// gridSpec is the train command's flags as a grid may set them, in --help's order.
func gridSpec() *grid.Spec {
	var fs []grid.Flag
	not := notGridFlags()
	for _, f := range flags() {
		name := f.Names()[0]
		_, isBool := f.(*cli.BoolFlag)
		fs = append(fs, grid.Flag{Name: name, Bool: isBool, Single: slices.Contains(singleFlags, name), Raw: slices.Contains(rawFlags, name),
			NotHere: not[name]})
	}
	return grid.NewSpec(fs)
}

// sweepGridFlags are the train flags, each taking a comma list (switches stay switches:
// a grid file can list true and false).
func sweepGridFlags() []cli.Flag {
	var out []cli.Flag
	not := notGridFlags()
	for _, f := range flags() {
		name := f.Names()[0]
		if _, ok := not[name]; ok {
			continue
		}
		cat := "grid (comma lists)"
		switch f := f.(type) {
		case *cli.BoolFlag:
			out = append(out, &cli.BoolFlag{Name: name, Usage: f.Usage, Category: cat})
		default:
			usage := f.(cli.DocGenerationFlag).GetUsage()
			if !slices.Contains(singleFlags, name) && !slices.Contains(rawFlags, name) {
				usage += " (list: a,b,c)"
			}
			out = append(out, &cli.StringFlag{Name: name, Usage: usage, Category: cat})
		}
	}
	return out
}

// argList collects a repeated flag's values whole (cli's StringSliceFlag would split them at commas).
type argList []string

func (a *argList) Set(v string) error { *a = append(*a, v); return nil }
func (a *argList) String() string     { return strings.Join(*a, " ") }

func sweepFlags() []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "out", Usage: "sweep folder: sweep.json and one run directory per run"},
		&cli.StringFlag{Name: "grid", Usage: "grid file (JSON or YAML): flag names to a value or a list; the command line's lists win"},
		&cli.StringFlag{Name: "launcher", Value: launchers()[0].name, Usage: launcherUsage()},
		&cli.IntFlag{Name: "jobs", Value: 1, Usage: "local: runs at once (threads split so that jobs × threads ≤ cores; --device cuda: one GPU per job, round-robin)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue interrupted, failed or cancelled runs from their checkpoints"},
		&cli.BoolFlag{Name: "force", Usage: "start over run folders whose settings differ from the plan, and replace another sweep's plan"},
		&cli.BoolFlag{Name: "no-progress", Usage: "periodic lines instead of a progress bar"},
		&cli.StringFlag{Name: "slurm-partition", Usage: "slurm: partition", Category: "slurm"},
		&cli.StringFlag{Name: "slurm-time", Usage: "slurm: time limit per run (sbatch --time)", Category: "slurm"},
		&cli.IntFlag{Name: "slurm-cpus", Usage: "slurm: CPUs per run (also its libtorch threads)", Category: "slurm"},
		&cli.StringFlag{Name: "slurm-gres", Usage: "slurm: generic resources per run, e.g. gpu:1", Category: "slurm"},
		&cli.IntFlag{Name: "slurm-max-parallel", Usage: "slurm: at most this many runs at once (the array's % limit)", Category: "slurm"},
		&cli.GenericFlag{Name: "slurm-arg", Value: &argList{}, Usage: "slurm: one more sbatch argument, passed as it is (repeatable)", Category: "slurm"},
		&cli.BoolFlag{Name: "slurm-wait", Usage: "slurm: wait for the array to finish, showing progress; exit non-zero if a run failed", Category: "slurm"},
	}
	return append(fs, sweepGridFlags()...)
}

func sweepCommand() *cli.Command {
	return &cli.Command{
		Name:  "sweep",
		Usage: "run the cross product of comma lists (or a grid file) as run directories, here or on Slurm",
		UsageText: "dcwp-train sweep --dataset cmnist --data DIR --conflict-pct 0.5,1,2,5 --seed 0,1,2 --model mlp --jobs 2 --out SWEEP_DIR\n" +
			"dcwp-train sweep --grid grid.yaml --launcher slurm --slurm-cpus 4 --out SWEEP_DIR\n" +
			"dcwp-train sweep status --out SWEEP_DIR",
		Flags:  sweepFlags(),
		Action: sweepAction,
		Subcommands: []*cli.Command{{
			Name:   "status",
			Usage:  "pending, queued, running, done or failed, per run (run folders, and squeue/sacct where Slurm is there)",
			Flags:  []cli.Flag{&cli.StringFlag{Name: "out", Usage: "sweep folder"}},
			Action: sweepStatus,
		}, {
			Name:  "task",
			Usage: "run one run of a sweep's plan by index (what each Slurm task and printed command does)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "out", Usage: "sweep folder"},
				&cli.IntFlag{Name: "index", Usage: "the run's index in sweep.json"},
				&cli.IntFlag{Name: "threads", Usage: "libtorch threads"},
				&cli.StringFlag{Name: "device", Usage: "device (default: the plan's)"},
				&cli.BoolFlag{Name: "resume", Usage: "continue the run from its checkpoint"},
			},
			Action: sweepTask,
		}},
	}
}

// resolve is a run's configuration from its flags, as the train command resolves it. Each
// run of a sweep is a new run directory, so its stages begin with pretrain: later stages
// alone would be read from a run that is not there.
func resolve(args []string) (rundir.Config, error) {
	var cfg rundir.Config
	app := &cli.App{Name: "dcwp-train", Flags: flags(), HideHelp: true, Writer: io.Discard, ErrWriter: io.Discard,
		Action: func(c *cli.Context) (err error) {
			if c.IsSet("stages") {
				stages, err := stagesFlag(c)
				if err != nil {
					return err
				}
				if !slices.Contains(stages, rundir.StagePretrain) {
					return fmt.Errorf("--stages %s: a sweep's runs are new run directories, so their stages start with %s "+
						"(to rerun later stages of one run: dcwp-train --out RUN_DIR --stages %s)", c.String("stages"), rundir.StagePretrain, c.String("stages"))
				}
			}
			cfg, err = config(c)
			return err
		}}
	err := app.Run(append([]string{"dcwp-train"}, args...))
	return cfg, err
}

// sweepGrid is the grid of the command line and --grid; threads and device are taken out
// for the launcher.
func sweepGrid(c *cli.Context, spec *grid.Spec) (g grid.Grid, slot map[string]string, err error) {
	values := map[string]string{}
	for _, f := range sweepGridFlags() {
		name := f.Names()[0]
		if c.IsSet(name) {
			values[name] = c.String(name)
			if _, ok := f.(*cli.BoolFlag); ok {
				values[name] = strconv.FormatBool(c.Bool(name))
			}
		}
	}
	if g, err = spec.Lists(values); err != nil {
		return g, nil, exit.AsUsage(err)
	}
	if file := c.String("grid"); file != "" {
		fg, err := spec.ReadFile(file)
		if err != nil {
			return g, nil, exit.AsUsage(err)
		}
		g = spec.Merge(fg, g)
	}
	slot = map[string]string{}
	var axes []grid.Axis
	for _, a := range g.Axes {
		switch {
		case slices.Contains(slotFlags, a.Flag):
			slot[a.Flag] = a.Values[0]
			continue
		case slices.Contains(pathFlags, a.Flag):
			for i, v := range a.Values {
				if a.Values[i], err = filepath.Abs(v); err != nil {
					return g, nil, err
				}
			}
		}
		axes = append(axes, a)
	}
	g.Axes = axes
	return g, slot, nil
}

func sweepAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return exit.Usagef("unexpected arguments: %s (subcommands: status, task)", strings.Join(c.Args().Slice(), " "))
	}
	if err := exit.Require(c, "out"); err != nil {
		return err
	}
	l, err := lookupLauncher(c.String("launcher"))
	if err != nil {
		return err
	}
	spec := gridSpec()
	g, slot, err := sweepGrid(c, spec)
	if err != nil {
		return err
	}
	threads := 0
	if v, ok := slot["threads"]; ok {
		if threads, err = strconv.Atoi(v); err != nil || threads < 1 {
			return exit.Usagef("--threads %q: want a positive number", v)
		}
	}
	plan, err := sweep.NewPlan(spec, g, resolve)
	if err != nil {
		return exit.AsUsage(err)
	}
	out := c.String("out")
	if err := notARun(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := plan.Adopt(out, c.Bool("force")); err != nil {
		return err
	}
	o := sweep.Options{Resume: c.Bool("resume"), Force: c.Bool("force"), Log: c.App.ErrWriter, Mode: progress.Auto}
	if c.Bool("no-progress") {
		o.Mode = progress.Lines
	}
	todo, err := sweep.Todo(out, plan, o)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return l.run(launch{ctx: ctx, c: c, out: out, plan: plan, todo: todo, train: []string{exe},
		threads: threads, device: slot["device"], o: o})
}

// notARun refuses a sweep folder that is a run directory: sweep.json and the runs' folders
// would be written into the run, and a report of it would then see a sweep, not the run.
func notARun(out string) error {
	if _, err := os.Stat(filepath.Join(out, rundir.ConfigFile)); err == nil {
		return exit.Usagef("--out %s is a run directory (it holds %s), not a sweep folder: choose another --out", out, rundir.ConfigFile)
	}
	return nil
}

// launch is what a launcher starts: the sweep's folder, plan and runs to do, the command
// that is dcwp-train, and the threads and device the grid set (0 and "": not set).
type launch struct {
	ctx     context.Context
	c       *cli.Context
	out     string
	plan    *sweep.Plan
	todo    []sweep.Status
	train   []string
	threads int
	device  string
	o       sweep.Options
}

// launcher is one way to start a sweep's runs: --launcher's value, what --help says of
// it, and what it does.
type launcher struct {
	name, help string
	run        func(launch) error
}

// launchers is every launcher, the default first; --launcher, its help and its check
// read it.
func launchers() []launcher {
	return []launcher{
		{"local", "processes here", sweepLocal},
		{"slurm", "one sbatch job array", sweepSlurm},
		{"print", "one shell command per run", sweepPrint},
	}
}

// launcherUsage is --launcher's help: "local (processes here), slurm (...) or print (...)".
func launcherUsage() string {
	var parts []string
	for _, l := range launchers() {
		parts = append(parts, fmt.Sprintf("%s (%s)", l.name, l.help))
	}
	return orList(parts)
}

func lookupLauncher(name string) (launcher, error) {
	var names []string
	for _, l := range launchers() {
		if l.name == name {
			return l, nil
		}
		names = append(names, l.name)
	}
	return launcher{}, exit.Usagef("--launcher %q: want %s", name, orList(names))
}

// orList joins items as prose: "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func sweepPrint(l launch) error {
	return sweep.PrintCommands(os.Stdout, l.train, l.out, l.todo, l.o.Resume)
}

func sweepLocal(l launch) error {
	jobs := l.c.Int("jobs")
	threads, err := sweep.LocalThreads(jobs, l.threads)
	if err != nil {
		return err
	}
	loc := sweep.Local{Jobs: jobs, Threads: threads, Exec: sweep.Exec{Train: l.train}}
	if l.device != "" {
		if loc.Devices, err = sweep.Devices(l.device); err != nil {
			return err
		}
	}
	fmt.Fprintf(l.o.Log, "sweep: %d of %d runs to do in %s, %d at a time, %d threads each\n", len(l.todo), len(l.plan.Runs), l.out, jobs, threads)
	loc.Run(l.ctx, l.out, l.todo, l.o)
	return sweepEnd(l.ctx, l.o.Log, l.out, l.plan)
}

func sweepSlurm(l launch) error {
	ctx, c, out, plan, o := l.ctx, l.c, l.out, l.plan, l.o
	jobs, err := sweep.ReadJobs(out)
	if err != nil {
		return err
	}
	queued, _ := sweep.SlurmStates(ctx, jobs)
	var submit []sweep.Status
	for _, s := range l.todo {
		if !sweep.Active(queued[s.Run.Index]) { // not twice in the queue
			submit = append(submit, s)
		}
	}
	if len(submit) == 0 {
		fmt.Fprintf(o.Log, "sweep: nothing to submit (%s)\n", sweep.CountLine(sweep.InspectAll(out, plan)))
		return nil
	}
	s := sweep.Slurm{Partition: c.String("slurm-partition"), Time: c.String("slurm-time"), CPUs: c.Int("slurm-cpus"),
		GRES: c.String("slurm-gres"), MaxParallel: c.Int("slurm-max-parallel"), Args: *c.Generic("slurm-arg").(*argList),
		Train: l.train, Device: l.device, Resume: o.Resume}
	job, err := s.Submit(out, submit)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "sweep: submitted %d runs as Slurm job array %s; follow with: dcwp-train sweep status --out %s\n", len(submit), job.ID, out)
	if !c.Bool("slurm-wait") {
		return nil
	}
	if _, err := sweep.WaitSlurm(ctx, out, plan, job, o, 2*time.Second); err != nil {
		return err
	}
	return sweepEnd(ctx, o.Log, out, plan)
}

// sweepEnd prints where the sweep stands and fails when a run of it did.
func sweepEnd(ctx context.Context, log io.Writer, out string, plan *sweep.Plan) error {
	st, err := sweep.Overview(ctx, out, plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "sweep: %s\n", sweep.CountLine(st))
	var bad []string
	for _, s := range st {
		if s.State != sweep.Done {
			bad = append(bad, fmt.Sprintf("%s: %s (%s), log %s", s.Run.Name, s.State, s.Detail, s.Log))
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("sweep stopped; continue it with the same command and --resume")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d runs did not finish:\n  %s", len(bad), len(st), strings.Join(bad, "\n  "))
	}
	return nil
}

func readPlan(c *cli.Context) (string, *sweep.Plan, error) {
	if c.NArg() > 0 {
		return "", nil, exit.Usagef("unexpected arguments: %s (the sweep folder is --out SWEEP_DIR)", strings.Join(c.Args().Slice(), " "))
	}
	if err := exit.Require(c, "out"); err != nil {
		return "", nil, err
	}
	out := c.String("out")
	p, ok, err := sweep.ReadPlan(out)
	if err != nil {
		return out, nil, exit.AsUsage(err)
	}
	if !ok {
		return out, nil, exit.Usagef("%s: no %s (not a sweep folder)", out, sweep.PlanFile)
	}
	return out, p, nil
}

func sweepStatus(c *cli.Context) error {
	out, p, err := readPlan(c)
	if err != nil {
		return err
	}
	st, err := sweep.Overview(c.Context, out, p)
	if err != nil {
		return err
	}
	return sweep.PrintStatus(os.Stdout, st)
}

func sweepTask(c *cli.Context) error {
	out, p, err := readPlan(c)
	if err != nil {
		return err
	}
	i := c.Int("index")
	if i < 0 || i >= len(p.Runs) {
		return exit.Usagef("--index %d: the plan has runs 0 to %d", i, len(p.Runs)-1)
	}
	r := p.Runs[i]
	if st := sweep.Inspect(out, r); st.State != sweep.Done && st.HasCheckpoint() && !c.Bool("resume") {
		return exit.Usagef("%s is %s with a checkpoint: pass --resume to continue it", st.Dir, st.State)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	e := sweep.Exec{Train: []string{exe}}
	if job := os.Getenv("SLURM_ARRAY_JOB_ID"); job != "" {
		e.SlurmJob = job + "_" + os.Getenv("SLURM_ARRAY_TASK_ID")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st := e.Do(ctx, out, r, sweep.Slot{Threads: c.Int("threads"), Device: c.String("device")})
	fmt.Printf("run %d %s: %s %s\n", r.Index, r.Name, st.State, st.Detail)
	if st.State != sweep.Done {
		return fmt.Errorf("run %s %s (%s); log %s", r.Name, st.State, st.Detail, st.Log)
	}
	return nil
}
