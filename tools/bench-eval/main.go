// Command bench-eval times ONNX Runtime inference of the exports of one network, one
// per export format, on the same batches and writes
// bench/eval.json: [{"format","model","batch","runs","latency_ms_p50",
// "latency_ms_p95","throughput_sps","params_total","params_nonzero",...}].
//
// The exports come from one flag per export format, named after it (-dense FILE: files
// written by dcwp-export), else from the DCWP network of a run directory (-run), else from a
// deterministic pruned fixture network (-arch, -keep, -dead-rows). With -run or a
// fixture the training engine's own inference (libtorch, eval mode, fixed mask) is timed
// on the same eval.BenchInput batches, as the "engine" rows.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx/ort"
	"github.com/dcwp-go/dcwp/rundir"
)

type row struct {
	Format string `json:"format"`
	eval.BenchResult
}

func main() {
	var (
		runDir   = flag.String("run", "", "run directory whose DCWP network is exported and timed")
		archName = flag.String("arch", "cnn", "fixture network when no export is given: "+strings.Join(arch.Models(), ", "))
		keep     = flag.Float64("keep", 0.3, "fixture: kept share of masked weights")
		deadRows = flag.Float64("dead-rows", 0.5, "fixture: share of pruned neurons/channels")
		dsName   = flag.String("dataset", "", "dataset for real inputs (with -data)")
		data     = flag.String("data", "", "data root for real inputs; random inputs without")
		batches  = flag.String("batch", "1,64,256", "batch sizes")
		runs     = flag.Int("runs", 30, "timed runs per export and batch size")
		threads  = flag.Int("threads", 0, "ONNX Runtime intra-op threads (0: its default)")
		provider = flag.String("provider", "cpu", "cpu or cuda")
		out      = flag.String("out", "bench/eval.json", "JSON output (\"\" for none)")
	)
	given := map[exporter.Format]*string{}
	for _, f := range exporter.Formats() {
		given[f] = flag.String(string(f), "", fmt.Sprintf("%s export (dcwp-export --format %s)", f, f))
	}
	flag.Parse()
	files := map[exporter.Format]string{}
	for f, p := range given {
		if *p != "" {
			files[f] = *p
		}
	}
	if err := run(files, *runDir, *archName, *keep, *deadRows, *dsName, *data, *batches, *runs, *threads, *provider, *out); err != nil {
		fmt.Fprintf(os.Stderr, "bench-eval: %v\n", err)
		os.Exit(2)
	}
}

// run times the exports in files (format to ONNX file), or, when it is empty, every format
// of the run's or fixture's network.
func run(files map[exporter.Format]string, runDir, archName string, keep, deadRows float64, dsName, data, batchList string, runs, threads int, provider, out string) error {
	var net *rundir.Network
	if len(files) == 0 {
		tmp, err := os.MkdirTemp("", "bench-eval-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cfg, n, err := network(runDir, exportfixture.Spec{Model: archName, Seed: 1, Keep: keep, DeadRows: deadRows})
		if err != nil {
			return err
		}
		net = n
		for _, f := range exporter.Formats() {
			m, _, err := exporter.ExportNetwork(cfg, net, exporter.Options{Which: rundir.DCWP, Format: f, Source: "bench-eval", ChannelMultiple: exporter.ChannelMultipleOf(f)})
			if err != nil {
				return err
			}
			files[f] = filepath.Join(tmp, fmt.Sprintf("%s-%s.onnx", archName, f))
			if _, err := exporter.WriteFile(files[f], m); err != nil {
				return err
			}
		}
	}
	var bs []int
	for _, f := range strings.Split(batchList, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return fmt.Errorf("-batch %q: %q is not a positive integer", batchList, f)
		}
		bs = append(bs, v)
	}
	var split *dataset.Split
	if data != "" {
		var err error
		if split, err = eval.LoadSplit(data, dsName, dataset.Share{}, "test"); err != nil {
			return err
		}
	}
	var rows []row
	for _, f := range exporter.Formats() {
		if files[f] == "" {
			continue
		}
		res, err := eval.BenchORT(eval.BenchOptions{Models: []string{files[f]}, Split: split, Batches: bs, Runs: runs,
			Session: ort.Options{Provider: provider, Threads: threads}})
		if err != nil {
			return err
		}
		for _, r := range res {
			rows = append(rows, row{Format: string(f), BenchResult: r})
		}
	}
	if net != nil {
		er, err := engineRows(net, split, bs, runs, threads)
		if err != nil {
			return err
		}
		rows = append(rows, er...)
	}
	fmt.Printf("ONNX Runtime %s, provider %s, threads %d (0 = default)\n", ort.Version(), provider, threads)
	fmt.Printf("%-8s %12s %12s %6s %10s %10s %12s\n", "format", "params", "non-zero", "batch", "p50 ms", "p95 ms", "samples/s")
	for _, r := range rows {
		fmt.Printf("%-8s %12d %12d %6d %10.3f %10.3f %12.1f\n", r.Format, r.ParamsTotal, r.ParamsNonzero, r.Batch, r.LatencyMsP50, r.LatencyMsP95, r.ThroughputSPS)
	}
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteJSON(out, rows); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", out)
	}
	return nil
}

// network is the DCWP network of runDir, or the fixture when runDir is empty.
func network(runDir string, spec exportfixture.Spec) (rundir.Config, *rundir.Network, error) {
	if runDir == "" {
		n, err := exportfixture.Network(spec)
		if err != nil {
			return rundir.Config{}, nil, err
		}
		fmt.Printf("fixture %s, keep %.2f, dead rows %.2f\n", spec.Model, spec.Keep, spec.DeadRows)
		return spec.Config(), n, nil
	}
	r, err := rundir.Open(runDir)
	if err != nil {
		return rundir.Config{}, nil, err
	}
	n, err := r.Network(rundir.DCWP)
	if err != nil {
		return rundir.Config{}, nil, err
	}
	fmt.Printf("run %s (%s)\n", runDir, r.Config.Model)
	return r.Config, n, nil
}
