package plot

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
)

func TestMetricsDrawsEachFigure(t *testing.T) {
	kept := 0.8
	var ms []rundir.Metric
	for i := 0; i < 5; i++ {
		ms = append(ms,
			rundir.Metric{Stage: "prune", Iter: i * 10, Loss: map[string]float64{"ce": 1 / float64(i+1), "supcon": 2}, Kept: &kept, KeptPer: map[string]float64{"fc1.weight": 0.7}},
			rundir.Metric{Stage: "finetune", Iter: i * 100, Valid: &metrics.Accuracy{Accuracy: 0.5, AlignedAccuracy: 0.9, ConflictingAccuracy: 0.4}})
	}
	dir := t.TempDir()
	files, err := Metrics(ms, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss-prune.png", "kept-prune.png", "valid-finetune.png"}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %v", files, want)
	}
	for i, w := range want {
		if filepath.Base(files[i]) != w {
			t.Errorf("file %d = %s, want %s", i, files[i], w)
		}
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", files[i], err)
		}
		if img.Bounds().Dx() < 400 {
			t.Errorf("%s is %d px wide", files[i], img.Bounds().Dx())
		}
	}
}

func TestReadMetricsNamesBadLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	os.WriteFile(p, []byte("{\"stage\":\"prune\",\"iter\":1}\n{oops\n"), 0o644)
	_, err := ReadMetrics(p)
	if err == nil || !strings.Contains(err.Error(), "metrics.jsonl:2") {
		t.Fatalf("error %v, want one naming line 2", err)
	}
}

// TestStageNamesStayInPlots: a stage name read from a run directory's metrics.jsonl can
// come from anywhere; the figure's file must stay a plain name inside the plots folder.
func TestStageNamesStayInPlots(t *testing.T) {
	for _, stage := range []string{"/../../../tmp/evil", "..", "a/b", "", strings.Repeat("x", 300), "prune"} {
		for _, f := range figures([]rundir.Metric{{Stage: stage, Loss: map[string]float64{"ce": 1}}}) {
			if f.file != filepath.Base(f.file) || strings.Contains(f.file, "..") || len(f.file) > 80 {
				t.Errorf("stage %.20q: figure file %q", stage, f.file)
			}
		}
	}
}

// TestHostileValuesDraw: loss values a diverged run writes (huge, ±Inf, NaN, the float32
// maximum a loss of 1e-30-normalised inputs reaches) and constant or tiny lines never make
// gonum/plot panic: each figure is drawn with the drawable points and says how many it left
// out, or, with none drawable, is an error naming the plot.
func TestHostileValuesDraw(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name   string
		values []float64
		left   int // points the title says were not drawn; -1: no figure, an error
	}{
		{"one point at the float32 maximum", []float64{3.4028234663852886e38}, 0},
		{"one point at -1e300", []float64{-1e300}, 0},
		{"one point at 1e300", []float64{1e300}, 0},
		{"constant 1e300", []float64{1e300, 1e300, 1e300}, 0},
		{"-1e300 to 1e300", []float64{-1e300, 1e300}, 0},
		{"a denormal", []float64{0, 1e-320}, 0},
		{"tiny spread on a large value", []float64{1e20, 1e20 + 1e5}, 0},
		{"Inf and NaN among finite", []float64{1, inf, nan, 2}, 2},
		{"max float among finite", []float64{1, math.MaxFloat64, 2}, 1},
		{"nothing drawable", []float64{nan, -inf, math.MaxFloat64}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ms []rundir.Metric
			for i, v := range c.values {
				ms = append(ms, rundir.Metric{Stage: "finetune", Iter: i, Loss: map[string]float64{"ce": v}})
			}
			figs := figures(ms)
			if len(figs) != 1 {
				t.Fatalf("%d figures", len(figs))
			}
			path := filepath.Join(t.TempDir(), figs[0].file)
			err := figs[0].save(path)
			if c.left < 0 {
				if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "gonum/plot could not") {
					t.Fatalf("error %v, want one naming %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(path); err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
				t.Fatalf("no PNG: %v", err)
			}
			_, left := Drawable(figs[0].lines["ce"])
			if left != c.left {
				t.Errorf("%d points left out, want %d", left, c.left)
			}
		})
	}
}

// A figure that cannot be drawn leaves the others, and the error names it.
func TestMetricsDrawsTheRest(t *testing.T) {
	ms := []rundir.Metric{
		{Stage: "prune", Iter: 1, Loss: map[string]float64{"ce": math.NaN()}},
		{Stage: "finetune", Iter: 1, Loss: map[string]float64{"ce": 1}},
	}
	files, err := Metrics(ms, t.TempDir())
	if len(files) != 1 || filepath.Base(files[0]) != "loss-finetune.png" || err == nil || !strings.Contains(err.Error(), "loss-prune.png") {
		t.Fatalf("files %v, error %v", files, err)
	}
}

// FuzzRange: every range Range gives for drawable values holds them and is one that
// gonum/plot's tick marker accepts.
func FuzzRange(f *testing.F) {
	f.Add(1.0, 1.0)
	f.Add(1e300, -1e300)
	f.Add(0.0, 5e-324)
	f.Add(3.4028234663852886e38, 3.4028234663852886e38)
	f.Fuzz(func(t *testing.T, a, b float64) {
		vs, _ := Drawable(plotter.XYs{{X: a, Y: 0}, {X: b, Y: 0}})
		xs := make([]float64, len(vs))
		for i, p := range vs {
			xs[i] = p.X
		}
		lo, hi := Range(xs)
		if !(lo < hi) || math.IsInf(hi-lo, 0) {
			t.Fatalf("Range(%v) = [%v, %v]", xs, lo, hi)
		}
		for _, x := range xs {
			if x < lo || x > hi {
				t.Fatalf("Range(%v) = [%v, %v] leaves out %v", xs, lo, hi, x)
			}
		}
		if len(gplot.DefaultTicks{}.Ticks(lo, hi)) == 0 {
			t.Fatalf("no ticks for [%v, %v]", lo, hi)
		}
	})
}
