package dcwp

import (
	"fmt"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// TestGranularityAndBudget reruns pruning and fine-tuning of the tiny run at each mask
// granularity, with and without a FLOPs budget: the summary's kept FLOPs hold the budget,
// the scores have the granularity's shape, the run's DCWP network loads (a channel mask is
// whole units) and its compact export holds what the summary says the mask keeps.
func TestGranularityAndBudget(t *testing.T) {
	for _, c := range []struct {
		g      arch.Granularity
		target float64
	}{{arch.GranWeight, 0.4}, {arch.GranChannel, 0}, {arch.GranChannel, 0.4}} {
		t.Run(fmt.Sprint(c.g, " ", c.target), func(t *testing.T) {
			out := copyRun(t)
			cfg := tinyConfig(t, testData, "clean")
			cfg.Stages = []string{rundir.StagePrune, rundir.StageFinetune}
			cfg.MaskGranularity, cfg.TargetFLOPs = c.g, c.target
			sum, err := Run(Options{Config: cfg, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			if sum.FLOPsKept == nil || *sum.FLOPsKept <= 0 || c.target > 0 && *sum.FLOPsKept > c.target {
				t.Fatalf("kept FLOPs %v, budget %v", sum.FLOPsKept, c.target)
			}
			run, err := rundir.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			sc, _, err := tensor.ReadFile(run.Path(rundir.ScoresFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range run.Arch.MaskedParams() {
				if fmt.Sprint(sc[p.Name].Shape) != fmt.Sprint(p.ScoreShape) {
					t.Errorf("scores of %s shaped %v, want %v", p.Name, sc[p.Name].Shape, p.ScoreShape)
				}
			}
			_, dense, err := exporter.Export(run, exporter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, compact, err := exporter.Export(run, exporter.Options{Format: exporter.Compact})
			if err != nil {
				t.Fatal(err)
			}
			// Under channel granularity the compact export drops every pruned unit and the
			// inputs that read it: that saves more than the head's pruned weights, which it
			// keeps as zeros (the head is weight-level), cost.
			share := float64(compact.FLOPs) / float64(dense.FLOPs)
			if c.g == arch.GranChannel && share > *sum.FLOPsKept+1e-9 {
				t.Errorf("compact export keeps %.4f of the FLOPs, the mask %.4f", share, *sum.FLOPsKept)
			}
			// The summary's deployed figures are the exports', padded as dcwp-export pads.
			padded, err := exporter.Deploy(run)
			if err != nil {
				t.Fatal(err)
			}
			d := sum.Deployed
			if d == nil || *d != *padded || d.Dense.FLOPs != dense.FLOPs || d.Dense.Params != dense.ParamsTotal ||
				d.Compact.FLOPs < compact.FLOPs || d.Compact.FLOPs > dense.FLOPs || d.ChannelMultiple != exporter.DefaultChannelMultiple {
				t.Errorf("summary's deployed %+v; exports: dense %d params %d FLOPs, compact unpadded %d FLOPs, padded %+v",
					d, dense.ParamsTotal, dense.FLOPs, compact.FLOPs, padded)
			}
		})
	}
}
