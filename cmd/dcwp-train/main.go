// Command dcwp-train runs DCWP (pre-train, mine, prune, fine-tune) on a debiasing benchmark and
// writes a run directory; `dcwp-train data cmnist` builds Colored MNIST.
//
//	dcwp-train --dataset cmnist --data DIR --conflict-pct 1 --model cnn --preset paper --seed 0 --out RUN_DIR
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/dataset/cmnist"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/progress"
	"github.com/dcwp-go/dcwp/report"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/version"
)

// optimFlags are the flags of a loop's optimiser settings (rundir.Optim), by suffix after
// the loop's prefix.
var optimFlags = []string{"-optimizer", "-lr", "-iters", "-step", "-gamma", "-weight-decay", "-momentum"}

// loopFlags are the optimiser flags of every training loop of the stage table, each under
// the loop's prefix and under its older one, where it has one.
func loopFlags() []cli.Flag {
	var fs []cli.Flag
	for _, l := range rundir.Loops() {
		p, u, cat := l.FlagPrefix(), l.Usage, "loop "+l.FlagPrefix()
		alias := func(suf string) []string {
			if l.Alias == "" {
				return nil
			}
			return []string{l.Alias + suf}
		}
		fs = append(fs,
			&cli.StringFlag{Name: p + "-optimizer", Aliases: alias("-optimizer"), Usage: "optimizer (adam|sgd) of " + u, Category: cat},
			&cli.Float64Flag{Name: p + "-lr", Aliases: alias("-lr"), Usage: "learning rate of " + u, Category: cat},
			itersFlag(l, alias("-iters"), cat),
			&cli.IntFlag{Name: p + "-step", Aliases: alias("-step"), Usage: "StepLR period of " + u + " (0 = constant)", Category: cat},
			&cli.Float64Flag{Name: p + "-gamma", Aliases: alias("-gamma"), Usage: "StepLR factor of " + u, Category: cat},
			&cli.Float64Flag{Name: p + "-weight-decay", Aliases: alias("-weight-decay"), Usage: "weight decay of " + u, Category: cat},
			&cli.Float64Flag{Name: p + "-momentum", Aliases: alias("-momentum"), Usage: "SGD momentum of " + u, Category: cat},
		)
	}
	return fs
}

// itersFlag is the flag of loop l's length: a number, or for a loop with a rule that picks
// its length (rundir.Loop.Auto) also "auto".
func itersFlag(l rundir.Loop, aliases []string, cat string) cli.Flag {
	name, u := l.FlagPrefix()+"-iters", "iterations of "+l.Usage
	if l.Auto == nil {
		return &cli.IntFlag{Name: name, Aliases: aliases, Usage: u, Category: cat}
	}
	return &cli.StringFlag{Name: name, Aliases: aliases, Category: cat,
		Usage: u + ", or " + rundir.AutoIters + ": stop once the ERM network fits --pretrain-fit of the mined samples, the preset's number at most (needs the mining model)"}
}

func flags() []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "dataset", Usage: "one of " + strings.Join(dataset.Names(), ", ") + ":\n" + dataset.Usage(), Value: "cmnist"},
		&cli.StringFlag{Name: "data", Usage: "data root holding <dataset>/... in the published layout; folder: the folder or CSV manifest"},
		&cli.StringFlag{Name: "image-size", Usage: "folder: resize images to N or HxW pixels", DefaultText: "first training image's size"},
		&cli.StringFlag{Name: "normalize", Usage: "folder: normalisation inside the model: none, imagenet, or MEAN/STD per channel (0.5,0.5,0.5/0.25,0.25,0.25)", Value: "none"},
		&cli.StringFlag{Name: "valid", Usage: "validation split: the data's own (carved from train when it has none), carve, or a folder in the dataset's layout", DefaultText: "the data's own"},
		&cli.Float64Flag{Name: "valid-share", Usage: "share a carved validation split takes of each (label, attribute) group of train (of each class where train has no attribute values)", Value: dataset.DefaultValidShare},
		&cli.StringFlag{Name: "cache-dir", Usage: "where decoded images are cached (never in the data folder)", DefaultText: dataset.DefaultCacheDir()},
		&cli.BoolFlag{Name: "no-cache", Usage: "decode the images every run"},
		&cli.StringFlag{Name: "conflict-pct", Usage: "share of bias-conflicting training samples in percent, the data's <share>pct folder " +
			"(1, 1.0, 1pct and 1% are one share); published: " + dataset.SharesUsage(), Value: "1"},
		&cli.StringFlag{Name: "model", Usage: "one of " + strings.Join(arch.Models(), ", ")},
		&cli.StringFlag{Name: "preset", Usage: "paper (the reference settings) or quick (minutes on a CPU for cmnist and folder's mlp/cnn; elsewhere a tenth of paper's iterations)", Value: "paper"},
		&cli.StringFlag{Name: "variant", Usage: "clean, or as-coded to reproduce the reference code's quirks", Value: "clean"},
		&cli.StringFlag{Name: "mode", Usage: "dcwp, or vanilla to stop after the ERM classifier", Value: "dcwp"},
		&cli.StringFlag{Name: "stages", Usage: "comma-separated stages to run (" + strings.Join(rundir.StageNames(), ",") + "); skipped ones are read from --out"},
		&cli.Int64Flag{Name: "seed", Usage: "random seed", Value: 0},
		&cli.StringFlag{Name: "device", Usage: "cpu, cuda or cuda:N", Value: "cpu"},
		&cli.IntFlag{Name: "threads", Usage: "libtorch intra-op threads"},
		&cli.StringFlag{Name: "precision", Usage: "fp32, or bf16: autocast for convolutions and matrix products, float32 weights, optimiser and losses (kept on --resume)", DefaultText: "fp32"},
		&cli.StringFlag{Name: "memory-format", Usage: "layout of the networks' tensors: contiguous, or channels-last (conv networks; may change on --resume)", Value: "contiguous"},
		&cli.IntFlag{Name: "batch-size", Usage: "batch size"},
		&cli.StringFlag{Name: "pretrained", Usage: "safetensors file with torchvision-named start weights (resnet18)"},
		&cli.StringFlag{Name: "out", Usage: "run directory to write"},
		&cli.BoolFlag{Name: "resume", Usage: "continue the run in --out from its last checkpoint"},
		&cli.StringFlag{Name: "miner", Usage: "wrong, ensemble or oracle"},
		&cli.BoolFlag{Name: "select-with-gce", Usage: "mine with the GCE-trained network (default on for wrong)"},
		&cli.BoolFlag{Name: "no-mining-model", Usage: "cmnist: mine with the pre-training run's networks instead of a separate mining model"},
		&cli.StringFlag{Name: "bias-loss", Usage: "loss of the biased network: gce or ce"},
		&cli.Float64Flag{Name: "q", Usage: "GCE q"},
		&cli.Float64Flag{Name: "ensemble-threshold", Usage: "ensemble miner: flag when mean 1-p_y exceeds this"},
		&cli.Float64Flag{Name: "lambda-up", Usage: "sampling weight of mined samples"},
		&cli.Float64Flag{Name: "lambda-sparse", Usage: "weight of the L1 term on the scores"},
		&cli.Float64Flag{Name: "lambda-con", Usage: "weight of the SupCon term"},
		&cli.Float64Flag{Name: "temperature", Usage: "SupCon temperature"},
		&cli.Float64Flag{Name: "mask-tau", Usage: "mask sampling temperature"},
		&cli.Float64Flag{Name: "score-init", Usage: "initial pruning score"},
		&cli.StringFlag{Name: "mask-granularity", Usage: "what one pruning score gates: weight (the paper's) or channel (a conv's output channel, a linear's output neuron: a smaller, faster compact export)", Value: "weight"},
		&cli.Float64Flag{Name: "target-flops", Usage: "share (0,1] of the dense FLOPs of the masked layers the final mask may keep: the top-scored units are kept until the budget (0: no budget, the losses alone decide; 1 cuts nothing either, the same mask recorded as a budget: a budget sweep's 100 % point)"},
		&cli.Float64Flag{Name: "pretrain-fit", Usage: "--pretrain-iters auto: the share of the mined samples the ERM network predicts right at which pre-training stops", DefaultText: fmt.Sprint(rundir.DefaultFit)},
		&cli.IntFlag{Name: "eval-every", Usage: "validation interval (iterations)"},
		&cli.IntFlag{Name: "checkpoint-every", Usage: "checkpoint interval (iterations)"},
		&cli.StringFlag{Name: "select", Usage: "reported fine-tuned model: last or best-valid (best-valid needs a validation split with bias-conflicting samples)"},
		&cli.BoolFlag{Name: "allow-biased-valid", Usage: "--select best-valid even where the validation split cannot see the bias (it then selects on the shortcut)"},
		&cli.BoolFlag{Name: "no-progress", Usage: "periodic lines instead of progress bars"},
	}
	fs = append(fs, loopFlags()...)
	// Settings without a flag default come from the preset: --help shows each preset's.
	presets, note := presetHelp(flagDefault(fs, "dataset"), flagDefault(fs, "conflict-pct"))
	for _, f := range fs {
		if f, ok := f.(*cli.StringFlag); ok && f.Name == "preset" {
			f.Usage += note
		}
		preset, ok := presets[f.Names()[0]]
		if !ok {
			preset = "preset"
		}
		switch f := f.(type) {
		case *cli.Float64Flag:
			if f.Value == 0 && f.DefaultText == "" { // not a setting with a default of its own (--valid-share, --pretrain-fit)
				f.DefaultText = preset
			}
		case *cli.IntFlag:
			if f.Name != "threads" {
				f.DefaultText = preset
			} else {
				f.DefaultText = "number of CPUs"
			}
		case *cli.StringFlag:
			if f.Value == "" && (f.Name == "miner" || f.Name == "bias-loss" || f.Name == "select" || f.Name == "model" || strings.HasSuffix(f.Name, "-optimizer") || strings.HasSuffix(f.Name, "-iters")) {
				f.DefaultText = preset
			}
		}
	}
	return fs
}

// config resolves the run's settings: the preset's for a new run, or the run's own
// config.json when the command continues (--resume) or reruns later stages (--stages
// without pretrain) of the run in --out; then the flags given, and only those, on top.
func config(c *cli.Context) (rundir.Config, error) {
	cfg, saved, err := baseConfig(c)
	if err != nil {
		return cfg, err
	}
	if c.IsSet("data") {
		cfg.Data = c.String("data")
	}
	str := map[string]*string{"device": &cfg.Device, "pretrained": &cfg.Pretrained}
	for n, p := range str {
		if c.IsSet(n) {
			*p = c.String(n)
		}
	}
	if err := settingsOf(&cfg).apply(c, ""); err != nil {
		return cfg, err
	}
	if c.IsSet("seed") {
		cfg.Seed = c.Int64("seed")
	}
	if err := setPrecision(c, &cfg, saved == nil); err != nil {
		return cfg, err
	}
	if c.IsSet("allow-biased-valid") {
		cfg.AllowBiasedValid = c.Bool("allow-biased-valid")
	}
	if c.IsSet("select-with-gce") {
		cfg.SelectWithGCE = c.Bool("select-with-gce")
	}
	if c.Bool("no-mining-model") {
		cfg.MiningModel = nil
	}
	if c.IsSet("stages") {
		if cfg.Stages, err = stagesFlag(c); err != nil {
			return cfg, err
		}
	}
	if cfg.Mode == rundir.ModeVanilla {
		cfg.Stages = []string{rundir.StagePretrain}
	}
	if cfg.Threads == 0 {
		cfg.Threads = runtime.NumCPU()
	}
	for _, l := range rundir.Loops() {
		if err := setOptim(c, l, &cfg); err != nil {
			return cfg, err
		}
	}
	if saved != nil && c.Bool("resume") {
		if err := unchangedOnResume(*saved, cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, cfg.Check()
}

// setOptim applies the optimiser flags of loop l to its settings in cfg; a flag given for a
// loop the run does not have is refused.
func setOptim(c *cli.Context, l rundir.Loop, cfg *rundir.Config) error {
	p, o := l.FlagPrefix(), l.Optim(cfg)
	var auto **rundir.PretrainAuto
	if l.Auto != nil {
		auto = l.Auto(cfg)
	}
	if o == nil {
		for _, suf := range optimFlags {
			if c.IsSet(p + suf) {
				return fmt.Errorf("--%s%s: this run does not train %s", p, suf, l.Usage)
			}
		}
		return nil
	}
	st := optimSettings(o)
	if auto != nil {
		delete(st.ints, "-iters") // a number or auto: setAutoIters reads it
	}
	if err := st.apply(c, p); err != nil {
		return err
	}
	if auto != nil {
		return setAutoIters(c, p, o, auto)
	}
	return nil
}

// setAutoIters applies --KEY-iters of a loop with a rule that picks its length: auto
// selects the rule (the loop's iterations its most), a number the number and no rule.
func setAutoIters(c *cli.Context, p string, o *rundir.Optim, auto **rundir.PretrainAuto) error {
	flag := p + "-iters"
	if c.IsSet(flag) {
		switch v := strings.TrimSpace(c.String(flag)); v {
		case rundir.AutoIters:
			if *auto == nil {
				*auto = rundir.DefaultPretrainAuto()
			}
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("--%s %q: want a number of iterations or %s", flag, v, rundir.AutoIters)
			}
			o.Iters, *auto = n, nil
		}
	}
	if c.IsSet("pretrain-fit") {
		if *auto == nil {
			return fmt.Errorf("--pretrain-fit is the share at which --%s %s stops; this run pre-trains a fixed number of iterations", flag, rundir.AutoIters)
		}
		a := **auto // a copy: the saved config of a resumed run shares the pointer
		a.Fit = c.Float64("pretrain-fit")
		*auto = &a
	}
	return nil
}

// setPrecision applies --precision; a new run records its precision, while a run from before
// precisions (none recorded: fp32) keeps none when told fp32, so that --resume accepts it.
func setPrecision(c *cli.Context, cfg *rundir.Config, fresh bool) error {
	if c.IsSet("precision") {
		p, err := rundir.ParsePrecision(c.String("precision"))
		if err != nil {
			return fmt.Errorf("--precision: %w", err)
		}
		if cur, err := rundir.ParsePrecision(cfg.Precision); err != nil || cur != p {
			cfg.Precision = string(p)
		}
	}
	if fresh && cfg.Precision == "" {
		cfg.Precision = string(rundir.FP32)
	}
	return nil
}

func stagesFlag(c *cli.Context) ([]string, error) {
	var names []string
	for _, s := range strings.Split(c.String("stages"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			names = append(names, s)
		}
	}
	stages, err := rundir.PipelineOrder(names)
	if err != nil {
		return nil, fmt.Errorf("--stages: %w", err)
	}
	return stages, nil
}

// presetFlags choose a preset's settings; a run continued or rerun keeps the ones it has.
var presetFlags = []string{"dataset", "conflict-pct", "model", "preset", "variant"}

// baseConfig is the configuration the flags apply to: the preset's for a new run, or the
// saved one (also returned as saved) of the run in --out that the command continues or
// reruns later stages of. There, a preset flag that names another dataset, conflict share,
// model, preset or variant is refused: the run's networks were trained with its own.
func baseConfig(c *cli.Context) (cfg rundir.Config, saved *rundir.Config, err error) {
	existing, why := c.Bool("resume"), "--resume"
	if !existing && c.IsSet("stages") {
		stages, err := stagesFlag(c)
		if err != nil {
			return cfg, nil, err
		}
		existing, why = !slices.Contains(stages, rundir.StagePretrain), "--stages "+c.String("stages")
	}
	share, err := shareFlag(c)
	if err != nil {
		return cfg, nil, err
	}
	if !existing {
		// The preset is resolved for the model and variant asked for: some of its settings depend on them.
		cfg, err = dcwp.Preset(c.String("preset"), c.String("dataset"), share, c.String("model"), rundir.Variant(c.String("variant")))
		stamp(&cfg)
		return cfg, nil, err
	}
	s, err := rundir.ReadConfig(c.String("out"))
	if err != nil {
		return cfg, nil, fmt.Errorf("%s: %w", why, err)
	}
	savedShare := s.ConflictPct.String()
	if savedShare == "" {
		savedShare = "none"
	}
	have := map[string]string{"dataset": s.Dataset, "conflict-pct": savedShare, "model": s.Model, "preset": s.Preset, "variant": string(s.Variant)}
	for _, f := range presetFlags {
		v := c.String(f)
		switch f {
		case "dataset":
			if v, err = dataset.Canonical(v); err != nil {
				return cfg, nil, fmt.Errorf("--dataset: %w", err)
			}
		case "conflict-pct":
			v = share.String()
		}
		if c.IsSet(f) && v != have[f] {
			return cfg, nil, fmt.Errorf("--%s %s: the run in %s has %s %s, and %s keeps it (for another, start a new run with another --out)",
				f, c.String(f), c.String("out"), f, have[f], why)
		}
	}
	// The flags change cfg; s stays what the run has, to be compared with it on --resume.
	if cfg, err = s.Clone(); err != nil {
		return cfg, nil, err
	}
	if !c.Bool("resume") {
		stamp(&cfg) // the version and engine that wrote the stages run now
	}
	return cfg, &s, nil
}

// shareFlag reads --conflict-pct, the one place the command parses a conflict share. Given
// with a dataset that has no published shares (celeba, folder), it is refused: the run
// would ignore it.
func shareFlag(c *cli.Context) (dataset.Share, error) {
	share, err := dataset.ParseShare(c.String("conflict-pct"))
	if err != nil {
		return share, fmt.Errorf("--conflict-pct: %w", err)
	}
	in, err := dataset.Lookup(c.String("dataset"))
	if err != nil || in.HasShares() {
		return share, nil // an unknown dataset is refused where it is resolved
	}
	if c.IsSet("conflict-pct") {
		return share, fmt.Errorf("--conflict-pct %s: dataset %s is not chosen by a conflict share (its data has its own)", c.String("conflict-pct"), in.Name)
	}
	return dataset.Share{}, nil
}

// stamp records the tool version, torch engine and libtorch that write the stages run now.
func stamp(cfg *rundir.Config) {
	cfg.ToolVersion, cfg.Engine, cfg.Libtorch = version.Version, torch.Engine, torch.Version()
}

// versionText is --version's: the tool's, and the engine and libtorch it trains with.
func versionText() string {
	return fmt.Sprintf("%s (engine %s, libtorch %s)", version.Version, torch.Engine, torch.Version())
}

// resumeMay lists the settings a resumed run may change (config.json keys): where the data
// is, and where and on how many threads it computes.
var resumeMay = []string{"data", "device", "threads", "tool_version"}

// unchangedOnResume refuses flags that would change a resumed run's settings: the resumed
// run must end as the uninterrupted one would.
func unchangedOnResume(saved, cfg rundir.Config) error {
	changed, err := rundir.ConfigDiff(saved, cfg, resumeMay...)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return nil
	}
	return fmt.Errorf("--resume continues the run with its own settings (only --data, --device and --threads may change), but the flags given change %s",
		strings.Join(changed, ", "))
}

// setEnum sets *p from the flag, when given, and refuses a value the setting does not know.
func setEnum[T interface {
	~string
	Check() error
}](c *cli.Context, flag string, p *T) error {
	if !c.IsSet(flag) {
		return nil
	}
	v := T(c.String(flag))
	if err := v.Check(); err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	*p = v
	return nil
}

func train(c *cli.Context) error {
	if c.NArg() > 0 {
		return exit.Usagef("unexpected arguments: %s (subcommands: data)", strings.Join(c.Args().Slice(), " "))
	}
	if c.String("out") == "" {
		return exit.Usagef("--out RUN_DIR is required")
	}
	cfg, err := config(c)
	if err != nil {
		return exit.AsUsage(err) // the preset and flags do not make a valid run
	}
	shown := progress.Auto
	if c.Bool("no-progress") {
		shown = progress.Lines
	}
	data, err := dataOptions(c)
	if err != nil {
		return exit.AsUsage(err)
	}
	format, err := model.ParseMemoryFormat(c.String("memory-format"))
	if err != nil {
		return exit.AsUsage(fmt.Errorf("--memory-format: %w", err))
	}
	sig := stopOnSignal(c.App.ErrWriter, c.String("out"), cfg.CheckpointEvery)
	defer sig.stop()
	sum, err := dcwp.Run(dcwp.Options{Config: cfg, Out: c.String("out"), Resume: c.Bool("resume"), Log: c.App.ErrWriter, Progress: shown, Data: data,
		MemoryFormat: format, AfterIter: sig.afterIter, Started: started(c)})
	if err != nil {
		return err
	}
	var classNames []string // the run's, which a folder dataset's config.json has once its data is read
	if saved, err := rundir.ReadConfig(c.String("out")); err == nil {
		if spec, err := saved.Spec(); err == nil {
			classNames = spec.ClassNames
		}
	}
	printSummary(os.Stdout, sum, classNames)
	fmt.Printf("run directory: %s\n", c.String("out"))
	return nil
}

// startedKey is where the App's Metadata holds when the command began: a run's wall time
// counts from there, not from when its data was loaded.
const startedKey = "started"

func started(c *cli.Context) time.Time {
	t, _ := c.App.Metadata[startedKey].(time.Time)
	return t
}

// gcPercent is the GC target unless GOGC says otherwise. The live heap is the decoded
// dataset (pointer-free bytes, cheap to mark) and each batch leaves a little garbage: Go's
// default of 100 % lets that garbage grow to the dataset's size (about 110 MB more peak
// memory on Colored MNIST), at no measurable gain in speed.
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args, os.Stderr))
}

// run executes the command line and returns the exit status (internal/exit): 0 success,
// 1 training failed, 2 bad flags or settings, 70 internal error.
func run(args []string, stderr io.Writer) int {
	app := &cli.App{
		Metadata: map[string]any{startedKey: time.Now()},
		Name:     "dcwp-train",
		Usage:    "find a debiased pruned subnetwork with DCWP and write a run directory",
		Version:  versionText(),
		UsageText: "dcwp-train --dataset cmnist --data DIR --conflict-pct 1 --model cnn --preset paper --seed 0 --out RUN_DIR\n" +
			"dcwp-train --out RUN_DIR --resume\n" +
			"dcwp-train data cmnist --out DIR",
		Flags:  flags(),
		Action: train,
		Commands: []*cli.Command{{
			Name:        "data",
			Usage:       "build a dataset",
			Subcommands: []*cli.Command{cmnist.Command()},
		}, sweepCommand(), report.Command()},
	}
	return exit.Run(app, args, stderr, dcwp.ErrBadInput)
}
