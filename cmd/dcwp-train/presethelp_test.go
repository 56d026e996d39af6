package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestHelpPresetValues: --help shows each preset's own numbers (dcwp.Preset's, for the
// default dataset, share and model, which --preset's help names) for the flags a preset
// sets, not "(default: preset)".
func TestHelpPresetValues(t *testing.T) {
	help := map[string]string{}
	for _, f := range flags() {
		help[f.Names()[0]] = f.String()
	}
	for _, n := range []string{"cmnist", "--conflict-pct 1", "paper: cnn", "quick: mlp"} {
		if !strings.Contains(help["preset"], n) {
			t.Errorf("--preset's help does not say which data the values are for (%q):\n%s", n, help["preset"])
		}
	}
	for _, c := range []struct {
		flag string
		of   func(rundir.Config) any
	}{
		{"pretrain-iters", func(c rundir.Config) any { return c.Pretrain.Iters }},
		{"pretrain-lr", func(c rundir.Config) any { return c.Pretrain.LR }},
		{"finetune-iters", func(c rundir.Config) any { return c.Finetune.Iters }},
		{"prune-iters", func(c rundir.Config) any { return c.Prune.Iters }},
		{"batch-size", func(c rundir.Config) any { return c.BatchSize }},
		{"lambda-up", func(c rundir.Config) any { return c.LambdaUp }},
		{"lambda-sparse", func(c rundir.Config) any { return c.LambdaSparse }},
		{"lambda-con", func(c rundir.Config) any { return c.LambdaCon }},
		{"eval-every", func(c rundir.Config) any { return c.EvalEvery }},
		{"model", func(c rundir.Config) any { return c.Model }},
		{"miner", func(c rundir.Config) any { return c.Miner }},
		{"select", func(c rundir.Config) any { return c.Select }},
	} {
		t.Run(c.flag, func(t *testing.T) {
			var want []string
			for _, p := range dcwp.Presets {
				cfg, err := dcwp.Preset(p, "cmnist", dataset.MustShare("1"), "", "")
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, fmt.Sprintf("%s: %v", p, c.of(cfg)))
			}
			if w := "(default: " + strings.Join(want, "; ") + ")"; !strings.Contains(help[c.flag], w) {
				t.Fatalf("--%s's help: %q, want %q in it", c.flag, help[c.flag], w)
			}
		})
	}
	for _, f := range flags() {
		s := f.String()
		if strings.Contains(s, "(default: preset)") {
			t.Errorf("still no preset values: %s", s)
		}
		if ff, ok := f.(*cli.Float64Flag); ok && ff.Name == "valid-share" && !strings.Contains(s, fmt.Sprintf("(default: %v)", dataset.DefaultValidShare)) {
			t.Errorf("--valid-share's default is its own, not a preset's: %s", s)
		}
	}
}
