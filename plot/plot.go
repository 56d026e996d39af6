// Package plot draws a run's metrics.jsonl as PNG figures: loss terms, validation
// accuracies and kept ratios over training, one figure per stage and quantity.
package plot

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/rundir"
)

// ReadMetrics parses a metrics.jsonl file (rundir.ReadMetrics).
func ReadMetrics(path string) ([]rundir.Metric, error) { return rundir.ReadMetrics(path) }

// series maps a line's name to its points, kept in the order metrics arrive.
type series map[string]plotter.XYs

func (s series) add(name string, x int, y float64) {
	s[name] = append(s[name], plotter.XY{X: float64(x), Y: y})
}

// figure is one PNG: a title, axis labels and its lines.
type figure struct {
	file, title, y string
	lines          series
}

// Metrics renders every figure the metrics support into dir and returns the files written;
// the error names each figure that could not be drawn (the others are written).
func Metrics(metrics []rundir.Metric, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var written []string
	var errs []error
	for _, f := range figures(metrics) {
		path := filepath.Join(dir, f.file)
		if err := f.save(path); err != nil {
			errs = append(errs, err) // one figure that cannot be drawn leaves the others
			continue
		}
		written = append(written, path)
	}
	return written, errors.Join(errs...)
}

func figures(metrics []rundir.Metric) []figure {
	byKey := map[string]*figure{}
	var order []string
	get := func(file, title, y string) series {
		if f, ok := byKey[file]; ok {
			return f.lines
		}
		byKey[file] = &figure{file: file, title: title, y: y, lines: series{}}
		order = append(order, file)
		return byKey[file].lines
	}
	for _, m := range metrics {
		for term, v := range m.Loss {
			get("loss-"+fileStage(m.Stage)+".png", "Loss terms, "+m.Stage, "loss").add(term, m.Iter, v)
		}
		if m.Valid != nil {
			s := get("valid-"+fileStage(m.Stage)+".png", "Validation accuracy, "+m.Stage, "accuracy")
			s.add("overall", m.Iter, m.Valid.Accuracy)
			s.add("aligned", m.Iter, m.Valid.AlignedAccuracy)
			s.add("conflicting", m.Iter, m.Valid.ConflictingAccuracy)
			s.add("worst group", m.Iter, m.Valid.WorstGroupAccuracy)
		}
		if m.Kept != nil {
			s := get("kept-"+fileStage(m.Stage)+".png", "Kept ratio of masked weights, "+m.Stage, "kept ratio")
			s.add("overall", m.Iter, *m.Kept)
			for layer, v := range m.KeptPer {
				s.add(layer, m.Iter, v)
			}
		}
	}
	out := make([]figure, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

// fileStage is a stage name fit for a file name: metrics.jsonl is read from a run
// directory that may come from anywhere, and a stage like "../../x" must not put a plot
// outside the plots folder.
func fileStage(stage string) string {
	b := []byte(stage)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || len(b) > 64 {
		return fmt.Sprintf("stage-%x", sha256.Sum256([]byte(stage)))[:16]
	}
	return string(b)
}

func (f figure) save(path string) error {
	p := plot.New()
	p.Title.Text = f.title
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = f.y
	names := make([]string, 0, len(f.lines))
	for n := range f.lines {
		names = append(names, n)
	}
	sort.Strings(names)
	args := make([]any, 0, 2*len(names))
	var all plotter.XYs
	left := 0
	for _, n := range names {
		pts, dropped := Drawable(f.lines[n])
		left += dropped
		if len(pts) == 0 {
			continue
		}
		all = append(all, pts...)
		args = append(args, n, pts)
	}
	if len(all) == 0 {
		return fmt.Errorf("plot %s: no point is a finite number of magnitude at most %g", path, MaxValue)
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if left > 0 {
		p.Title.Text += fmt.Sprintf(" (%d points not drawn: not finite, or beyond ±%g)", left, MaxValue)
	}
	xs, ys := make([]float64, len(all)), make([]float64, len(all))
	for i, pt := range all {
		xs[i], ys[i] = pt.X, pt.Y
	}
	p.X.Min, p.X.Max = Range(xs)
	p.Y.Min, p.Y.Max = Range(ys)
	p.Legend.Top = true
	return SavePNG(p, path)
}

// MaxValue is the largest magnitude a plot draws. gonum/plot computes with an axis's span
// (max − min) and pads a one-value axis by ±1; values beyond this make either overflow or
// vanish in rounding, and its tick marker panics on the empty range that results. A
// diverged loss of 1e300 is still drawn.
const MaxValue = 1e300

// Drawable is pts less the points no axis can hold (NaN, ±Inf, beyond ±MaxValue), and how
// many it left out: a figure says so in its title rather than failing.
func Drawable(pts plotter.XYs) (plotter.XYs, int) {
	out := make(plotter.XYs, 0, len(pts))
	for _, p := range pts {
		if drawable(p.X) && drawable(p.Y) {
			out = append(out, p)
		}
	}
	return out, len(pts) - len(out)
}

func drawable(v float64) bool { return math.Abs(v) <= MaxValue }

// Range is an axis range that holds every value of vs (drawable ones: see Drawable) and
// that gonum/plot can divide into ticks: a span that is neither zero nor lost in the
// rounding of values that large, nor below what ticks resolve (a constant loss, a line of
// tiny values). With no values it is [0, 1].
func Range(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return 0, 1
	}
	lo, hi = vs[0], vs[0]
	for _, v := range vs[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	mag := math.Max(math.Abs(lo), math.Abs(hi))
	if hi-lo > 1e-6*mag && hi-lo > 1e-200 {
		return lo, hi
	}
	mid := lo/2 + hi/2
	half := math.Max(0.05*math.Abs(mid), 0.5)
	return mid - half, mid + half
}

// SavePNG renders p at the size every dcwp-go plot has (8×5 in) and writes it atomically.
// A plot is a side output: if gonum/plot panics on some data, the panic becomes an error
// naming the plot, for the caller to report as a warning.
func SavePNG(p *plot.Plot, path string) error {
	return save(path, 8*vg.Inch, 5*vg.Inch, func(c draw.Canvas) { p.Draw(c) })
}

// SavePNGRow renders plots side by side as panels of one figure (each 6×5 in), with
// SavePNG's guarantees.
func SavePNGRow(ps []*plot.Plot, path string) error {
	w := vg.Length(len(ps)) * 6 * vg.Inch
	return save(path, w, 5*vg.Inch, func(c draw.Canvas) {
		tiles := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter, PadTop: vg.Millimeter, PadBottom: vg.Millimeter}
		for i, p := range ps {
			p.Draw(tiles.At(c, i, 0))
		}
	})
}

func save(path string, w, h vg.Length, drawTo func(draw.Canvas)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot %s: gonum/plot could not draw it: %v", path, r)
		}
	}()
	img := vgimg.New(w, h)
	dc := draw.New(img)
	// A white background, as plot.WriterTo gives.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	drawTo(dc)
	return atomicfile.Write(path, func(bw *bufio.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(bw)
		return err
	})
}
