package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
)

// budgetRun is one run of a budget sweep as a test writes it.
type budgetRun struct {
	g      arch.Granularity
	target float64 // 0: no budget (config.json leaves it out)
	seed   int64
	old    bool // a summary from before flops_kept was recorded
}

// name is the run's folder, named as dcwp-train sweep names it.
func (b budgetRun) name() string {
	return fmt.Sprintf("seed=%d_mask-granularity=%s_target-flops=%g", b.seed, b.g, b.target)
}

// grid is every granularity × budget × seed.
func grid(gs []arch.Granularity, targets []float64, seeds int) []budgetRun {
	var out []budgetRun
	for _, g := range gs {
		for _, tg := range targets {
			for s := range seeds {
				out = append(out, budgetRun{g: g, target: tg, seed: int64(s)})
			}
		}
	}
	return out
}

// writeBudgetSweep writes run directories of a budget sweep with random accuracies and a
// kept FLOPs share at most the run's budget (or any, without one).
func writeBudgetSweep(root string, runs []budgetRun, rng *rand.Rand) error {
	acc := func() metrics.Accuracy {
		correct := rng.IntN(1001)
		return metrics.Accuracy{Accuracy: float64(correct) / 1000, AlignedAccuracy: rng.Float64(), ConflictingAccuracy: rng.Float64(),
			WorstGroupAccuracy: rng.Float64(), Samples: 1000, Correct: correct}
	}
	for _, b := range runs {
		dir := filepath.Join(root, b.name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		cfg, err := rundir.ParseConfig([]byte(fixture.ConfigJSON))
		if err != nil {
			return err
		}
		cfg.Seed, cfg.MaskGranularity, cfg.TargetFLOPs = b.seed, b.g, b.target
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), cfg); err != nil {
			return err
		}
		sum := rundir.Summary{Vanilla: rundir.Eval{Test: acc(), Valid: acc()}, DCWP: &rundir.Eval{Test: acc(), Valid: acc()},
			KeptRatio: rng.Float64(), WallSeconds: 1}
		if !b.old {
			kept := rng.Float64()
			if b.target > 0 {
				kept *= b.target
			}
			sum.FLOPsKept = &kept
		}
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum); err != nil {
			return err
		}
	}
	return nil
}

// keptFromFiles is the mean and std of flops_kept over the summary.json files of the runs
// of one granularity and budget, read as plain JSON; n 0 when none records it.
func keptFromFiles(t *testing.T, root string, g arch.Granularity, target float64) (mean, std float64, n int) {
	dirs, _ := filepath.Glob(filepath.Join(root, fmt.Sprintf("seed=*_mask-granularity=%s_target-flops=%g", g, target)))
	var vs []float64
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, rundir.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if v, ok := m["flops_kept"].(float64); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0
	}
	if len(vs) == 1 {
		return vs[0], 0, 1
	}
	mean, std = meanStd(vs)
	return mean, std, len(vs)
}

// TestBudgetSweep: a sweep over budgets and granularities reports the kept FLOPs the runs
// achieved (mean ± std of summary.json's flops_kept) in every format, and plots the
// accuracies against them on a numeric axis, a line per granularity, vanilla at 100 %. A
// sweep with a group whose summaries predate flops_kept is drawn by the budget asked; one
// over granularities alone by granularity.
func TestBudgetSweep(t *testing.T) {
	both := []arch.Granularity{arch.GranWeight, arch.GranChannel}
	withOld := grid(both, []float64{1, 0.5}, 2)
	for i := range withOld {
		if withOld[i].g == arch.GranChannel && withOld[i].target == 0.5 {
			withOld[i].old = true // the whole group: nothing to place it by
		}
	}
	oneOld := grid(both, []float64{0.7, 0.3}, 3)
	oneOld[0].old = true // weight, 0.7, seed 0: its group's mean is of the other two
	for _, c := range []struct {
		name     string
		runs     []budgetRun
		axis     string
		measured bool
		fams     []string
	}{
		{"budgets 100/70/50/30/15 %, weight and channel, 3 seeds", grid(both, []float64{1, 0.7, 0.5, 0.3, 0.15}, 3),
			"target_flops", true, []string{"mask_granularity=channel", "mask_granularity=weight"}},
		{"one summary without flops_kept", oneOld, "target_flops", true, []string{"mask_granularity=channel", "mask_granularity=weight"}},
		{"a group without flops_kept: the budget asked", withOld, "target_flops", false,
			[]string{"mask_granularity=channel", "mask_granularity=weight"}},
		{"budget on one granularity only", grid([]arch.Granularity{arch.GranChannel}, []float64{0.5, 0.15}, 2),
			"target_flops", true, []string{""}},
		{"granularity alone, no budget", grid(both, []float64{0}, 2), "mask_granularity", false, []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if err := writeBudgetSweep(root, c.runs, rand.New(rand.NewPCG(3, 4))); err != nil {
				t.Fatal(err)
			}
			entries, err := Collect([]string{root})
			if err != nil {
				t.Fatal(err)
			}
			tb := Build(entries)
			x := tb.xAxis()
			if x.key != c.axis || (x.measure != nil) != c.measured {
				t.Fatalf("axis %q (measured %v), want %q (measured %v)", x.key, x.measure != nil, c.axis, c.measured)
			}
			// in the order the folders come (by name: no sweep.json here)
			if _, order := tb.families(x.key); !slices.Equal(order, c.fams) {
				t.Fatalf("families %q, want %q", order, c.fams)
			}
			var md strings.Builder
			if err := tb.Write(&md, "md"); err != nil {
				t.Fatal(err)
			}
			for _, r := range tb.Rows {
				g, target := arch.Granularity(value(r, "mask_granularity")), 0.0
				if g == "" { // only one granularity: no column
					g = c.runs[0].g
				}
				fmt.Sscan(value(r, "target_flops"), &target)
				mean, std, n := keptFromFiles(t, root, g, target)
				if n == 0 {
					if r.FLOPsKept != nil {
						t.Errorf("%s %g: kept FLOPs %+v, but no summary records it", g, target, *r.FLOPsKept)
					}
					continue
				}
				if r.FLOPsKept == nil || r.FLOPsKept.N != n || math.Abs(r.FLOPsKept.Mean-mean) > 1e-12 || math.Abs(r.FLOPsKept.Std-std) > 1e-12 {
					t.Fatalf("%s %g: kept FLOPs %+v, the summaries %v ± %v (n %d)", g, target, r.FLOPsKept, mean, std, n)
				}
				if target > 0 && mean > target {
					t.Fatalf("%s %g: the fixture kept more than the budget", g, target)
				}
				if cell := fmt.Sprintf("%.2f ± %.2f", 100*mean, 100*std); !strings.Contains(md.String(), cell) {
					t.Errorf("%s %g: the markdown has no cell %q:\n%s", g, target, cell, md.String())
				}
				if x.measure == nil {
					continue
				}
				if px, pxe := x.at(r, "dcwp", 0); px != 100*mean || pxe != 100*std {
					t.Errorf("%s %g: DCWP drawn at %v ± %v, want the kept FLOPs %v ± %v %%", g, target, px, pxe, 100*mean, 100*std)
				}
				if px, _ := x.at(r, "vanilla", 0); px != 100 {
					t.Errorf("vanilla drawn at %v %%, want 100 (dense)", px)
				}
			}
			if !strings.Contains(md.String(), "| flops_kept |") {
				t.Errorf("no flops_kept column:\n%s", md.String())
			}
			png := filepath.Join(t.TempDir(), "budget.png")
			if err := tb.Plot(png); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(png); len(b) < 8 || string(b[1:4]) != "PNG" {
				t.Fatal("plot is not a PNG")
			}
		})
	}
}

// On a measured axis the vanilla network is drawn once per family, from the group with the
// most finished runs; DCWP once per group.
func TestMeasuredAxisRows(t *testing.T) {
	fam := []Row{{N: 2, Runs: []string{"a"}}, {N: 3, Runs: []string{"b"}}, {N: 3, Runs: []string{"c"}}}
	for _, c := range []struct {
		name     string
		measured bool
		net      string
		want     []string
	}{
		{"nominal, vanilla", false, "vanilla", []string{"a", "b", "c"}},
		{"measured, dcwp", true, "dcwp", []string{"a", "b", "c"}},
		{"measured, vanilla", true, "vanilla", []string{"b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := xAxis{key: "target_flops"}
			if c.measured {
				x.measure = &measures[0]
			}
			var got []string
			for _, r := range x.rows(fam, c.net) {
				got = append(got, r.Runs[0])
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("rows %q, want %q", got, c.want)
			}
		})
	}
}

// TestCompactColumns: the report's compact_flops and compact_params are the mean ± std of
// each run's compact against dense export, from summary.json's deployed; a run without it
// (older) is left out of them.
func TestCompactColumns(t *testing.T) {
	root := t.TempDir()
	runs := grid([]arch.Granularity{arch.GranChannel}, []float64{0.6}, 3)
	if err := writeBudgetSweep(root, runs, rand.New(rand.NewPCG(5, 6))); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ flops, params int64 }{{30, 40}, {50, 60}} { // of 100: runs 0 and 1; run 2 has none
		dir := filepath.Join(root, runs[i].name())
		sum, err := rundir.ReadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		sum.Deployed = &rundir.Deployment{Dense: rundir.Footprint{Params: 100, FLOPs: 100},
			Compact: rundir.Footprint{Params: c.params, FLOPs: c.flops}, ChannelMultiple: 8}
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := Collect([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	tb := Build(entries)
	if len(tb.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(tb.Rows))
	}
	r := tb.Rows[0]
	std := math.Sqrt(2 * 0.1 * 0.1) // sample std of {x, x+0.2}
	for _, c := range []struct {
		name       string
		s          *Stat
		mean, want float64
	}{{"compact_flops", r.CompactFLOPs, 0.4, std}, {"compact_params", r.CompactParams, 0.5, std}} {
		if c.s == nil || c.s.N != 2 || math.Abs(c.s.Mean-c.mean) > 1e-12 || math.Abs(c.s.Std-c.want) > 1e-12 {
			t.Errorf("%s %+v, want %v ± %v over 2 runs", c.name, c.s, c.mean, c.want)
		}
	}
	var md strings.Builder
	if err := tb.Write(&md, "md"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| compact_flops |") || !strings.Contains(md.String(), "40.00 ± 14.14") {
		t.Errorf("no compact_flops column of 40.00 ± 14.14 %%:\n%s", md.String())
	}
}
