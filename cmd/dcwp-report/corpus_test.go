package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// The outcomes a hostile case is counted under.
const (
	cleanError = "clean error"
	handled    = "valid and handled"
	crash      = "crash"
	hang       = "hang or unbounded"
	damage     = "damage"
	silent     = "silent acceptance"
	unclear    = "unclear message"
)

// hostile is one invocation of dcwp-report on a fresh copy of the corpus folder. setup
// changes the folder (dir) and returns the arguments and, for a case that must fail, the
// strings its message must hold. check, for a case that must succeed, looks at what it
// wrote; mayWrite are the files (relative to dir) it may create.
type hostile struct {
	name     string
	setup    func(t *testing.T, dir string) (args, names []string)
	fail     bool
	check    func(dir, stdout, stderr string) error
	mayWrite []string
}

const (
	runA  = "runs/pct=1_seed=0" // a finished run every case can damage
	nRuns = 4                   // runs under runs/
)

// corpus writes the folder every case starts from: four finished runs (two shares, two
// seeds) with every file a run has, a sweep of two runs (one done, one pending), and
// things no output may replace: a FIFO, a symlink to a run file, a symlink loop, a
// dangling symlink, a plain file. (No device node: a regression would replace a real one,
// /dev/null, for the whole machine; the FIFO takes the same path through the check.)
func corpus(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pct := range []string{"1", "5"} {
		for seed := range 2 {
			writeRun(t, filepath.Join(dir, "runs", fmt.Sprintf("pct=%s_seed=%d", pct, seed)), pct, int64(seed), rng)
		}
	}
	sw := filepath.Join(dir, "sweep")
	plan := &sweep.Plan{Version: 1}
	for i := range 2 {
		cfg := config(t, "1", int64(10+i))
		plan.Runs = append(plan.Runs, sweep.Run{Index: i, Name: fmt.Sprintf("seed=%d", 10+i), Config: cfg})
	}
	os.MkdirAll(sw, 0o755)
	if err := plan.Write(sw); err != nil {
		t.Fatal(err)
	}
	writeRun(t, filepath.Join(sw, "seed=10"), "1", 10, rng)
	must(t, os.WriteFile(filepath.Join(dir, "file.txt"), []byte("x"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(t, os.Symlink(filepath.Join(dir, runA, rundir.SummaryFile), filepath.Join(dir, "link.md")))
	must(t, os.Symlink(filepath.Join(dir, "loop"), filepath.Join(dir, "loop")))
	must(t, os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling")))
	must(t, os.Link(filepath.Join(dir, runA, rundir.SummaryFile), filepath.Join(dir, "hardlink.md")))
	must(t, os.Symlink(filepath.Join(dir, runA), filepath.Join(dir, "lnk")))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func config(t *testing.T, pct string, seed int64) rundir.Config {
	cfg, err := rundir.ParseConfig([]byte(fixture.ConfigJSON))
	must(t, err)
	cfg.ConflictPct, cfg.Seed = dataset.MustShare(pct), seed
	return cfg
}

// writeRun writes a finished run directory: the files a real run has, a summary whose
// figures agree with their counts.
func writeRun(t *testing.T, dir, pct string, seed int64, rng *rand.Rand) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, rundir.PlotsDir), 0o755))
	must(t, atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), config(t, pct, seed)))
	acc := func() metrics.Accuracy {
		c := rng.IntN(101)
		return metrics.Accuracy{Accuracy: float64(c) / 100, AlignedAccuracy: rng.Float64(), ConflictingAccuracy: rng.Float64(),
			WorstGroupAccuracy: rng.Float64(), Samples: 100, Correct: c}
	}
	sum := rundir.Summary{Vanilla: rundir.Eval{Valid: acc(), Test: acc()}, DCWP: &rundir.Eval{Valid: acc(), Test: acc()},
		KeptRatio: rng.Float64(), Mined: rundir.Mined{Flagged: 7, Precision: rng.Float64(), Recall: rng.Float64()},
		StageSeconds: map[string]float64{"pretrain": 10, "prune": 5}}
	must(t, atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum))
	for _, f := range []string{rundir.VanillaFile, rundir.DCWPFile, rundir.MaskFile, filepath.Join(rundir.PlotsDir, "loss-prune.png")} {
		must(t, os.WriteFile(filepath.Join(dir, f), []byte("bytes of "+f), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(dir, rundir.MetricsFile), []byte(`{"stage":"prune","iter":1,"loss":{"ce":1}}`+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, sweep.LogFile), []byte("log\n"), 0o644))
	must(t, atomicfile.WriteJSON(filepath.Join(dir, sweep.TaskFile), sweep.Task{State: sweep.Done}))
	_, err := rundir.EnsureID(dir, false)
	must(t, err)
}

// tree is every entry under root: a regular file's content, a link's target, or the kind.
func tree(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[p] = "-> " + l
		default:
			out[p] = d.Type().String()
		}
		return nil
	})
	must(t, err)
	return out
}

// changed lists the entries that differ between two trees, less those allowed.
func changed(before, after map[string]string, allowed []string) []string {
	var out []string
	for p, v := range after {
		if before[p] != v && !slices.Contains(allowed, p) {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p+" (gone)")
		}
	}
	sort.Strings(out)
	return out
}

// hostileCases generates the corpus: outputs that would damage a run or the report's own
// data, summary.json and config.json as a careless user, a broken disk or an attacker
// leaves them, folder shapes (links, loops, the same run twice, copies), values that break
// a format, and bad flags.
func hostileCases() []hostile {
	var cs []hostile
	fails := func(name string, setup func(t *testing.T, dir string) (args, names []string)) {
		cs = append(cs, hostile{name: name, setup: setup, fail: true})
	}
	// Outputs: every file of a run and a sweep, and what is no regular file.
	targets := []string{
		runA + "/" + rundir.ConfigFile, runA + "/" + rundir.SummaryFile, runA + "/" + rundir.VanillaFile,
		runA + "/" + rundir.RunFile, runA + "/" + rundir.MetricsFile, runA + "/" + sweep.TaskFile, runA + "/" + sweep.LogFile,
		runA + "/" + rundir.PlotsDir + "/loss-prune.png", "sweep/" + sweep.PlanFile, "sweep/seed=10/" + rundir.SummaryFile,
		"sweep/seed=11/" + rundir.SummaryFile, "file.txt/" + rundir.ConfigFile, rundir.SummaryFile, "lnk/" + rundir.VanillaFile,
		"hardlink.md", "link.md", "fifo", "loop", "dangling", "runs", "missing/r.md", "file.txt/r.md",
	}
	for _, flag := range []string{"--out", "--plot"} {
		for _, tg := range targets {
			fails(flag+" "+tg, func(_ *testing.T, dir string) ([]string, []string) {
				p := filepath.Join(dir, tg)
				return []string{flag, p, filepath.Join(dir, "runs"), filepath.Join(dir, "sweep")}, []string{flag, p}
			})
		}
	}
	fails("--out and --plot one file", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "r.md")
		return []string{"--out", p, "--plot", p, filepath.Join(dir, "runs")}, []string{"--plot", p, "--out"}
	})
	fails("--out r.png, the plot beside it", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "r.png")
		return []string{"--out", p, filepath.Join(dir, "runs")}, []string{"--out", p, "--plot"}
	})
	fails("--out the missing folder's file", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "nope", "r.md")
		return []string{"--out", p, filepath.Join(dir, "runs")}, []string{"--out", filepath.Join(dir, "nope"), "does not exist"}
	})

	// summary.json and config.json contents.
	good, _ := json.Marshal(rundir.Summary{Vanilla: rundir.Eval{
		Valid: metrics.Accuracy{Accuracy: 0.5, Samples: 2, Correct: 1}, Test: metrics.Accuracy{Accuracy: 0.25, Samples: 4, Correct: 1}},
		StageSeconds: map[string]float64{"pretrain": 3}})
	summaries := map[string]string{
		"{}": `{}`, "null": `null`, "[]": `[]`, "a string": `""`, "0": `0`, "empty": ``, "vanilla {}": `{"vanilla":{}}`,
		"accuracy 2":              `{"vanilla":{"test":{"accuracy":2}}}`,
		"NaN":                     `{"kept_ratio":NaN}`,
		"1e999":                   `{"kept_ratio":1e999}`,
		"two 1e308 stages":        strings.Replace(string(good), `"pretrain":3`, `"pretrain":1e308,"prune":1e308`, 1),
		"correct > samples":       strings.Replace(string(good), `"correct":1`, `"correct":9`, 1),
		"accuracy not its counts": strings.Replace(string(good), `"accuracy":0.25`, `"accuracy":0.75`, 1),
		"negative samples":        strings.Replace(string(good), `"samples":4`, `"samples":-4`, 1),
		"dcwp {}":                 string(good[:len(good)-1]) + `,"dcwp":{}}`,
		"duplicate key":           string(good[:len(good)-1]) + `,"kept_ratio":0.5,"kept_ratio":2}`,
		"deep nesting":            strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"BOM":                     "\uFEFF" + string(good),
		"binary":                  "\x00\xff\xfe\x01",
	}
	for i := 1; i < 10; i++ {
		summaries[fmt.Sprintf("cut at %d0%%", i)] = string(good[:len(good)*i/10])
	}
	for name, content := range summaries {
		fails("summary.json "+name, func(t *testing.T, dir string) ([]string, []string) {
			p := filepath.Join(dir, runA, rundir.SummaryFile)
			must(t, os.WriteFile(p, []byte(content), 0o644))
			return []string{filepath.Join(dir, "runs")}, []string{p}
		})
	}
	fails("summary.json a folder", func(t *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, runA, rundir.SummaryFile)
		must(t, os.Remove(p))
		must(t, os.Mkdir(p, 0o755))
		return []string{filepath.Join(dir, "runs")}, []string{p}
	})
	configs := map[string]string{
		"{}": `{}`, "null": `null`, "empty": ``, "batch size 0": strings.Replace(fixture.ConfigJSON, `"batch_size":256`, `"batch_size":0`, 1),
		"unknown mode":  strings.Replace(fixture.ConfigJSON, `"mode":"dcwp"`, `"mode":"x"`, 1),
		"lambda_up NaN": strings.Replace(fixture.ConfigJSON, `"lambda_up":50`, `"lambda_up":NaN`, 1),
		"cut at half":   fixture.ConfigJSON[:len(fixture.ConfigJSON)/2],
	}
	for name, content := range configs {
		fails("config.json "+name, func(t *testing.T, dir string) ([]string, []string) {
			p := filepath.Join(dir, runA, rundir.ConfigFile)
			must(t, os.WriteFile(p, []byte(content), 0o644))
			return []string{filepath.Join(dir, "runs")}, []string{p}
		})
	}

	// Folder shapes.
	fails("empty folder", func(t *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "empty")
		must(t, os.Mkdir(p, 0o755))
		return []string{p}, []string{p, "no run directory"}
	})
	fails("a file", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "file.txt")
		return []string{p}, []string{p, "not a directory"}
	})
	fails("missing", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "nothing")
		return []string{p}, []string{p}
	})
	for name, target := range map[string]string{"dangling link": "gone", "link loop": "x"} {
		fails("folder with a "+name, func(t *testing.T, dir string) ([]string, []string) {
			l := filepath.Join(dir, "runs", "x")
			must(t, os.Symlink(filepath.Join(dir, "runs", target), l))
			return []string{filepath.Join(dir, "runs")}, []string{l, "symbolic link"}
		})
	}
	fails("one folder twice", func(_ *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, "runs")
		return []string{p, p}, []string{p, "same run directory"}
	})
	fails("a run and its folder", func(_ *testing.T, dir string) ([]string, []string) {
		return []string{filepath.Join(dir, "runs"), filepath.Join(dir, runA)}, []string{filepath.Join(dir, runA), "same run directory"}
	})
	fails("a sweep and its run", func(_ *testing.T, dir string) ([]string, []string) {
		r := filepath.Join(dir, "sweep", "seed=10")
		return []string{filepath.Join(dir, "sweep"), r}, []string{r, "same run directory"}
	})
	fails("a link beside its run", func(t *testing.T, dir string) ([]string, []string) {
		must(t, os.Symlink(filepath.Join(dir, runA), filepath.Join(dir, "runs", "again")))
		return []string{filepath.Join(dir, "runs")}, []string{filepath.Join(dir, "runs", "again"), "same run directory"}
	})
	fails("a copy of a run", func(t *testing.T, dir string) ([]string, []string) {
		c := filepath.Join(dir, "runs", "copy")
		must(t, os.CopyFS(c, os.DirFS(filepath.Join(dir, runA))))
		return []string{filepath.Join(dir, "runs")}, []string{c, "same run"}
	})
	fails("--format xls", func(_ *testing.T, dir string) ([]string, []string) {
		return []string{"--format", "xls", filepath.Join(dir, "runs")}, []string{"--format", "xls"}
	})
	fails("no folder", func(*testing.T, string) ([]string, []string) { return nil, []string{"give one or more"} })

	// Valid inputs, and what the report must make of them.
	rows := func(n int) func(dir, stdout, stderr string) error {
		return func(dir, stdout, stderr string) error {
			if got := strings.Count(stdout, "\n| cmnist"); got != n {
				return fmt.Errorf("%d table rows, want %d:\n%s", got, n, stdout)
			}
			return nil
		}
	}
	ok := func(name string, setup func(t *testing.T, dir string) ([]string, []string), check func(dir, stdout, stderr string) error, may ...string) {
		cs = append(cs, hostile{name: name, setup: setup, check: check, mayWrite: may})
	}
	ok("runs", func(_ *testing.T, dir string) ([]string, []string) { return []string{filepath.Join(dir, "runs")}, nil }, rows(2))
	ok("a folder of links to runs", func(t *testing.T, dir string) ([]string, []string) {
		l := filepath.Join(dir, "links")
		must(t, os.Mkdir(l, 0o755))
		ents, _ := os.ReadDir(filepath.Join(dir, "runs"))
		for _, e := range ents {
			must(t, os.Symlink(filepath.Join(dir, "runs", e.Name()), filepath.Join(l, e.Name())))
		}
		must(t, os.Symlink("..", filepath.Join(l, "up"))) // a link above: no loop
		return []string{l}, nil
	}, func(dir, stdout, stderr string) error {
		if !strings.Contains(stdout, "| 2 |") || rows(2)(dir, stdout, stderr) != nil {
			return fmt.Errorf("want two rows of n = 2:\n%s", stdout)
		}
		return nil
	})
	ok("a sweep with a pending run", func(_ *testing.T, dir string) ([]string, []string) {
		return []string{filepath.Join(dir, "sweep")}, nil
	}, func(_, stdout, stderr string) error {
		if !strings.Contains(stdout, "seed=11: **pending**") || !strings.Contains(stderr, "1 of 2 runs have no results") {
			return fmt.Errorf("the pending run is not named:\n%s\n%s", stdout, stderr)
		}
		return nil
	})
	ok("summary.json a dangling link", func(t *testing.T, dir string) ([]string, []string) {
		p := filepath.Join(dir, runA, rundir.SummaryFile)
		must(t, os.Remove(p))
		must(t, os.Symlink(filepath.Join(dir, "gone"), p))
		return []string{filepath.Join(dir, "runs")}, nil
	}, func(_, stdout, stderr string) error {
		if !strings.Contains(stderr, "1 of 4 runs have no results") || !strings.Contains(stdout, "pct=1_seed=0") {
			return fmt.Errorf("the run without a summary is not named:\n%s\n%s", stdout, stderr)
		}
		return nil
	})
	ok("values with | and line ends", func(t *testing.T, dir string) ([]string, []string) {
		cfg := config(t, "1", 0)
		cfg.Pretrained = "w|x\ny\r\n| z"
		must(t, atomicfile.WriteJSON(filepath.Join(dir, runA, rundir.ConfigFile), cfg))
		return []string{filepath.Join(dir, "runs")}, nil
	}, func(_, stdout, _ string) error {
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		want := strings.Count(lines[0], "|")
		for _, l := range lines[1:4] {
			if strings.Count(l, "|") != want {
				return fmt.Errorf("a row with %d bars, the header %d:\n%s", strings.Count(l, "|"), want, stdout)
			}
		}
		return nil
	})
	ok("a report written into a run folder is no data", func(t *testing.T, dir string) ([]string, []string) {
		return []string{"--out", filepath.Join(dir, runA, "report.md"), filepath.Join(dir, "runs")}, nil
	}, func(dir, _, _ string) error {
		first, err := os.ReadFile(filepath.Join(dir, runA, "report.md"))
		if err != nil {
			return err
		}
		var stdout, stderr strings.Builder
		if code := run([]string{"dcwp-report", filepath.Join(dir, "runs")}, &stdout, &stderr); code != 0 || stdout.String() != string(first) {
			return fmt.Errorf("the next report differs (exit %d):\n%s\n%s", code, stdout.String(), stderr.String())
		}
		if _, err := os.Stat(filepath.Join(dir, runA, "report.png")); err != nil {
			return fmt.Errorf("no plot beside the report: %v", err)
		}
		return nil
	}, runA+"/report.md", runA+"/report.png")
	for _, f := range []string{"md", "csv", "json"} {
		ok("--format "+f+" --out", func(_ *testing.T, dir string) ([]string, []string) {
			return []string{"--format", f, "--out", filepath.Join(dir, "r."+f), filepath.Join(dir, "runs")}, nil
		}, func(dir, _, _ string) error {
			b, err := os.ReadFile(filepath.Join(dir, "r."+f))
			if err != nil || !bytes.Contains(b, []byte("cmnist")) {
				return fmt.Errorf("%s: %v", b, err)
			}
			return nil
		}, "r."+f, "r.png")
	}
	ok("--plot with nothing finished", func(t *testing.T, dir string) ([]string, []string) {
		must(t, os.Remove(filepath.Join(dir, "sweep", "seed=10", rundir.SummaryFile)))
		return []string{"--plot", filepath.Join(dir, "p.png"), filepath.Join(dir, "sweep")}, nil
	}, func(dir, _, stderr string) error {
		if !strings.Contains(stderr, "warning: "+filepath.Join(dir, "p.png")+" not drawn") {
			return fmt.Errorf("no warning naming the plot:\n%s", stderr)
		}
		return nil
	})
	return cs
}

// TestHostileReports runs dcwp-report on every generated case and counts each outcome.
// Every case must end as a clean error (bad input: exit 2, the message naming what is at
// fault, nothing written or changed) or as a valid input handled as the case says.
func TestHostileReports(t *testing.T) {
	counts := map[string]int{}
	cases := hostileCases()
	for _, c := range cases {
		dir := t.TempDir()
		corpus(t, dir)
		args, names := c.setup(t, dir)
		before := tree(t, dir)
		var stdout, stderr strings.Builder
		done := make(chan int, 1)
		go func() { done <- run(append([]string{"dcwp-report"}, args...), &stdout, &stderr) }()
		var code int
		select {
		case code = <-done:
		case <-time.After(60 * time.Second):
			counts[hang]++
			t.Errorf("%s: no answer after 60 s", c.name)
			continue
		}
		var allowed []string
		for _, w := range c.mayWrite {
			allowed = append(allowed, filepath.Join(dir, w))
		}
		msg := stderr.String()
		var outcome, why string
		switch diff := changed(before, tree(t, dir), allowed); {
		case code == exit.Internal || strings.Contains(msg, "panic") || strings.Contains(msg, "fatal error") || strings.Contains(msg, "goroutine "):
			outcome, why = crash, fmt.Sprintf("exit %d", code)
		case len(diff) > 0:
			outcome, why = damage, fmt.Sprintf("changed %v", diff)
		case c.fail && code == 0:
			outcome, why = silent, "exit 0"
		case c.fail && (code != exit.Usage || !containsAll(msg, names)):
			outcome, why = unclear, fmt.Sprintf("exit %d, want %d and a message naming %q", code, exit.Usage, names)
		case c.fail:
			outcome = cleanError
		case code != 0:
			outcome, why = unclear, fmt.Sprintf("a valid input refused (exit %d)", code)
		default:
			if err := c.check(dir, stdout.String(), msg); err != nil {
				outcome, why = silent, err.Error()
			} else {
				outcome = handled
			}
		}
		counts[outcome]++
		if outcome != cleanError && outcome != handled {
			t.Errorf("%s: %s: %s\n%s", c.name, outcome, why, msg)
		}
	}
	var line []string
	for _, o := range []string{cleanError, handled, crash, hang, damage, silent, unclear} {
		line = append(line, fmt.Sprintf("%s %d", o, counts[o]))
	}
	t.Logf("%d cases: %s", len(cases), strings.Join(line, ", "))
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
