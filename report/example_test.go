package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/report"
	"github.com/dcwp-go/dcwp/rundir"
)

// A budget sweep over granularities (dcwp-train sweep --mask-granularity weight,channel
// --target-flops 1,0.5 --seed 0,1 ...): the table gives each group the FLOPs its runs kept
// (budget 1 cuts nothing: what the objective kept), and the plot puts the accuracies
// against those, a line per granularity.
func ExampleTable_Plot() {
	dir, _ := os.MkdirTemp("", "report-example-")
	defer os.RemoveAll(dir)
	if err := writeExampleSweep(dir); err != nil {
		fmt.Println(err)
		return
	}
	entries, err := report.Collect([]string{dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := report.Build(entries)
	fmt.Println(t.Columns[len(t.Columns)-2:])
	for _, r := range t.Rows {
		fmt.Printf("%-7s %-3s kept FLOPs %.1f ± %.1f %%, DCWP conflicting %.1f %%\n", r.Settings[len(r.Settings)-2].Value,
			r.Settings[len(r.Settings)-1].Value, 100*r.FLOPsKept.Mean, 100*r.FLOPsKept.Std, 100*r.DCWP.Conflicting.Mean)
	}
	fmt.Println(t.Plot(filepath.Join(dir, "report.png")))
	// Output:
	// [mask_granularity target_flops]
	// channel 0.5 kept FLOPs 31.5 ± 0.7 %, DCWP conflicting 39.0 %
	// channel 1   kept FLOPs 31.5 ± 0.7 %, DCWP conflicting 39.0 %
	// weight  0.5 kept FLOPs 50.0 ± 0.0 %, DCWP conflicting 75.0 %
	// weight  1   kept FLOPs 65.5 ± 0.7 %, DCWP conflicting 73.0 %
	// <nil>
}

// writeExampleSweep writes the runs of the example as a sweep leaves them: config.json and
// summary.json in a folder per run.
func writeExampleSweep(root string) error {
	for _, r := range []struct {
		g           arch.Granularity
		budget      float64
		seed        int64
		kept        float64
		conflicting float64
	}{
		{arch.GranWeight, 1, 0, 0.65, 0.72}, {arch.GranWeight, 1, 1, 0.66, 0.74},
		{arch.GranWeight, 0.5, 0, 0.50, 0.75}, {arch.GranWeight, 0.5, 1, 0.50, 0.75},
		{arch.GranChannel, 1, 0, 0.31, 0.28}, {arch.GranChannel, 1, 1, 0.32, 0.50},
		{arch.GranChannel, 0.5, 0, 0.31, 0.28}, {arch.GranChannel, 0.5, 1, 0.32, 0.50},
	} {
		dir := filepath.Join(root, fmt.Sprintf("mask-granularity=%s_target-flops=%g_seed=%d", r.g, r.budget, r.seed))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		cfg, err := rundir.ParseConfig([]byte(fixture.ConfigJSON))
		if err != nil {
			return err
		}
		cfg.MaskGranularity, cfg.TargetFLOPs, cfg.Seed = r.g, r.budget, r.seed
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), cfg); err != nil {
			return err
		}
		acc := func(conflicting float64) metrics.Accuracy {
			return metrics.Accuracy{Accuracy: 0.5, Correct: 500, Samples: 1000, ConflictingAccuracy: conflicting}
		}
		kept := r.kept
		sum := rundir.Summary{Vanilla: rundir.Eval{Test: acc(0.58), Valid: acc(0.58)},
			DCWP: &rundir.Eval{Test: acc(r.conflicting), Valid: acc(r.conflicting)}, FLOPsKept: &kept, WallSeconds: 60}
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum); err != nil {
			return err
		}
	}
	return nil
}
