// Package plot draws a run's metrics.jsonl as PNG figures: loss terms, validation
// accuracies and kept ratios over training, one figure per stage and quantity.
package plot

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

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

// Metrics renders every figure the metrics support into dir and returns the files written.
func Metrics(metrics []rundir.Metric, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var written []string
	for _, f := range figures(metrics) {
		path := filepath.Join(dir, f.file)
		if err := f.save(path); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
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
	for _, n := range names {
		args = append(args, n, f.lines[n])
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	p.Legend.Top = true
	return SavePNG(p, path)
}

// SavePNG renders p at the size every dcwp-go plot has (8×5 in) and writes it atomically.
func SavePNG(p *plot.Plot, path string) error {
	w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return atomicfile.Write(path, func(bw *bufio.Writer) error {
		_, err := w.WriteTo(bw)
		return err
	})
}
