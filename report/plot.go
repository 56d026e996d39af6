package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"

	dcwpplot "github.com/dcwp-go/dcwp/plot"
)

// errPoints are means with their standard deviations, for plotter's error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// panels are the accuracies the plot draws, one panel each: overall, and the two that
// show whether debiasing worked.
var panels = []struct {
	title string
	stat  func(Acc) *Stat
}{
	{"overall", func(a Acc) *Stat { return a.Unbiased }},
	{"bias-conflicting", func(a Acc) *Stat { return a.Conflicting }},
	{"worst group", func(a Acc) *Stat { return a.WorstGroup }},
}

// Plot draws the test accuracies (overall, conflicting, worst group: a panel each) against
// the setting that varies across the runs (Table.axis), mean ± std over seeds, vanilla
// and DCWP side by side at each value; a line per network and group of the other settings
// that vary. Values no axis can hold are left out and counted in the title.
func (t Table) Plot(path string) error {
	var rows []Row
	for _, r := range t.Rows {
		if r.N > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return fmt.Errorf("plot %s: no finished run to draw", path)
	}
	t.Rows = rows
	x, xs := t.axis()
	pos := map[string]int{}
	for i, v := range xs {
		pos[v] = i
	}
	families, order := t.families(x)
	var ps []*plot.Plot
	left := 0
	for i, pn := range panels {
		p, dropped, err := t.panel(pn.title, pn.stat, x, xs, pos, families, order, i == 0)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		left += dropped
		ps = append(ps, p)
	}
	head := axisTitle(x, len(rows))
	if left > 0 {
		head += fmt.Sprintf(" (%d values not drawn: not finite, or beyond ±%g)", left, dcwpplot.MaxValue)
	}
	ps[len(ps)/2].Title.Text = head + "\n" + ps[len(ps)/2].Title.Text
	return dcwpplot.SavePNGRow(ps, path)
}

// axisTitle says what the x axis is, or that nothing varies.
func axisTitle(x string, groups int) string {
	if x == "" {
		return fmt.Sprintf("Test accuracy, mean ± std over seeds: no setting varies across these runs (%d group)", groups)
	}
	return "Test accuracy by " + x + ", mean ± std over seeds"
}

// panel draws one accuracy of every family and network; the number of values it left out.
func (t Table) panel(title string, stat func(Acc) *Stat, x string, xs []string, pos map[string]int,
	families map[string][]Row, order []string, legend bool) (*plot.Plot, int, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	if x == "" {
		p.X.Label.Text = "(no setting varies)"
	}
	p.Y.Label.Text = title + " test accuracy (%)"
	p.NominalX(xs...)
	width := 0.6 / float64(2*len(order))
	k, left := 0, 0
	var ys []float64
	for _, fam := range order {
		for _, net := range []string{"vanilla", "dcwp"} {
			var pts errPoints
			for _, r := range families[fam] {
				a := r.Vanilla
				if net == "dcwp" {
					a = r.DCWP
				}
				s := stat(a)
				if s == nil {
					continue
				}
				m, sd := 100*s.Mean, 100*s.Std
				if _, n := dcwpplot.Drawable(plotter.XYs{{X: 0, Y: m}, {X: 0, Y: sd}}); n > 0 {
					left++
					continue
				}
				px := float64(pos[value(r, x)]) - 0.3 + width*(float64(k)+0.5)
				pts.XYs = append(pts.XYs, plotter.XY{X: px, Y: m})
				pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{sd, sd})
				ys = append(ys, m-sd, m+sd)
			}
			k++
			if len(pts.XYs) == 0 {
				continue
			}
			sort.Sort(byX(pts))
			if err := addSeries(p, strings.TrimSpace(net+" "+fam), pts, k, legend); err != nil {
				return nil, 0, err
			}
		}
	}
	// Every value's column whole, and the error bars clear of the frame.
	p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	lo, hi := dcwpplot.Range(ys)
	pad := (hi - lo) * 0.05
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	p.Legend.Top, p.Legend.Left = true, true
	return p, left, nil
}

func addSeries(p *plot.Plot, name string, pts errPoints, k int, legend bool) error {
	l, s, err := plotter.NewLinePoints(pts.XYs)
	if err != nil {
		return err
	}
	l.Color, s.Color = plotutil.Color(k), plotutil.Color(k)
	s.Shape = plotutil.Shape(k)
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return err
	}
	eb.Color = plotutil.Color(k)
	p.Add(l, s, eb)
	if legend {
		p.Legend.Add(name, l, s)
	}
	return nil
}

type byX errPoints

func (b byX) Len() int           { return len(b.XYs) }
func (b byX) Less(i, j int) bool { return b.XYs[i].X < b.XYs[j].X }
func (b byX) Swap(i, j int) {
	b.XYs[i], b.XYs[j] = b.XYs[j], b.XYs[i]
	b.YErrors[i], b.YErrors[j] = b.YErrors[j], b.YErrors[i]
}

// varying are the table's settings that differ between rows, conflict pct first (the
// paper's axis), then in the table's column order.
func (t Table) varying() []string {
	cols := slices.Clone(t.Columns)
	slices.SortStableFunc(cols, func(a, b string) int {
		return cmp.Compare(boolInt(a != "conflict_pct"), boolInt(b != "conflict_pct"))
	})
	var out []string
	for _, c := range cols {
		for _, r := range t.Rows[1:] {
			if value(r, c) != value(t.Rows[0], c) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// axis is the setting the plot puts on its x axis: the first that varies ("" when none
// does), and its values in order (numerically where every one is a number).
func (t Table) axis() (string, []string) {
	v := t.varying()
	if len(v) == 0 {
		return "", []string{"all runs"}
	}
	x := v[0]
	var xs []string
	for _, r := range t.Rows {
		if s := value(r, x); !slices.Contains(xs, s) {
			xs = append(xs, s)
		}
	}
	slices.SortStableFunc(xs, func(a, b string) int {
		fa, ea := strconv.ParseFloat(a, 64)
		fb, eb := strconv.ParseFloat(b, 64)
		if ea == nil && eb == nil {
			return cmp.Compare(fa, fb)
		}
		return cmp.Compare(a, b)
	})
	return x, xs
}

// families groups the rows by the settings that vary but the x axis and those that follow
// from it, named by them ("" when only the x axis varies).
func (t Table) families(x string) (map[string][]Row, []string) {
	var named []string
	for _, c := range t.varying() {
		if c != x && !follows(t.Rows, x, c) {
			named = append(named, c) // a preset's per-share setting (λ_up) is part of the x axis
		}
	}
	fams := map[string][]Row{}
	var order []string
	for _, r := range t.Rows {
		var parts []string
		for _, c := range named {
			parts = append(parts, c+"="+value(r, c))
		}
		name := strings.Join(parts, " ")
		if _, ok := fams[name]; !ok {
			order = append(order, name)
		}
		fams[name] = append(fams[name], r)
	}
	return fams, order
}

func value(r Row, key string) string {
	for _, s := range r.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// follows says whether column c takes one value per value of x, as a preset's per-share
// λ_up does of conflict pct: then it names no family of its own.
func follows(rows []Row, x, c string) bool {
	if x == "" {
		return false
	}
	byX := map[string]string{}
	for _, r := range rows {
		v := value(r, c)
		if old, ok := byX[value(r, x)]; ok && old != v {
			return false
		}
		byX[value(r, x)] = v
	}
	return true
}
