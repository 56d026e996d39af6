package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// demoRuns are the demo's two runs as fixture networks (no training): the paper's weight
// level, and channel level under a 50 % FLOPs budget.
var demoRuns = []struct {
	spec   exportfixture.Spec
	budget float64
}{
	{exportfixture.Spec{Model: "mlp", Seed: 1, Keep: 0.9}, 0},
	{exportfixture.Spec{Model: "mlp", Seed: 10, Keep: 0.5, DeadRows: 0.5, Granularity: arch.GranChannel}, 0.5},
}

// writeDemo leaves what tools/demo.sh leaves: both runs with their summaries, the exports
// the table shows (dcwp-export's files), their ONNX Runtime evaluations on a fixture
// Colored MNIST and one real bench of the four at batch 1 and 256; benchModels picks the
// bench's models (by row index).
func writeDemo(t *testing.T, benchModels []int) []string {
	t.Helper()
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for i, d := range demoRuns {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("run", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := exportfixture.WriteRun(dir, d.spec); err != nil {
			t.Fatal(err)
		}
		cfg := d.spec.Config()
		cfg.TargetFLOPs = d.budget
		kept := 0.4
		sum := rundir.Summary{KeptRatio: 0.6, FLOPsKept: &kept, Mined: rundir.Mined{Flagged: 7, Precision: 0.5, Recall: 0.25}}
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.ConfigFile), cfg); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteJSON(filepath.Join(dir, rundir.SummaryFile), sum); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	var models []string
	for _, r := range rows {
		run, err := rundir.Open(dirs[r.run])
		if err != nil {
			t.Fatal(err)
		}
		m, st, err := exporter.Export(run, exporter.Options{Which: r.which, Format: exporter.Format(r.format)})
		if err != nil {
			t.Fatal(err)
		}
		model := filepath.Join(dirs[r.run], "export", r.which+"."+r.format+".onnx")
		os.MkdirAll(filepath.Dir(model), 0o755)
		if _, err := exporter.WriteOutputs(model, m, model+".params.json", st); err != nil {
			t.Fatal(err)
		}
		rep, err := eval.Evaluate(eval.Options{Model: model, Dataset: "cmnist", Data: data, Pct: dataset.MustShare("1")})
		if err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteJSON(model+".eval.json", rep); err != nil {
			t.Fatal(err)
		}
		models = append(models, model)
	}
	var bench []string
	for _, i := range benchModels {
		bench = append(bench, models[i])
	}
	res, err := eval.BenchORT(eval.BenchOptions{Models: bench, Batches: []int{latencyBatch, throughputBatch}, Runs: 2, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(dirs[0], "export", benchFile), res); err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestSummary: the table has a line per export with the figures of its files (eval.json,
// params.json, bench.json), labelled by its run's settings, and the ratios against vanilla
// from the same bench; report.md holds what was printed. A bench that misses an export or
// starts elsewhere, and an export whose params file is not its own, are errors naming the file.
func TestSummary(t *testing.T) {
	all := []int{0, 1, 2, 3}
	for _, c := range []struct {
		name  string
		bench []int
		edit  func(dirs []string)
		want  string // error; "" for the table
	}{
		{"the demo's files", all, nil, ""},
		{"bench without the channel-level export", []int{0, 1, 2}, nil, "bench.json: no timing of"},
		{"bench starting at the weight-level export", []int{1, 0, 2, 3}, nil, "the bench's first model is not"},
		{"an export without its evaluation", all, func(dirs []string) {
			os.Remove(filepath.Join(dirs[1], "export", "dcwp.compact.onnx.eval.json"))
		}, "dcwp.compact.onnx.eval.json"},
		{"a params file of another model", all, func(dirs []string) {
			ex := filepath.Join(dirs[0], "export")
			b, _ := os.ReadFile(filepath.Join(ex, "dcwp.dense.onnx.params.json"))
			os.WriteFile(filepath.Join(ex, "dcwp.compact.onnx.params.json"), b, 0o644)
		}, "the model was replaced without its params file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dirs := writeDemo(t, c.bench)
			if c.edit != nil {
				c.edit(dirs)
			}
			var out strings.Builder
			err := run(&out, dirs)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
				if _, err := os.Stat(filepath.Join(dirs[0], "report.md")); err == nil {
					t.Fatal("report.md written for a demo that failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTable(t, out.String(), dirs)
			if b, err := os.ReadFile(filepath.Join(dirs[0], "report.md")); err != nil || string(b) != out.String() {
				t.Fatalf("report.md (%v) is not what was printed", err)
			}
		})
	}
}

// checkTable finds each export's line and its figures, read back from its files.
func checkTable(t *testing.T, out string, dirs []string) {
	t.Helper()
	var bench []eval.BenchResult
	if err := atomicfile.ReadJSON(filepath.Join(dirs[0], "export", benchFile), &bench); err != nil {
		t.Fatal(err)
	}
	labels := []string{"vanilla (ERM), dense", "DCWP weight-level, dense", "DCWP weight-level, compact",
		"DCWP channel-level, ≤ 50 % FLOPs, compact"}
	for i, r := range rows {
		model := filepath.Join(dirs[r.run], "export", r.which+"."+r.format+".onnx")
		var rep eval.Report
		if err := atomicfile.ReadJSON(model+".eval.json", &rep); err != nil {
			t.Fatal(err)
		}
		st, err := exporter.ReadParams(model+".params.json", model)
		if err != nil {
			t.Fatal(err)
		}
		var b1, b256 float64
		for _, b := range bench {
			if b.Model == model && b.Batch == 1 {
				b1 = b.LatencyMsP50
			}
			if b.Model == model && b.Batch == 256 {
				b256 = b.ThroughputSPS
			}
		}
		a := rep.Accuracy
		want := fmt.Sprintf("| %s | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %d / %d | %.3f M | %.1f KiB | %.3f ms | %.0f |",
			labels[i], 100*a.Accuracy, 100*a.AlignedAccuracy, 100*a.ConflictingAccuracy, 100*a.WorstGroupAccuracy,
			st.ParamsNonZero, st.ParamsTotal, float64(st.FLOPs)/1e6, float64(st.FileBytes)/1024, b1, b256)
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in\n%s", want, out)
		}
		if i > 0 && !strings.Contains(out, "| "+labels[i]+" | ") {
			t.Errorf("%s has no line against vanilla", labels[i])
		}
	}
	if !strings.Contains(out, "kept 60.00 % of the masked weights, 40.00 % of their FLOPs; mined 7 samples") {
		t.Errorf("no run line:\n%s", out)
	}
}
