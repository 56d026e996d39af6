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

// errPoints are means with their standard deviations, for plotter's error bars; XErrors
// only on a measured axis (xAxis.measure), where x is a mean over seeds too.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
	plotter.XErrors
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

// measure is a setting whose runs the plot places by what they achieved rather than by
// the value asked, on a numeric axis in percent.
type measure struct {
	setting string
	label   string
	stat    func(Row) *Stat // the achieved share of the group's DCWP networks
	vanilla float64         // where the vanilla network sits: its share, the same in every run
}

// measures are the settings a plot puts on a measured axis. A FLOPs budget is a ceiling:
// the objective may keep less, and budget 1 keeps what it keeps, so a budget sweep is drawn
// against the kept FLOPs summary.json records; vanilla is dense, 100 %.
var measures = []measure{
	{"target_flops", "kept FLOPs (% of the dense masked layers', achieved)", func(r Row) *Stat { return r.FLOPsKept }, 1},
}

// xAxis is the plot's x axis: the setting that varies (key, "" when none does), its values
// in order (nominal), and, when the setting is one of measures and every group recorded
// the figure, the measure that places the points instead.
type xAxis struct {
	key     string
	nominal []string
	pos     map[string]int
	measure *measure
}

func (t Table) xAxis() xAxis {
	x, xs := t.axis()
	a := xAxis{key: x, nominal: xs, pos: map[string]int{}}
	for i, v := range xs {
		a.pos[v] = i
	}
	for i, m := range measures {
		if m.setting == x && t.all(m.stat) {
			a.measure = &measures[i]
		}
	}
	return a
}

// all says whether every row has the figure (a run from before it was recorded has not).
func (t Table) all(stat func(Row) *Stat) bool {
	for _, r := range t.Rows {
		if stat(r) == nil {
			return false
		}
	}
	return true
}

func (a xAxis) label() string {
	switch {
	case a.measure != nil:
		return a.measure.label
	case a.key == "":
		return "(no setting varies)"
	}
	return a.key
}

// title says what the x axis is, or that nothing varies.
func (a xAxis) title(groups int) string {
	if a.measure != nil {
		return fmt.Sprintf("Test accuracy by kept FLOPs (the runs' %s), mean ± std over seeds", a.key)
	}
	return axisTitle(a.key, groups)
}

// Plot draws the test accuracies (overall, conflicting, worst group: a panel each) against
// the setting that varies across the runs (Table.axis), mean ± std over seeds, vanilla
// and DCWP side by side at each value; a line per network and group of the other settings
// that vary. A budget sweep is drawn against the FLOPs kept (measures). Values no axis can
// hold are left out and counted in the title.
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
	x := t.xAxis()
	families, order := t.families(x.key)
	var ps []*plot.Plot
	left := 0
	for i, pn := range panels {
		p, dropped, err := panel(pn.title, pn.stat, x, families, order, i == 0)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		left += dropped
		ps = append(ps, p)
	}
	head := x.title(len(rows))
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

// nets are the networks each family draws, and the accuracies of each in a row.
var nets = []struct {
	name string
	acc  func(Row) Acc
}{
	{"vanilla", func(r Row) Acc { return r.Vanilla }},
	{"dcwp", func(r Row) Acc { return r.DCWP }},
}

// panel draws one accuracy of every family and network; the number of values it left out.
func panel(title string, stat func(Acc) *Stat, x xAxis, families map[string][]Row, order []string, legend bool) (*plot.Plot, int, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x.label()
	p.Y.Label.Text = title + " test accuracy (%)"
	if x.measure == nil {
		p.NominalX(x.nominal...)
	}
	width := 0.6 / float64(len(nets)*len(order))
	k, left := 0, 0
	var xs, ys []float64
	for _, fam := range order {
		for _, net := range nets {
			var pts errPoints
			for _, r := range x.rows(families[fam], net.name) {
				s := stat(net.acc(r))
				if s == nil {
					continue
				}
				m, sd := 100*s.Mean, 100*s.Std
				px, pxe := x.at(r, net.name, width*(float64(k)+0.5))
				if _, n := dcwpplot.Drawable(plotter.XYs{{X: px, Y: m}, {X: pxe, Y: sd}}); n > 0 {
					left++
					continue
				}
				pts.XYs = append(pts.XYs, plotter.XY{X: px, Y: m})
				pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{sd, sd})
				pts.XErrors = append(pts.XErrors, struct{ Low, High float64 }{pxe, pxe})
				xs, ys = append(xs, px-pxe, px+pxe), append(ys, m-sd, m+sd)
			}
			k++
			if len(pts.XYs) == 0 {
				continue
			}
			sort.Sort(byX(pts))
			if err := addSeries(p, strings.TrimSpace(net.name+" "+fam), pts, k, x.measure != nil, legend); err != nil {
				return nil, 0, err
			}
		}
	}
	// Every value's column whole (a nominal axis), and the error bars clear of the frame.
	p.X.Min, p.X.Max = -0.5, float64(len(x.nominal))-0.5
	if x.measure != nil {
		p.X.Min, p.X.Max = padded(xs)
	}
	p.Y.Min, p.Y.Max = padded(ys)
	p.Legend.Top, p.Legend.Left = true, true
	return p, left, nil
}

// padded is a range holding vs with 5 % to spare on each side.
func padded(vs []float64) (float64, float64) {
	lo, hi := dcwpplot.Range(vs)
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// rows are the rows a network of a family is drawn from: all of them, but on a measured
// axis the vanilla network once (the family's group with the most finished runs), as it
// sits at one place whatever the setting asked.
func (a xAxis) rows(fam []Row, net string) []Row {
	if a.measure == nil || net != "vanilla" {
		return fam
	}
	best := fam[0]
	for _, r := range fam[1:] {
		if r.N > best.N {
			best = r
		}
	}
	return []Row{best}
}

// at is a row's x and its error: on a nominal axis its value's column, each series offset
// by dodge so that their error bars do not hide each other; on a measured axis the mean
// and std of what the group achieved, in percent.
func (a xAxis) at(r Row, net string, dodge float64) (float64, float64) {
	if a.measure == nil {
		return float64(a.pos[value(r, a.key)]) - 0.3 + dodge, 0
	}
	if net == "vanilla" {
		return 100 * a.measure.vanilla, 0
	}
	s := a.measure.stat(r)
	return 100 * s.Mean, 100 * s.Std
}

func addSeries(p *plot.Plot, name string, pts errPoints, k int, xErrors, legend bool) error {
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
	if xErrors {
		xb, err := plotter.NewXErrorBars(pts)
		if err != nil {
			return err
		}
		xb.Color = plotutil.Color(k)
		p.Add(xb)
	}
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
	b.XErrors[i], b.XErrors[j] = b.XErrors[j], b.XErrors[i]
}

// varying are the table's settings that differ between rows, conflict pct first (the
// paper's axis), then the settings drawn on a measured axis (a budget: the granularity
// beside it names lines), then in the table's column order.
func (t Table) varying() []string {
	cols := slices.Clone(t.Columns)
	slices.SortStableFunc(cols, func(a, b string) int { return cmp.Compare(axisRank(a), axisRank(b)) })
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

// axisRank orders the settings for the x axis: conflict pct, then measures', then the rest.
func axisRank(c string) int {
	if c == "conflict_pct" {
		return 0
	}
	if slices.ContainsFunc(measures, func(m measure) bool { return m.setting == c }) {
		return 1
	}
	return 2
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
