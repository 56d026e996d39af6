// Command dcwp-export writes a network of a dcwp-train run directory as a standard ONNX
// model: mask multiplied in, BatchNorm folded, input "input" float32 [N,C,H,W] pixels in
// [0,1], output "logits" [N,classes].
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/version"
	"github.com/urfave/cli/v2"
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

func newApp(stdout io.Writer) *cli.App {
	return &cli.App{
		Name:    "dcwp-export",
		Usage:   "write a network of a dcwp-train run as a standard ONNX model",
		Version: version.Version,
		UsageText: "dcwp-export --run RUN_DIR --out model.onnx [--which " + strings.Join(rundir.Networks(), "|") + "] [--format " + formatNames("|") + "]\n" +
			"                  [--opset 13..17] [--params-json FILE]",
		Description: "Multiplies the binary mask 1[Θ≥0] into the weights, folds BatchNorm (eval mode,\n" +
			"running statistics) into the preceding conv and writes ONNX IR 8 with every attribute\n" +
			"explicit and a dynamic batch dimension N.\n\n" +
			"  input   input   float32 [N, C, H, W], pixel values in [0, 1] (normalisation is in the graph)\n" +
			"  output  logits  float32 [N, classes]\n\n" +
			"Formats:\n" + formatHelp() + "\n" +
			"Prints the parameter count (total, non-zero, per layer) and the file size, and writes\n" +
			"them as JSON to --params-json (default OUT.params.json). Output files are written\n" +
			"atomically. Exit status: 0 success, 1 export failed, 2 bad input (flags; --run missing or not a\n" +
			"run directory), 70 internal error.",
		HideHelpCommand: true,
		Writer:          stdout,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run directory written by dcwp-train (required)"},
			&cli.StringFlag{Name: "out", Usage: "ONNX file to write (required)"},
			&cli.StringFlag{Name: "which", Value: rundir.Networks()[0], Usage: "network to export: one of " + strings.Join(rundir.Networks(), ", ")},
			&cli.StringFlag{Name: "format", Value: string(exporter.Dense), Usage: "one of " + formatNames(", ")},
			&cli.IntFlag{Name: "opset", Value: exporter.DefaultOpset, Usage: fmt.Sprintf("ONNX opset, %d..%d", onnx.MinOpset, onnx.MaxOpset)},
			&cli.IntFlag{Name: "channel-multiple", DefaultText: fmt.Sprintf("%d with --format %s", exporter.DefaultChannelMultiple, exporter.Compact),
				Usage: "compact: pad each convolution compaction shrank to a multiple of this many channels with zero ones (the same function, widths ONNX Runtime's convolutions run faster); 0 or 1: none"},
			&cli.StringFlag{Name: "params-json", Usage: "where to write the parameter counts as JSON (default OUT.params.json)"},
		},
		Action: action,
	}
}

// helpWidth is where formatHelp wraps, the width of the rest of --help.
const helpWidth = 92

// formatNames joins the export formats' names with sep.
func formatNames(sep string) string {
	var names []string
	for _, f := range exporter.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, sep)
}

// formatHelp is one entry per export format, its description wrapped under its name.
func formatHelp() string {
	col := 0
	for _, f := range exporter.Formats() {
		col = max(col, len(f))
	}
	var b strings.Builder
	for _, f := range exporter.Formats() {
		line := fmt.Sprintf("  %-*s", col+1, f)
		for _, w := range strings.Fields(f.Help()) {
			if len(line)+1+len(w) > helpWidth && strings.TrimSpace(line) != "" {
				b.WriteString(line + "\n")
				line = strings.Repeat(" ", col+4)
			} else {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// run executes the command line and returns the exit status (internal/exit); errors go to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	return exit.Run(newApp(stdout), args, stderr)
}

func action(c *cli.Context) error {
	if c.NArg() > 0 { // first: a run directory given as an argument is the likelier slip than the missing flags
		return exit.Usagef("unexpected arguments %q: dcwp-export takes no arguments (the run directory is --run DIR)", c.Args().Slice())
	}
	if err := exit.Require(c, "run", "out"); err != nil {
		return err
	}
	which := c.String("which")
	if !slices.Contains(rundir.Networks(), which) {
		return exit.Usagef("--which %q: want one of %s", which, strings.Join(rundir.Networks(), ", "))
	}
	format, err := exporter.ParseFormat(c.String("format"))
	if err != nil {
		return exit.Usagef("--format: %w", err)
	}
	opset := c.Int("opset")
	if opset < onnx.MinOpset || opset > onnx.MaxOpset {
		return exit.Usagef("--opset %d: want %d..%d", opset, onnx.MinOpset, onnx.MaxOpset)
	}
	mult, err := channelMultiple(c, format)
	if err != nil {
		return err
	}
	out := c.String("out")
	pj := c.String("params-json")
	if pj == "" {
		pj = out + ".params.json"
	}
	if err := checkOutputs(c.String("run"), out, pj); err != nil {
		return err
	}

	r, err := rundir.Open(c.String("run"))
	if err != nil {
		return exit.AsUsage(fmt.Errorf("--run: %w", err)) // a run directory missing or not whole is bad input, as in dcwp-train and dcwp-eval
	}
	o := exporter.Options{Which: which, Format: format, Opset: opset, ChannelMultiple: mult}
	m, st, err := exporter.Export(r, o)
	if err != nil {
		return err
	}
	for _, w := range st.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "dcwp-export: warning: %s\n", w)
	}
	if format != exporter.Dense {
		d, err := exporter.DenseFootprint(r, o)
		if err != nil {
			return err
		}
		st.Dense = &d
		if format == exporter.Sparse {
			if err := warnSparseLarger(c.App.ErrWriter, d, m); err != nil {
				return err
			}
		}
	}
	if _, err := exporter.WriteOutputs(out, m, pj, st); err != nil {
		return err
	}
	printStats(c.App.Writer, st, pj)
	return nil
}

// channelMultiple is --channel-multiple: exporter.DefaultChannelMultiple for a compact export
// unless given; given with another format, where nothing is compacted, it is refused.
func channelMultiple(c *cli.Context, format exporter.Format) (int, error) {
	if !c.IsSet("channel-multiple") {
		return exporter.ChannelMultipleOf(format), nil
	}
	m := c.Int("channel-multiple")
	if m < 0 || m > 1 && format != exporter.Compact {
		return 0, exit.Usagef("--channel-multiple %d: want 0 or 1 (none), or ≥ 2 with --format %s", m, exporter.Compact)
	}
	return m, nil
}

// checkOutputs refuses, before anything is read or written, outputs that the write would
// damage: a device node, FIFO, symlink or directory in their place, a file of the run
// directory (its weights, say), or the two outputs on one path.
func checkOutputs(run, out, pj string) error {
	inputs := rundir.Files(run)
	if err := atomicfile.CheckOutput(out, inputs...); err != nil {
		return err
	}
	if err := atomicfile.CheckOutput(pj, append(inputs, out)...); err != nil {
		return fmt.Errorf("--params-json: %w", err)
	}
	if filepath.Clean(out) == filepath.Clean(pj) {
		return fmt.Errorf("--params-json %s is the model file --out: give two different paths", pj)
	}
	return nil
}

// warnSparseLarger says so when a sparse export is larger than the dense one would be:
// COO stores 12 bytes per non-zero weight (float32 value, int64 index) against 4 per
// weight dense, so below about 67 % sparsity sparse costs more, up to 3x at none.
func warnSparseLarger(w io.Writer, d exporter.Footprint, sparse *onnxpb.ModelProto) error {
	sdata, err := exporter.Encode(sparse)
	if err != nil {
		return err
	}
	if sparseBytes, dense := int64(len(sdata)), d.FileBytes; sparseBytes > dense {
		fmt.Fprintf(w, "dcwp-export: warning: the sparse file is %d bytes, %.1fx the %d bytes of --format dense: "+
			"COO costs 12 bytes per non-zero weight against 4 per weight dense, so sparse is smaller only above about 67 %% sparsity\n",
			sparseBytes, float64(sparseBytes)/float64(dense), dense)
	}
	return nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func printStats(w io.Writer, st *exporter.Stats, pj string) {
	fmt.Fprintf(w, "wrote %s: %s %s network, %s format, opset %d, %d bytes\n", st.File, st.Model, st.Which, st.Format, st.Opset, st.FileBytes)
	pct := 0.0
	if st.ParamsTotal > 0 {
		pct = 100 * float64(st.ParamsNonZero) / float64(st.ParamsTotal)
	}
	if st.ChannelMultiple > 1 {
		fmt.Fprintf(w, "shrunk convolutions padded with zero channels to multiples of %d (--channel-multiple)\n", st.ChannelMultiple)
	}
	fmt.Fprintf(w, "parameters: %d total, %d non-zero (%.2f %%); mask kept ratio %.4f; %d FLOPs per sample\n", st.ParamsTotal, st.ParamsNonZero, pct, st.KeptRatio, st.FLOPs)
	if d := st.Dense; d != nil {
		fmt.Fprintf(w, "against dense: parameters %d/%d (%.3fx), FLOPs %d/%d (%.3fx), file %d/%d bytes (%.3fx)\n",
			st.ParamsTotal, d.Params, ratio(st.ParamsTotal, d.Params), st.FLOPs, d.FLOPs, ratio(st.FLOPs, d.FLOPs),
			st.FileBytes, d.FileBytes, ratio(st.FileBytes, d.FileBytes))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\top\tweight shape\tunits\tparams\tnon-zero\t")
	for _, l := range st.Layers {
		units := ""
		if l.UnitsOrig > 0 {
			units = fmt.Sprintf("%d/%d", l.Units, l.UnitsOrig)
		}
		shape := ""
		if l.Shape != nil {
			shape = strings.Trim(strings.ReplaceAll(fmt.Sprint(l.Shape), " ", "x"), "[]")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t\n", l.Name, l.Op, shape, units, l.Params, l.NonZero)
	}
	tw.Flush()
	fmt.Fprintf(w, "wrote %s\n", pj)
}
