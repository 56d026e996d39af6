// Command demo-summary prints the README demo's closing table: the vanilla network against the
// DCWP subnetwork (dense and compact exports) as dcwp-eval measured them, and writes it as
// Markdown next to the run.
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

// row names one export of the demo; its files are <export dir>/<name>.onnx{.eval.json,.params.json}.
type row struct{ name, label string }

var rows = []row{
	{"vanilla.dense", "vanilla (ERM), dense"},
	{"dcwp.dense", "DCWP subnetwork, dense"},
	{"dcwp.compact", "DCWP subnetwork, compact"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: demo-summary RUN_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "demo-summary:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	var sb strings.Builder
	if err := table(&sb, dir); err != nil {
		return err
	}
	var s rundir.Summary
	if err := atomicfile.ReadJSON(filepath.Join(dir, rundir.SummaryFile), &s); err != nil {
		return err
	}
	fmt.Fprintf(&sb, "\nkept %.2f %% of the masked weights; mined %d samples (precision %.3f, recall %.3f)\n",
		100*s.KeptRatio, s.Mined.Flagged, s.Mined.Precision, s.Mined.Recall)
	fmt.Fprintf(&sb, "\nrun directory: %s\nplots:         %s\nexports:       %s\n",
		dir, filepath.Join(dir, rundir.PlotsDir), filepath.Join(dir, "export"))
	report := filepath.Join(dir, "report.md")
	fmt.Fprintf(&sb, "this table:    %s\n", report)
	fmt.Print(sb.String())
	return atomicfile.Write(report, func(w *bufio.Writer) error {
		_, err := io.WriteString(w, sb.String())
		return err
	})
}

func table(w io.Writer, dir string) error {
	fmt.Fprintln(w, "| network | unbiased acc | aligned acc | conflicting acc | worst group | params (non-zero / total) | file | throughput (samples/s, batch 256) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		base := filepath.Join(dir, "export", r.name+".onnx")
		var rep eval.Report
		if err := atomicfile.ReadJSON(base+".eval.json", &rep); err != nil {
			return err
		}
		st, err := exporter.ReadParams(base+".params.json", base)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %s | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %d / %d | %.1f KiB | %.0f |\n",
			r.label, 100*rep.Accuracy.Accuracy, 100*rep.Accuracy.AlignedAccuracy, 100*rep.Accuracy.ConflictingAccuracy,
			100*rep.Accuracy.WorstGroupAccuracy, rep.ParamsNonzero, rep.ParamsTotal, float64(st.FileBytes)/1024, rep.ThroughputSPS)
	}
	return nil
}
