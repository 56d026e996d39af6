package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"

	"github.com/dcwp-go/dcwp/dataset"
	dcwpplot "github.com/dcwp-go/dcwp/plot"
)

// errPoints are means with their standard deviations, for plotter's error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// Plot draws the test accuracy against conflict pct, mean ± std over seeds, vanilla and
// DCWP side by side at each share; a line per network and group of the other settings.
func (t Table) Plot(path string) error {
	var shares []dataset.Share
	for _, r := range t.Rows {
		if !slices.Contains(shares, r.ConflictPct) {
			shares = append(shares, r.ConflictPct)
		}
	}
	slices.SortFunc(shares, func(a, b dataset.Share) int { return cmp.Compare(a.Percent(), b.Percent()) })
	pos := map[dataset.Share]int{}
	xs := make([]string, len(shares))
	for i, s := range shares {
		pos[s], xs[i] = i, s.String()
	}
	families, order := t.families()
	p := plot.New()
	p.Title.Text = "Test accuracy by conflict share (mean ± std over seeds)"
	p.X.Label.Text = "conflict pct"
	p.Y.Label.Text = "test accuracy (%)"
	p.NominalX(xs...)
	width := 0.6 / float64(2*len(order))
	k, drawn := 0, 0
	for _, fam := range order {
		for _, net := range []string{"vanilla", "dcwp"} {
			var pts errPoints
			for _, r := range families[fam] {
				s := r.Vanilla.Unbiased
				if net == "dcwp" {
					s = r.DCWP.Unbiased
				}
				if s == nil {
					continue
				}
				x := float64(pos[r.ConflictPct]) - 0.3 + width*(float64(k)+0.5)
				pts.XYs = append(pts.XYs, plotter.XY{X: x, Y: 100 * s.Mean})
				pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{100 * s.Std, 100 * s.Std})
			}
			k++
			if len(pts.XYs) == 0 {
				continue
			}
			drawn++
			sort.Sort(byX(pts))
			if err := addSeries(p, strings.TrimSpace(net+" "+fam), pts, k); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
	}
	if drawn == 0 {
		return fmt.Errorf("plot %s: no finished run to draw", path)
	}
	// Every share's column whole, and the error bars clear of the frame.
	p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	p.Y.Min, p.Y.Max = p.Y.Min-2, p.Y.Max+2
	// Accuracy rises with the conflict share, so the top left is free for the legend.
	p.Legend.Top, p.Legend.Left = true, true
	return dcwpplot.SavePNG(p, path)
}

func addSeries(p *plot.Plot, name string, pts errPoints, k int) error {
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
	p.Legend.Add(name, l, s)
	return nil
}

type byX errPoints

func (b byX) Len() int           { return len(b.XYs) }
func (b byX) Less(i, j int) bool { return b.XYs[i].X < b.XYs[j].X }
func (b byX) Swap(i, j int) {
	b.XYs[i], b.XYs[j] = b.XYs[j], b.XYs[i]
	b.YErrors[i], b.YErrors[j] = b.YErrors[j], b.YErrors[i]
}

// families groups the rows by every shown setting but conflict pct and those that follow
// from it, named by those that vary ("" when only conflict pct does).
func (t Table) families() (map[string][]Row, []string) {
	fams := map[string][]Row{}
	var order []string
	varying := map[string]bool{}
	for _, c := range t.Columns {
		first := ""
		for i, r := range t.Rows {
			v := value(r, c)
			if i == 0 {
				first = v
			} else if v != first {
				varying[c] = true
			}
		}
	}
	for c := range varying {
		if followsPct(t.Rows, c) {
			delete(varying, c) // a preset's per-share setting (λ_up) is part of the x axis
		}
	}
	for _, r := range t.Rows {
		var parts []string
		for _, s := range r.Settings {
			if s.Key != "conflict_pct" && varying[s.Key] {
				parts = append(parts, s.Key+"="+s.Value)
			}
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

// followsPct says whether column c takes one value per conflict pct, as a preset's
// per-share λ_up does: then it names no family of its own.
func followsPct(rows []Row, c string) bool {
	byPct := map[dataset.Share]string{}
	for _, r := range rows {
		v := value(r, c)
		if old, ok := byPct[r.ConflictPct]; ok && old != v {
			return false
		}
		byPct[r.ConflictPct] = v
	}
	return true
}
