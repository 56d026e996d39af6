package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/rundir"
)

// settings are where the flags that set a run's numbers write them in a configuration:
// the one table config applies the flags through, and --help reads the presets' values from.
type settings struct {
	f64   map[string]*float64
	ints  map[string]*int
	enums []enumSetting
}

// enumSetting is a flag whose values a setting's type checks (rundir.Miner, …).
type enumSetting struct {
	name  string
	set   func(c *cli.Context, flag string) error // flag: the name with its prefix
	value func() string
}

func enum[T interface {
	~string
	Check() error
}](name string, p *T) enumSetting {
	return enumSetting{name, func(c *cli.Context, flag string) error { return setEnum(c, flag, p) }, func() string { return string(*p) }}
}

func settingsOf(cfg *rundir.Config) settings {
	return settings{
		f64: map[string]*float64{"q": &cfg.Q, "ensemble-threshold": &cfg.EnsembleThreshold, "lambda-up": &cfg.LambdaUp,
			"lambda-sparse": &cfg.LambdaSparse, "lambda-con": &cfg.LambdaCon, "temperature": &cfg.Temperature,
			"mask-tau": &cfg.MaskTau, "score-init": &cfg.ScoreInit, "target-flops": &cfg.TargetFLOPs},
		ints: map[string]*int{"batch-size": &cfg.BatchSize, "eval-every": &cfg.EvalEvery, "checkpoint-every": &cfg.CheckpointEvery,
			"threads": &cfg.Threads},
		enums: []enumSetting{enum("mode", &cfg.Mode), enum("miner", &cfg.Miner), enum("bias-loss", &cfg.BiasLoss),
			enum("select", &cfg.Select), enum("mask-granularity", &cfg.MaskGranularity)},
	}
}

// optimSettings are a loop's optimiser settings by flag suffix (optimFlags).
func optimSettings(o *rundir.Optim) settings {
	return settings{
		f64:   map[string]*float64{"-lr": &o.LR, "-gamma": &o.Gamma, "-weight-decay": &o.WeightDecay, "-momentum": &o.Momentum},
		ints:  map[string]*int{"-iters": &o.Iters, "-step": &o.StepSize},
		enums: []enumSetting{enum("-optimizer", &o.Optimizer)},
	}
}

// values are the settings' values by flag name (prefix before each), as --help prints them.
func (s settings) values(prefix string, out map[string]string) {
	for n, p := range s.f64 {
		out[prefix+n] = strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for n, p := range s.ints {
		out[prefix+n] = strconv.Itoa(*p)
	}
	for _, e := range s.enums {
		out[prefix+e.name] = e.value()
	}
}

// presetValues are every preset flag's value in a configuration; a loop the run does not
// train gives its flags "none".
func presetValues(cfg rundir.Config) map[string]string {
	out := map[string]string{"model": cfg.Model}
	settingsOf(&cfg).values("", out)
	for _, l := range rundir.Loops() {
		if o := l.Optim(&cfg); o != nil {
			optimSettings(o).values(l.FlagPrefix(), out)
			continue
		}
		for _, suf := range optimFlags {
			out[l.FlagPrefix()+suf] = "none"
		}
	}
	return out
}

// presetHelp is each preset's value of every preset flag, as --help's default text
// ("paper: 10000; quick: 1000"), read from dcwp.Preset for the default dataset and share
// (flag defaults) and each preset's default model, and the note that says so. Empty for
// flags whose presets cannot be resolved.
func presetHelp(dataName, share string) (map[string]string, string) {
	sh, err := dataset.ParseShare(share)
	if err != nil {
		return nil, ""
	}
	byPreset := map[string]map[string]string{}
	var models []string
	for _, p := range dcwp.Presets {
		cfg, err := dcwp.Preset(p, dataName, sh, "", "")
		if err != nil {
			return nil, ""
		}
		byPreset[p] = presetValues(cfg)
		models = append(models, p+": "+cfg.Model)
	}
	out := map[string]string{}
	for flag := range byPreset[dcwp.Presets[0]] {
		var parts []string
		for _, p := range dcwp.Presets {
			parts = append(parts, p+": "+byPreset[p][flag])
		}
		out[flag] = strings.Join(parts, "; ")
	}
	note := fmt.Sprintf("; flag defaults marked paper and quick are each preset's for --dataset %s --conflict-pct %s with its default model (%s)",
		dataName, share, strings.Join(models, ", "))
	return out, note
}

// apply sets the settings of the flags given (prefix before each name).
func (s settings) apply(c *cli.Context, prefix string) error {
	for _, e := range s.enums {
		if err := e.set(c, prefix+e.name); err != nil {
			return err
		}
	}
	for n, p := range s.f64 {
		if c.IsSet(prefix + n) {
			*p = c.Float64(prefix + n)
		}
	}
	for n, p := range s.ints {
		if c.IsSet(prefix + n) {
			*p = c.Int(prefix + n)
		}
	}
	return nil
}

// flagDefault is the default value of a string flag of fs.
func flagDefault(fs []cli.Flag, name string) string {
	for _, f := range fs {
		if s, ok := f.(*cli.StringFlag); ok && s.Name == name {
			return s.Value
		}
	}
	return ""
}
