// Command dcwp-eval evaluates an exported DCWP subnetwork (ONNX) with ONNX
// Runtime: accuracy overall, aligned, conflicting, worst-group and per
// (label, bias) cell; parameter counts; latency and throughput per batch size.
// `dcwp-eval compare` diffs two exports (structure and outputs) for CI, and
// `dcwp-eval bench` times ONNX Runtime on several exports.
//
// Exit codes (internal/exit): 0 success; 1 failure, including compare finding
// differences; 2 bad input (flags, files, data, runtime library, provider);
// 70 internal error (a bug).
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/progress"
	"github.com/dcwp-go/dcwp/onnx/ort"
	"github.com/dcwp-go/dcwp/version"
	"github.com/urfave/cli/v2"
)

// errDiffers marks a compare that ran and found differences (exit.Failure).
var errDiffers = errors.New("models differ")

// badInput lists the errors that are the caller's input, not a failure: exit.Usage.
func badInput() []error {
	return []error{eval.ErrUsage, eval.ErrModel, eval.ErrData, eval.ErrShape, eval.ErrORTLib, eval.ErrProvider}
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return exit.Run(newApp(stdout, stderr), args, stderr, badInput()...)
}

func runtimeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "provider", Value: "cpu", Usage: "execution provider: cpu or cuda"},
		&cli.StringFlag{Name: "ort-lib", EnvVars: []string{ort.LibEnv}, Usage: "ONNX Runtime shared library (default: " + ort.LibRel + " found next to the executable or above the working directory)"},
		&cli.IntFlag{Name: "threads", Usage: "intra-op threads (0: ONNX Runtime's default, one per core)"},
		&cli.IntFlag{Name: "device", Usage: "CUDA device id (with --provider cuda)"},
	}
}

func dataFlags(required bool) []cli.Flag {
	req := ""
	if !required {
		req = " (optional)"
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "dataset", Usage: "dataset: " + strings.Join(dataset.Names(), ", ") + " (folder: the model's class names and input size are used)" + req},
		&cli.StringFlag{Name: "data", Usage: "data root holding <dataset>/..." + req},
		&cli.StringFlag{Name: "conflict-pct", Aliases: []string{"pct"}, Value: "1", Usage: "conflict share in percent of the train/valid split, as dcwp-train's; published: " + dataset.SharesUsage()},
		&cli.StringFlag{Name: "split", Value: "test", Usage: "split: test, valid or train"},
	}
}

// pctFlag reads --conflict-pct (or its older name --pct), the one place dcwp-eval parses a conflict share. Given with a
// dataset that has no published shares (celeba, folder), it is refused: it would be ignored.
func pctFlag(c *cli.Context) (dataset.Share, error) {
	share, err := dataset.ParseShare(c.String("conflict-pct"))
	if err != nil {
		return share, exit.Usagef("--conflict-pct: %w", err)
	}
	if in, err := dataset.Lookup(c.String("dataset")); err == nil && !in.HasShares() {
		if c.IsSet("conflict-pct") {
			return share, exit.Usagef("--conflict-pct %s: dataset %s is not chosen by a conflict share", c.String("conflict-pct"), in.Name)
		}
		return dataset.Share{}, nil
	}
	return share, nil
}

func sessionOptions(c *cli.Context) ort.Options {
	return ort.Options{Provider: c.String("provider"), Lib: c.String("ort-lib"), Threads: c.Int("threads"), DeviceID: c.Int("device")}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	evalFlags := append([]cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "ONNX model to evaluate (required)"},
	}, dataFlags(true)...)
	evalFlags = append(evalFlags,
		&cli.StringFlag{Name: "batch", Value: "256", Usage: "batch sizes, comma-separated; the first gives the accuracy, each is timed (e.g. 256,1,64)"},
		&cli.IntFlag{Name: "bench-samples", Usage: "samples timed at each batch size after the first (0: the whole split)"},
	)
	evalFlags = append(evalFlags, runtimeFlags()...)
	evalFlags = append(evalFlags,
		&cli.StringFlag{Name: "json", Usage: "also write the report as JSON to this file (atomically)"},
		&cli.StringFlag{Name: "predictions", Usage: "write each sample's prediction to this CSV (path, label, label_name, attribute, conflicting, predicted, predicted_name, logit_0…), to compare another pipeline with, sample by sample"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress display"},
	)

	compareFlags := []cli.Flag{
		&cli.StringFlag{Name: "baseline", Aliases: []string{"a"}, Usage: "reference ONNX model (required)"},
		&cli.StringFlag{Name: "candidate", Aliases: []string{"b"}, Usage: "ONNX model to check against it (required)"},
	}
	compareFlags = append(compareFlags, dataFlags(false)...)
	compareFlags = append(compareFlags,
		&cli.IntFlag{Name: "samples", Value: 256, Usage: "inputs to run through both models"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed choosing the samples or the random inputs"},
		&cli.Float64Flag{Name: "atol", Value: 1e-4, Usage: "absolute tolerance"},
		&cli.Float64Flag{Name: "rtol", Value: 1e-3, Usage: "relative tolerance: an element differs when |b-a| > atol + rtol*|a|"},
		&cli.BoolFlag{Name: "allow-structure-change", Usage: "report structural differences but only fail on outputs (dense vs compact exports)"},
		&cli.StringFlag{Name: "json", Usage: "also write the comparison as JSON to this file (atomically)"},
	)
	compareFlags = append(compareFlags, runtimeFlags()...)

	benchFlags := []cli.Flag{
		&cli.StringSliceFlag{Name: "model", Aliases: []string{"m"}, Usage: "ONNX model to time (repeat for several, e.g. dense and compact)"},
	}
	benchFlags = append(benchFlags, dataFlags(false)...)
	benchFlags = append(benchFlags,
		&cli.StringFlag{Name: "batch", Value: "1,64,256", Usage: "batch sizes, comma-separated"},
		&cli.IntFlag{Name: "runs", Value: 50, Usage: "timed runs per model and batch size"},
		&cli.IntFlag{Name: "warmup", Value: 5, Usage: "untimed runs before timing"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed choosing the samples or the random inputs"},
		&cli.StringFlag{Name: "json", Usage: "also write the results as JSON to this file (atomically)"},
	)
	benchFlags = append(benchFlags, runtimeFlags()...)

	return &cli.App{
		Name:    "dcwp-eval",
		Usage:   "evaluate an exported DCWP subnetwork (ONNX) with ONNX Runtime",
		Version: version.Version,
		Description: "Reports accuracy (overall, bias-aligned, bias-conflicting, worst-group, per (label, bias) cell),\n" +
			"the graph's parameter count (total and non-zero) and ONNX Runtime latency (p50/p95 per batch)\n" +
			"and throughput at each --batch size.\n\n" +
			"   dcwp-eval --model model.onnx --dataset cmnist --data DIR [--split test] [--batch 256,1,64] [--json report.json]\n" +
			"   dcwp-eval compare --baseline dense.onnx --candidate compact.onnx [--data DIR --dataset cmnist] [--allow-structure-change]\n" +
			"   dcwp-eval bench --model dense.onnx --model compact.onnx [--batch 1,64,256]\n\n" +
			"Exit codes: 0 success, 1 failure (compare: the models differ), 2 bad input (flags, files, data,\n" +
			"runtime library, provider), 70 internal error.",
		Flags:     evalFlags,
		Writer:    stdout,
		ErrWriter: stderr,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return exit.Usagef("%w (see --help)", err)
		},
		HideHelpCommand: true,
		Action:          evalAction,
		Commands: []*cli.Command{
			{
				Name:      "compare",
				Usage:     "diff two ONNX models: structure and outputs on the same inputs (exit 1 when they differ)",
				UsageText: "dcwp-eval compare --baseline a.onnx --candidate b.onnx [--dataset cmnist --data DIR --split test --samples 256] [--atol 1e-4 --rtol 1e-3] [--allow-structure-change] [--json FILE]",
				Flags:     compareFlags,
				OnUsageError: func(c *cli.Context, err error, _ bool) error {
					return exit.Usagef("compare: %w (see dcwp-eval compare --help)", err)
				},
				Action: compareAction,
			},
			{
				Name:      "bench",
				Usage:     "time ONNX Runtime inference of one or more models at several batch sizes",
				UsageText: "dcwp-eval bench --model dense.onnx [--model compact.onnx] [--dataset cmnist --data DIR] [--batch 1,64,256] [--runs 50] [--threads N] [--json FILE]",
				Flags:     benchFlags,
				OnUsageError: func(c *cli.Context, err error, _ bool) error {
					return exit.Usagef("bench: %w (see dcwp-eval bench --help)", err)
				},
				Action: benchAction,
			},
		},
	}
}

// Bounds of the numeric flags: beyond them a value is a typo, and would ask for memory
// (batches, samples) or time (runs) no machine has.
const (
	maxBatch   = 1 << 20
	maxSamples = 1 << 20
	maxRuns    = 1 << 20
	maxThreads = 1 << 10
	maxDevice  = 1 << 10
)

func parseBatches(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, exit.Usagef("--batch %q: %q is not a positive integer", s, f)
		}
		if v > maxBatch {
			return nil, exit.Usagef("--batch %q: %d is over the limit of %d", s, v, maxBatch)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, exit.Usagef("--batch %q: no batch size", s)
	}
	return out, nil
}

// checkRange refuses an integer flag outside [lo, hi].
func checkRange(c *cli.Context, name string, lo, hi int) error {
	if v := c.Int(name); v < lo || v > hi {
		return exit.Usagef("--%s %d: want %d to %d", name, v, lo, hi)
	}
	return nil
}

// checkFlags validates the runtime flags and the given integer flags (name, lo, hi).
func checkFlags(c *cli.Context, ranges ...any) error {
	all := append([]any{"threads", 0, maxThreads, "device", 0, maxDevice}, ranges...)
	for i := 0; i+2 < len(all); i += 3 {
		if err := checkRange(c, all[i].(string), all[i+1].(int), all[i+2].(int)); err != nil {
			return err
		}
	}
	return nil
}

// checkTolerances refuses negative, NaN or infinite tolerances (a NaN or infinite one
// would pass any difference) and both being 0.
func checkTolerances(atol, rtol float64) error {
	ok := func(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }
	if !ok(atol) || !ok(rtol) || (atol == 0 && rtol == 0) {
		return exit.Usagef("compare: --atol %g / --rtol %g: want finite, non-negative tolerances, not both 0", atol, rtol)
	}
	return nil
}

// checkOutput refuses a --json path that is not a regular file or is one of the inputs,
// before anything is read or written.
func checkOutput(c *cli.Context, inputs ...string) error {
	p := c.String("json")
	if p == "" {
		return nil
	}
	if err := atomicfile.CheckOutput(p, inputs...); err != nil {
		return exit.Usagef("--json: %w", err)
	}
	return nil
}

func noArgs(c *cli.Context) error {
	if c.NArg() > 0 {
		return exit.Usagef("unexpected argument %q (see --help)", c.Args().First())
	}
	return nil
}

func evalAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if c.String("model") == "" {
		return exit.Usagef("--model is required (see --help)")
	}
	if c.String("dataset") == "" || c.String("data") == "" {
		return exit.Usagef("--dataset and --data are required (see --help)")
	}
	batches, err := parseBatches(c.String("batch"))
	if err != nil {
		return err
	}
	if err := checkFlags(c, "bench-samples", 0, math.MaxInt32); err != nil {
		return err
	}
	if err := checkOutput(c, c.String("model")); err != nil {
		return err
	}
	share, err := pctFlag(c)
	if err != nil {
		return err
	}
	if p := c.String("predictions"); p != "" {
		if j := c.String("json"); j != "" && filepath.Clean(j) == filepath.Clean(p) {
			return exit.Usagef("--predictions and --json name the same file %s", p)
		}
		if err := atomicfile.CheckOutput(p, c.String("model"), c.String("json"), c.String("data")); err != nil {
			return exit.Usagef("--predictions: %w", err)
		}
	}
	stderr := c.App.ErrWriter
	prog := newProgress(stderr, c.Bool("quiet"))
	r, err := eval.Evaluate(eval.Options{
		Model: c.String("model"), Dataset: c.String("dataset"), Data: c.String("data"), Pct: share, Split: c.String("split"),
		Batches: batches, BenchSamples: c.Int("bench-samples"), Session: sessionOptions(c), Progress: prog.Update,
		Predictions: c.String("predictions"),
	})
	prog.Finish()
	if err != nil {
		return err
	}
	r.WriteText(c.App.Writer)
	if p := c.String("json"); p != "" {
		if err := r.WriteJSON(p); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "dcwp-eval: wrote %s\n", p)
	}
	if p := c.String("predictions"); p != "" {
		fmt.Fprintf(stderr, "dcwp-eval: wrote %s\n", p)
	}
	return nil
}

func compareAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if c.String("baseline") == "" || c.String("candidate") == "" {
		return exit.Usagef("compare: --baseline and --candidate are required (see dcwp-eval compare --help)")
	}
	if (c.String("data") == "") != (c.String("dataset") == "") {
		return exit.Usagef("compare: give --dataset and --data together, or neither for random inputs")
	}
	if err := checkTolerances(c.Float64("atol"), c.Float64("rtol")); err != nil {
		return err
	}
	if err := checkFlags(c, "samples", 1, maxSamples); err != nil {
		return err
	}
	if err := checkOutput(c, c.String("baseline"), c.String("candidate")); err != nil {
		return err
	}
	share, err := pctFlag(c)
	if err != nil {
		return err
	}
	r, err := eval.Compare(eval.CompareOptions{
		Baseline: c.String("baseline"), Candidate: c.String("candidate"),
		Dataset: c.String("dataset"), Data: c.String("data"), Pct: share, Split: c.String("split"),
		Samples: c.Int("samples"), Seed: c.Uint64("seed"), Atol: c.Float64("atol"), Rtol: c.Float64("rtol"),
		AllowStructureChange: c.Bool("allow-structure-change"), Session: sessionOptions(c),
	})
	if err != nil {
		return err
	}
	r.WriteText(c.App.Writer)
	if p := c.String("json"); p != "" {
		if err := r.WriteJSON(p); err != nil {
			return err
		}
	}
	if !r.Pass {
		return fmt.Errorf("%w: %s vs %s", errDiffers, r.Baseline, r.Candidate)
	}
	return nil
}

func benchAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	models := c.StringSlice("model")
	if len(models) == 0 {
		return exit.Usagef("bench: at least one --model is required (see dcwp-eval bench --help)")
	}
	if (c.String("data") == "") != (c.String("dataset") == "") {
		return exit.Usagef("bench: give --dataset and --data together, or neither for random inputs")
	}
	batches, err := parseBatches(c.String("batch"))
	if err != nil {
		return err
	}
	if err := checkFlags(c, "runs", 1, maxRuns, "warmup", 0, maxRuns); err != nil {
		return err
	}
	if err := checkOutput(c, models...); err != nil {
		return err
	}
	warmup := c.Int("warmup")
	if warmup == 0 {
		warmup = -1 // BenchOptions: 0 is its default of 5, < 0 none
	}
	share, err := pctFlag(c)
	if err != nil {
		return err
	}
	var split *dataset.Split
	if c.String("data") != "" {
		if split, err = eval.LoadSplitFor(models[0], c.String("data"), c.String("dataset"), share, c.String("split")); err != nil {
			return err
		}
	}
	res, err := eval.BenchORT(eval.BenchOptions{Models: models, Split: split, Batches: batches, Runs: c.Int("runs"),
		Warmup: warmup, Seed: c.Uint64("seed"), Session: sessionOptions(c)})
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "ONNX Runtime %s, provider %s, threads %s\n", ort.Version(), res[0].Provider, eval.ThreadsString(c.Int("threads")))
	fmt.Fprintf(w, "%-40s %12s %7s %6s %10s %10s %14s\n", "model", "non-zero", "batch", "runs", "p50 ms", "p95 ms", "p50 samples/s")
	for _, r := range res {
		fmt.Fprintf(w, "%-40s %12d %7d %6d %10.3f %10.3f %14.1f\n", r.Model, r.ParamsNonzero, r.Batch, r.Runs, r.LatencyMsP50, r.LatencyMsP95, r.ThroughputSPS)
	}
	vs := eval.AgainstFirst(res)
	if len(vs) > 0 {
		fmt.Fprintf(w, "against %s:\n%-40s %7s %12s %12s %8s %8s\n", res[0].Model, "model", "batch", "throughput", "p50 speed", "file", "params")
	}
	for _, a := range vs {
		fmt.Fprintf(w, "%-40s %7d %11.2fx %11.2fx %7.3fx %7.3fx\n", a.Model, a.Batch, a.Throughput, a.Latency, a.File, a.Params)
	}
	if p := c.String("json"); p != "" {
		return atomicfile.WriteJSON(p, res)
	}
	return nil
}

// newProgress shows each batch size's pass over the split: a bar on a terminal, else a line
// at every 10 % of a pass that takes more than 2 s, and one at its end.
func newProgress(w io.Writer, quiet bool) *progress.Staged {
	mode := progress.Auto
	if quiet {
		mode = progress.Quiet
	}
	return progress.NewStaged(w, progress.Options{Name: "dcwp-eval: ", Unit: "samples", Mode: mode, Every: 0.1, Delay: 2 * time.Second})
}
