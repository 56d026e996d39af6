package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// writeRuns writes run directories of two shares × three seeds with random summaries, and
// one failed run (a marker and a log, no summary) in the 1 % group.
func writeRuns(t *testing.T, root string) {
	rng := rand.New(rand.NewPCG(7, 8))
	acc := func() metrics.Accuracy {
		correct := rng.IntN(1001)
		return metrics.Accuracy{Accuracy: float64(correct) / 1000, AlignedAccuracy: rng.Float64(), ConflictingAccuracy: rng.Float64(),
			WorstGroupAccuracy: rng.Float64(), Samples: 1000, Correct: correct}
	}
	for _, pct := range []string{"0.5", "1"} {
		for seed := range 4 {
			dir := filepath.Join(root, fmt.Sprintf("conflict-pct=%s_seed=%d", pct, seed))
			os.MkdirAll(dir, 0o755)
			cfg, err := rundir.ParseConfig([]byte(fixture.ConfigJSON))
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConflictPct, cfg.Variant, cfg.Mode, cfg.Seed = dataset.MustShare(pct), rundir.Clean, rundir.ModeDCWP, int64(seed)
			cfg.Select, cfg.Data, cfg.LambdaCon = rundir.SelectBestValid, fmt.Sprint("/data/", seed), 1
			if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), cfg); err != nil {
				t.Fatal(err)
			}
			if pct == "1" && seed == 3 {
				os.WriteFile(filepath.Join(dir, sweep.LogFile), []byte("boom\n"), 0o644)
				atomicfile.WriteJSON(filepath.Join(dir, sweep.TaskFile), sweep.Task{State: sweep.Failed, ExitCode: 1})
				continue
			}
			sum := rundir.Summary{Vanilla: rundir.Eval{Test: acc(), Valid: acc()}, DCWP: &rundir.Eval{Test: acc(), Valid: acc()},
				KeptRatio: rng.Float64(), Mined: rundir.Mined{Flagged: rng.IntN(500), Precision: rng.Float64(), Recall: rng.Float64()},
				StageSeconds: map[string]float64{"pretrain": 100 * rng.Float64(), "prune": 50 * rng.Float64()}}
			if pct == "1" { // a summary that records the process's wall time; 0.5's are from before
				sum.WallSeconds = 200 + 100*rng.Float64()
			}
			if pct == "0.5" { // --pretrain-iters auto: the length it chose, not the config's most
				sum.PretrainAuto = &rundir.AutoChoice{Rule: rundir.StopMinedFit, Iters: 1 + rng.IntN(1000), Max: 1000}
			}
			if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNumbers recomputes every number of the JSON report from the summary.json files,
// read as plain JSON, with its own mean and standard deviation.
func TestNumbers(t *testing.T) {
	root := t.TempDir()
	writeRuns(t, root)
	entries, err := Collect([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Build(entries).Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rows []map[string]any
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 2 {
		t.Fatalf("%d rows, want 2 (one per share; seeds and data folders averaged over)", len(got.Rows))
	}
	paths := map[string][]string{
		"vanilla.unbiased": {"vanilla", "test", "accuracy"}, "vanilla.aligned": {"vanilla", "test", "aligned_accuracy"},
		"vanilla.conflicting": {"vanilla", "test", "conflicting_accuracy"}, "vanilla.worst_group": {"vanilla", "test", "worst_group_accuracy"},
		"dcwp.unbiased": {"dcwp", "test", "accuracy"}, "dcwp.aligned": {"dcwp", "test", "aligned_accuracy"},
		"dcwp.conflicting": {"dcwp", "test", "conflicting_accuracy"}, "dcwp.worst_group": {"dcwp", "test", "worst_group_accuracy"},
		"kept_ratio": {"kept_ratio"}, "mined_precision": {"mined", "precision"}, "mined_recall": {"mined", "recall"},
		"mined_count": {"mined", "flagged"},
	}
	for _, row := range got.Rows {
		pct := row["conflict_pct"].(string)
		sums := readSummaries(t, root, pct)
		want := map[string][]float64{}
		for _, s := range sums {
			for k, p := range paths {
				want[k] = append(want[k], dig(s, p...))
			}
			want["gain"] = append(want["gain"], dig(s, "dcwp", "test", "accuracy")-dig(s, "vanilla", "test", "accuracy"))
			want["conflicting_gain"] = append(want["conflicting_gain"],
				dig(s, "dcwp", "test", "conflicting_accuracy")-dig(s, "vanilla", "test", "conflicting_accuracy"))
			wall, recorded := s["wall_seconds"].(float64) // the process's, start to end
			if !recorded {                                // an older summary: the sum of its stages
				for _, v := range s["stage_seconds"].(map[string]any) {
					wall += v.(float64)
				}
			}
			want["wall_seconds"] = append(want["wall_seconds"], wall)
			pre := 1000.0 // the fixture config's pretrain.iters
			if a, ok := s["pretrain_auto"]; ok {
				pre = a.(map[string]any)["iters"].(float64)
			}
			want["pretrain_iters"] = append(want["pretrain_iters"], pre)
		}
		for k, vs := range want {
			st := digAny(row, strings.Split(k, ".")...).(map[string]any)
			m, sd := meanStd(vs)
			if n := int(st["n"].(float64)); n != len(vs) || math.Abs(st["mean"].(float64)-m) > 1e-12 || math.Abs(st["std"].(float64)-sd) > 1e-12 {
				t.Errorf("%s %% %s: report %v, recomputed mean %v std %v n %d", pct, k, st, m, sd, len(vs))
			}
		}
		if int(row["n"].(float64)) != len(sums) || row["select"] != "best-valid" {
			t.Errorf("%s %%: n %v select %v, want %d best-valid", pct, row["n"], row["select"], len(sums))
		}
		nd, _ := row["not_done"].([]any)
		if pct == "1" && (len(nd) != 1 || nd[0].(map[string]any)["state"] != "failed" ||
			nd[0].(map[string]any)["log"] != filepath.Join(root, "conflict-pct=1_seed=3", sweep.LogFile)) {
			t.Errorf("1 %%: not done %v, want the failed run with its log", nd)
		}
	}
}

// readSummaries is every summary.json of a share's folders, as plain JSON.
func readSummaries(t *testing.T, root, pct string) []map[string]any {
	dirs, _ := filepath.Glob(filepath.Join(root, "conflict-pct="+pct+"_seed=*"))
	sort.Strings(dirs)
	var out []map[string]any
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, rundir.SummaryFile))
		if os.IsNotExist(err) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func digAny(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return v
}

func dig(m map[string]any, path ...string) float64 { return digAny(m, path...).(float64) }

func meanStd(vs []float64) (float64, float64) {
	var s, ss float64
	for _, v := range vs {
		s += v
	}
	m := s / float64(len(vs))
	for _, v := range vs {
		ss += (v - m) * (v - m)
	}
	return m, math.Sqrt(ss / float64(len(vs)-1))
}

// Every format renders, the plot is a PNG, and the failed run is named in each.
func TestFormats(t *testing.T) {
	root := t.TempDir()
	writeRuns(t, root)
	entries, err := Collect([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	tab := Build(entries)
	for _, f := range Formats() {
		var b strings.Builder
		if err := tab.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "conflict-pct=1_seed=3") {
			t.Errorf("%s does not name the failed run:\n%s", f, b.String())
		}
	}
	png := filepath.Join(t.TempDir(), "r.png")
	if err := tab.Plot(png); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(png); len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatal("plot is not a PNG")
	}
	if _, err := Collect([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no run directory") {
		t.Fatalf("empty folder: %v", err)
	}
}

// TestAxis: the plot's x axis is the setting that varies (conflict pct first, then the
// columns' order), its values in numeric order where they are numbers; the other settings
// that vary name families of lines, but one that follows the axis (a preset's per-share
// λ_up) stays with it; when nothing varies there is no axis and one family.
func TestAxis(t *testing.T) {
	cols := []string{"dataset", "model", "conflict_pct", "lambda_con", "lambda_up"}
	row := func(ds, model, pct, lc, lu string) Row {
		vs := []string{ds, model, pct, lc, lu}
		r := Row{N: 1}
		for i, c := range cols {
			r.Settings = append(r.Settings, Setting{Key: c, Value: vs[i]})
		}
		return r
	}
	for _, c := range []struct {
		name  string
		rows  []Row
		axis  string
		xs    []string
		fams  []string
		title string
	}{
		{"nothing varies", []Row{row("cmnist", "mlp", "1", "1", "50")}, "", []string{"all runs"}, []string{""}, "no setting varies"},
		{"per-share lambda_up", []Row{row("cmnist", "mlp", "5", "1", "10"), row("cmnist", "mlp", "0.5", "1", "80"), row("cmnist", "mlp", "1", "1", "50")},
			"conflict_pct", []string{"0.5", "1", "5"}, []string{""}, "by conflict_pct"},
		{"lambda_con beside the share", []Row{row("cmnist", "mlp", "0.5", "1", "80"), row("cmnist", "mlp", "1", "1", "50"),
			row("cmnist", "mlp", "0.5", "0.05", "80"), row("cmnist", "mlp", "1", "0.05", "50")},
			"conflict_pct", []string{"0.5", "1"}, []string{"lambda_con=1", "lambda_con=0.05"}, "by conflict_pct"},
		{"lambda_con alone, numeric order", []Row{row("folder", "cnn", "", "1", "1"), row("folder", "cnn", "", "0.05", "1"), row("folder", "cnn", "", "10", "1")},
			"lambda_con", []string{"0.05", "1", "10"}, []string{""}, "by lambda_con"},
		{"model and lambda_up vary", []Row{row("folder", "mlp", "", "1", "1"), row("folder", "cnn", "", "1", "1"),
			row("folder", "mlp", "", "1", "20"), row("folder", "cnn", "", "1", "20")},
			"model", []string{"cnn", "mlp"}, []string{"lambda_up=1", "lambda_up=20"}, "by model"},
		{"lambda_up varied within a share", []Row{row("cmnist", "mlp", "1", "1", "50"), row("cmnist", "mlp", "1", "1", "80")},
			"lambda_up", []string{"50", "80"}, []string{""}, "by lambda_up"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := Table{Rows: c.rows, Columns: cols}
			x, xs := tb.axis()
			if x != c.axis || !slices.Equal(xs, c.xs) {
				t.Fatalf("axis %q %q, want %q %q", x, xs, c.axis, c.xs)
			}
			if _, order := tb.families(x); !slices.Equal(order, c.fams) {
				t.Fatalf("families %q, want %q", order, c.fams)
			}
			if got := axisTitle(x, len(c.rows)); !strings.Contains(got, c.title) {
				t.Fatalf("title %q, want %q in it", got, c.title)
			}
			png := filepath.Join(t.TempDir(), "p.png")
			if err := tb.Plot(png); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMarkdownEscapes: config values holding a "|" or a line end stay in their cell, and
// every row of the table has as many cells as its header.
func TestMarkdownEscapes(t *testing.T) {
	tab := Table{Columns: []string{"pretrained", "mode"}, Rows: []Row{
		{Settings: []Setting{{"pretrained", "a|b\nc\r\nd"}, {"mode", `x\|y<br>`}}, N: 0,
			NotDone: []NotDone{{Run: "r|1\nz", State: "failed", Detail: "line one\nline | two"}}},
		{Settings: []Setting{{"pretrained", "plain"}, {"mode", "dcwp"}}},
	}}
	var b strings.Builder
	if err := tab.Write(&b, "md"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	cells := func(l string) int { return strings.Count(l, "|") }
	want := cells(lines[0])
	for i, l := range lines[:4] {
		if cells(l) != want {
			t.Errorf("line %d has %d cell bars, the header %d:\n%s", i+1, cells(l), want, b.String())
		}
	}
	if !strings.Contains(b.String(), "a&#124;b<br>c<br>d") || !strings.Contains(b.String(), "x&#92;&#124;y&lt;br&gt;") {
		t.Errorf("values not escaped:\n%s", b.String())
	}
	for _, l := range lines[4:] {
		if strings.HasPrefix(l, "line") || strings.HasPrefix(l, "z") {
			t.Errorf("a run's detail broke its list item:\n%s", b.String())
		}
	}
}

// TestCollectLinks: a folder of symbolic links to run directories is read like a folder of
// run directories; a link to a folder above is no loop; a link that cannot be followed,
// and one run reached twice (a link beside its target, a folder given twice, a copy with
// the same run id), are errors naming them.
func TestCollectLinks(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	writeRuns(t, runs)
	all, err := Collect([]string{runs})
	if err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(root, "links")
	os.Mkdir(links, 0o755)
	names, _ := os.ReadDir(runs)
	for _, n := range names {
		if err := os.Symlink(filepath.Join(runs, n.Name()), filepath.Join(links, n.Name())); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("..", filepath.Join(links, "up"))
	got, err := Collect([]string{links})
	if err != nil || len(got) != len(all) {
		t.Fatalf("folder of links: %d runs, %v; want %d", len(got), err, len(all))
	}
	var b1, b2 strings.Builder
	Build(all).Write(&b1, "csv")
	Build(got).Write(&b2, "csv")
	if strings.ReplaceAll(b2.String(), links, runs) != b1.String() {
		t.Errorf("through links:\n%s\ndirect:\n%s", b2.String(), b1.String())
	}

	one := filepath.Join(runs, names[0].Name())
	copied := filepath.Join(root, "copy")
	if err := os.CopyFS(copied, os.DirFS(one)); err != nil {
		t.Fatal(err)
	}
	if _, err := rundir.EnsureID(one, false); err != nil {
		t.Fatal(err)
	}
	os.Link(filepath.Join(one, rundir.RunFile), filepath.Join(copied, rundir.RunFile))
	for _, c := range []struct {
		name  string
		setup func(dir string) []string
		want  []string
	}{
		{"dangling link", func(d string) []string {
			os.Symlink(filepath.Join(d, "gone"), filepath.Join(d, "x"))
			return []string{d}
		},
			[]string{"x: a symbolic link that cannot be followed", "remove it"}},
		{"link loop", func(d string) []string { os.Symlink(filepath.Join(d, "x"), filepath.Join(d, "x")); return []string{d} },
			[]string{"x: a symbolic link that cannot be followed"}},
		{"link beside its target", func(d string) []string {
			os.Symlink(one, filepath.Join(d, "a"))
			os.Symlink(one, filepath.Join(d, "b"))
			return []string{d}
		}, []string{"are the same run directory"}},
		{"folder given twice", func(string) []string { return []string{runs, runs} }, []string{"are the same run directory"}},
		{"a run and its folder", func(string) []string { return []string{runs, one} }, []string{"are the same run directory"}},
		{"a copy", func(string) []string { return []string{one, copied} }, []string{"hold the same run", copied}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Collect(c.setup(t.TempDir()))
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("error %v, want %q", err, w)
				}
			}
		})
	}
}

// TestCollectBranches: copies of one run whose pruning was rerun at other settings (the
// budget sweep of docs/results.md shares pre-training that way) share a run id and are read
// as runs of their own; a copy with the same settings is still refused.
func TestCollectBranches(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	writeRuns(t, runs)
	names, _ := os.ReadDir(runs)
	one := filepath.Join(runs, names[0].Name())
	if _, err := rundir.EnsureID(one, false); err != nil {
		t.Fatal(err)
	}
	branch := func(name string, edit func(c *rundir.Config)) string {
		dir := filepath.Join(root, name)
		if err := os.CopyFS(dir, os.DirFS(one)); err != nil {
			t.Fatal(err)
		}
		c, err := rundir.ReadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		edit(&c)
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), c); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	half := branch("half", func(c *rundir.Config) { c.TargetFLOPs = 0.5 })
	channel := branch("channel", func(c *rundir.Config) { c.MaskGranularity = "channel" })
	same := branch("same", func(*rundir.Config) {})
	rerun := branch("rerun", func(c *rundir.Config) { c.Stages, c.Threads = []string{"prune", "finetune"}, 7 })
	got, err := Collect([]string{one, half, channel})
	if err != nil || len(got) != 3 {
		t.Fatalf("branches: %d runs, %v; want 3", len(got), err)
	}
	if _, err := Collect([]string{one, half, channel, same}); err == nil || !strings.Contains(err.Error(), "with the same settings") ||
		!strings.Contains(err.Error(), same) {
		t.Fatalf("a copy with the same settings beside branches: %v", err)
	}
	// a rerun of the later stages with the same settings computes the same run
	if _, err := Collect([]string{one, rerun}); err == nil || !strings.Contains(err.Error(), "with the same settings") {
		t.Fatalf("a copy rerun with the same settings: %v", err)
	}
}

// A plot with no finished run to draw is an error (the command warns), not an empty PNG.
func TestPlotNothing(t *testing.T) {
	png := filepath.Join(t.TempDir(), "r.png")
	err := Table{Rows: []Row{{ConflictPct: dataset.MustShare("1"), NotDone: []NotDone{{Run: "a"}}}}}.Plot(png)
	if err == nil || !strings.Contains(err.Error(), "no finished run") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(png); err == nil {
		t.Fatal("an empty plot was written")
	}
}

// TestPlotNotFinite: a summary's accuracy that no axis can hold (NaN, ±Inf, 1e308 %) is
// left out and counted in the title, and the others are drawn.
func TestPlotNotFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	st := func(m, sd float64) *Stat { return &Stat{Mean: m, Std: sd, N: 2} }
	rows := []Row{}
	for i, m := range []float64{nan, inf, 1e308, 0.5} {
		rows = append(rows, Row{N: 2, Settings: []Setting{{Key: "lambda_con", Value: fmt.Sprint(i)}},
			Vanilla: Acc{Unbiased: st(m, 0.1), Conflicting: st(0.3, nan), WorstGroup: st(0.2, 0.01)},
			DCWP:    Acc{Unbiased: st(0.6, inf), Conflicting: st(0.4, 0.02), WorstGroup: st(-inf, 0.01)}})
	}
	png := filepath.Join(t.TempDir(), "p.png")
	if err := (Table{Columns: []string{"lambda_con"}, Rows: rows}).Plot(png); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(png); len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatal("plot is not a PNG")
	}
}
