// Command demo-summary prints the README demo's closing table: the vanilla network, the
// paper's weight-level DCWP subnetwork (dense and compact exports) and a channel-level one
// (compact), with the accuracies dcwp-eval measured, the parameters, FLOPs and file size
// dcwp-export recorded, and the ONNX Runtime speed of one dcwp-eval bench that timed them
// side by side; it writes the table as Markdown next to the first run.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/rundir"
)

// row is one export the table shows: <run>/export/<which>.<format>.onnx, its .eval.json
// (dcwp-eval) and .params.json (dcwp-export).
type row struct {
	run    int // which run directory of the command line: 0 the weight-level, 1 the channel-level
	which  string
	format string
}

// rows are the table's, in its order; bench.json's first model is the first row's (the
// baseline the ratios are against).
var rows = []row{
	{0, rundir.Vanilla, string(exporter.Dense)},
	{0, rundir.DCWP, string(exporter.Dense)},
	{0, rundir.DCWP, string(exporter.Compact)},
	{1, rundir.DCWP, string(exporter.Compact)},
}

// timed are the batch sizes the table gives: latency at 1, throughput at 256.
const latencyBatch, throughputBatch = 1, 256

// benchFile is the dcwp-eval bench JSON, in the first run's export folder.
const benchFile = "bench.json"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: demo-summary RUN_DIR CHANNEL_RUN_DIR")
		os.Exit(2)
	}
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo-summary:", err)
		os.Exit(1)
	}
}

// figures are one row's: what dcwp-eval, dcwp-export and dcwp-eval bench wrote of it.
type figures struct {
	label  string
	eval   eval.Report
	params *exporter.Stats
	b1     eval.BenchResult
	b256   eval.BenchResult
}

func run(w io.Writer, dirs []string) error {
	var bench []eval.BenchResult
	benchPath := filepath.Join(dirs[0], "export", benchFile)
	if err := atomicfile.ReadJSON(benchPath, &bench); err != nil {
		return err
	}
	var fs []figures
	for _, r := range rows {
		f, err := read(dirs[r.run], r, bench, benchPath)
		if err != nil {
			return err
		}
		fs = append(fs, f)
	}
	var sb strings.Builder
	table(&sb, fs)
	if err := against(&sb, fs, bench); err != nil {
		return err
	}
	for i, dir := range dirs {
		if err := runLine(&sb, dir, i); err != nil {
			return err
		}
	}
	fmt.Fprintf(&sb, "\nrun directories: %s\nplots:           %s\nexports:         %s\ntimings:         %s\n",
		strings.Join(dirs, ", "), filepath.Join(dirs[0], rundir.PlotsDir), filepath.Join(dirs[0], "export"), benchPath)
	report := filepath.Join(dirs[0], "report.md")
	fmt.Fprintf(&sb, "this table:      %s\n", report)
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return err
	}
	return atomicfile.Write(report, func(w *bufio.Writer) error {
		_, err := io.WriteString(w, sb.String())
		return err
	})
}

// read gathers one row's figures from its export's files and the bench.
func read(dir string, r row, bench []eval.BenchResult, benchPath string) (figures, error) {
	model := filepath.Join(dir, "export", r.which+"."+r.format+".onnx")
	f := figures{}
	cfg, err := rundir.ReadConfig(dir)
	if err != nil {
		return f, err
	}
	f.label = label(cfg, r)
	if err := atomicfile.ReadJSON(model+".eval.json", &f.eval); err != nil {
		return f, err
	}
	if f.params, err = exporter.ReadParams(model+".params.json", model); err != nil {
		return f, err
	}
	if f.b1, err = timing(bench, model, latencyBatch, benchPath); err != nil {
		return f, err
	}
	f.b256, err = timing(bench, model, throughputBatch, benchPath)
	return f, err
}

// label names an export by its run's settings: "DCWP channel-level, ≤ 50 % FLOPs, compact".
func label(cfg rundir.Config, r row) string {
	if r.which == rundir.Vanilla {
		return "vanilla (ERM), " + r.format
	}
	g := string(cfg.MaskGranularity)
	if g == "" {
		g = "weight"
	}
	s := "DCWP " + g + "-level"
	if cfg.TargetFLOPs > 0 {
		s += fmt.Sprintf(", ≤ %g %% FLOPs", 100*cfg.TargetFLOPs)
	}
	return s + ", " + r.format
}

// timing is the bench's result for model at batch; the same file by identity, as the
// bench records the path it was given.
func timing(bench []eval.BenchResult, model string, batch int, benchPath string) (eval.BenchResult, error) {
	want, err := os.Stat(model)
	if err != nil {
		return eval.BenchResult{}, err
	}
	for _, b := range bench {
		if b.Batch != batch {
			continue
		}
		if got, err := os.Stat(b.Model); err == nil && os.SameFile(got, want) {
			return b, nil
		}
	}
	return eval.BenchResult{}, fmt.Errorf("%s: no timing of %s at batch %d (rerun tools/demo.sh)", benchPath, model, batch)
}

func table(w io.Writer, fs []figures) {
	fmt.Fprintf(w, "| network | unbiased acc | aligned acc | conflicting acc | worst group | params (non-zero / total) | FLOPs per sample | file | latency p50, batch %d | throughput, batch %d (samples/s) |\n",
		latencyBatch, throughputBatch)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range fs {
		a := f.eval.Accuracy
		fmt.Fprintf(w, "| %s | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %d / %d | %.3f M | %.1f KiB | %.3f ms | %.0f |\n",
			f.label, 100*a.Accuracy, 100*a.AlignedAccuracy, 100*a.ConflictingAccuracy, 100*a.WorstGroupAccuracy,
			f.params.ParamsNonZero, f.params.ParamsTotal, float64(f.params.FLOPs)/1e6, float64(f.params.FileBytes)/1024,
			f.b1.LatencyMsP50, f.b256.ThroughputSPS)
	}
}

// against is each export against the first row's (vanilla, dense) from the same bench
// (eval.AgainstFirst): what each subnetwork costs where it is deployed.
func against(w io.Writer, fs []figures, bench []eval.BenchResult) error {
	if len(bench) == 0 || bench[0].Model != fs[0].b1.Model {
		return fmt.Errorf("the bench's first model is not %s, the baseline", fs[0].b1.Model)
	}
	vs := eval.AgainstFirst(bench)
	fmt.Fprintf(w, "\nAgainst %s, timed in the same bench:\n\n", fs[0].label)
	fmt.Fprintf(w, "| network | FLOPs | params | file | latency speed-up, batch %d | throughput, batch %d |\n", latencyBatch, throughputBatch)
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, f := range fs[1:] {
		var b1, b256 eval.Against
		for _, a := range vs {
			if a.Model == f.b1.Model && a.Batch == latencyBatch {
				b1 = a
			}
			if a.Model == f.b256.Model && a.Batch == throughputBatch {
				b256 = a
			}
		}
		fmt.Fprintf(w, "| %s | %.3f× | %.3f× | %.3f× | %.2f× | %.2f× |\n", f.label,
			float64(f.params.FLOPs)/float64(fs[0].params.FLOPs), b1.Params, b1.File, b1.Latency, b256.Throughput)
	}
	return nil
}

// runLine says what a run's mask keeps and what its miner found.
func runLine(w io.Writer, dir string, i int) error {
	var s rundir.Summary
	if err := atomicfile.ReadJSON(filepath.Join(dir, rundir.SummaryFile), &s); err != nil {
		return err
	}
	kept := ""
	if s.FLOPsKept != nil {
		kept = fmt.Sprintf(", %.2f %% of their FLOPs", 100**s.FLOPsKept)
	}
	if i == 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s: kept %.2f %% of the masked weights%s; mined %d samples (precision %.3f, recall %.3f)\n",
		dir, 100*s.KeptRatio, kept, s.Mined.Flagged, s.Mined.Precision, s.Mined.Recall)
	return nil
}
