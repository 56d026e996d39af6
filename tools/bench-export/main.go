// Command bench-export measures what the export formats buy: file size of sparse vs dense
// at 90 % unstructured sparsity, and ONNX Runtime latency of compact vs dense for an MLP
// whose mask prunes whole neurons (structured) and, for honesty, one whose mask prunes
// 90 % of the weights at random (unstructured). Fixture networks come from fixed seeds.
//
//	go run ./tools/bench-export [-batch 256] [-reps 15] [-json FILE]
//
// It exits 1 when a claim fails: sparse ≤ 40 % of dense at 90 % sparsity; compact MLP
// latency ≤ dense × (kept neuron share + 0.1) for the structured mask.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

type sizeRow struct {
	Model    string                  `json:"model"`
	Sparsity float64                 `json:"sparsity"` // share of masked weights pruned
	Bytes    map[exporter.Format]int `json:"bytes"`    // file size per format
	Ratio    float64                 `json:"sparse_over_dense"`
}

type latRow struct {
	Mask         string                      `json:"mask"`
	KeptWeights  float64                     `json:"kept_weight_share"`
	KeptNeurons  float64                     `json:"kept_neuron_share"` // hidden neurons left after compaction
	Ms           map[exporter.Format]float64 `json:"ms"`                // per batch, per format
	Ratio        float64                     `json:"compact_over_dense"`
	Bound        float64                     `json:"bound"` // kept neuron share + 0.1
	BatchSamples int                         `json:"batch"`
}

// exports writes the spec's network in every format.
func exports(s exportfixture.Spec) (map[exporter.Format][]byte, map[exporter.Format]*exporter.Stats) {
	net, err := exportfixture.Network(s)
	check(err)
	files, stats := map[exporter.Format][]byte{}, map[exporter.Format]*exporter.Stats{}
	for _, f := range exporter.Formats() {
		m, st, err := exporter.ExportNetwork(s.Config(), net, exporter.Options{Format: f, Source: "bench"})
		check(err)
		files[f], err = exporter.Encode(m)
		check(err)
		stats[f] = st
	}
	return files, stats
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-export:", err)
		os.Exit(2)
	}
}

// latencies times one batch of each model, interleaving the models round by round so
// that load from other processes hits all alike; it reports the fastest round of each
// (the least disturbed), in milliseconds per batch.
func latencies(models [][]byte, x []float32, batch, reps int) []float64 {
	var ss []*ort.Session
	for _, m := range models {
		s, err := ort.New(m, "input", "logits", 1)
		check(err)
		defer s.Close()
		ss = append(ss, s)
	}
	run := func(s *ort.Session) {
		_, _, err := s.Run(x, int64(batch), 3, 28, 28)
		check(err)
	}
	best := make([]float64, len(ss))
	for i, s := range ss {
		best[i] = math.Inf(1)
		for w := 0; w < 5; w++ {
			run(s)
		}
	}
	const n = 10
	for r := 0; r < reps; r++ {
		for i, s := range ss {
			t0 := time.Now()
			for k := 0; k < n; k++ {
				run(s)
			}
			best[i] = math.Min(best[i], float64(time.Since(t0).Microseconds())/1000/n)
		}
	}
	return best
}

func main() {
	batch := flag.Int("batch", 256, "samples per ONNX Runtime run")
	reps := flag.Int("reps", 15, "timing rounds (the fastest is reported)")
	jsonOut := flag.String("json", "", "also write the figures as JSON here")
	flag.Parse()
	ok := true

	fmt.Println("== file size, 90 % unstructured sparsity (mask keeps 10 % of each weight at random)")
	var sizes []sizeRow
	for i, model := range arch.Models() {
		s := exportfixture.Spec{Model: model, Seed: uint64(100 + i), Keep: 0.1}
		files, stats := exports(s)
		r := sizeRow{Model: model, Sparsity: 1 - stats[exporter.Dense].KeptRatio, Bytes: map[exporter.Format]int{}}
		line := fmt.Sprintf("%-9s sparsity %.3f ", model, r.Sparsity)
		for _, f := range exporter.Formats() {
			r.Bytes[f] = len(files[f])
			line += fmt.Sprintf(" %s %10d B ", f, r.Bytes[f])
		}
		r.Ratio = float64(r.Bytes[exporter.Sparse]) / float64(r.Bytes[exporter.Dense])
		sizes = append(sizes, r)
		verdict := "ok"
		if r.Ratio > 0.40 {
			verdict, ok = "FAIL (> 0.40)", false
		}
		fmt.Printf("%s sparse/dense %.3f  %s\n", line, r.Ratio, verdict)
	}

	fmt.Printf("\n== ONNX Runtime latency, mlp, batch %d, 1 thread, fastest of %d interleaved rounds of 10 runs\n", *batch, *reps)
	masks := []struct {
		name string
		spec exportfixture.Spec
		gate bool
	}{
		{"structured: 70 % of hidden neurons pruned", exportfixture.Spec{Model: "mlp", Seed: 11, Keep: 1, DeadRows: 0.7}, true},
		{"structured: 50 % of hidden neurons pruned", exportfixture.Spec{Model: "mlp", Seed: 12, Keep: 1, DeadRows: 0.5}, true},
		{"unstructured: 90 % of weights pruned at random", exportfixture.Spec{Model: "mlp", Seed: 13, Keep: 0.1}, false},
	}
	var lats []latRow
	for _, m := range masks {
		files, stats := exports(m.spec)
		units, orig := 0, 0
		for _, l := range stats[exporter.Compact].Layers {
			if l.Op == "Gemm" && l.Name != "fc" {
				units += l.Units
				orig += l.UnitsOrig
			}
		}
		net, _ := exportfixture.Network(m.spec)
		x := exportfixture.Input(net.Arch, *batch, 1)
		r := latRow{Mask: m.name, KeptWeights: stats[exporter.Dense].KeptRatio, KeptNeurons: float64(units) / float64(orig),
			BatchSamples: *batch, Ms: map[exporter.Format]float64{}}
		var models [][]byte
		for _, f := range exporter.Formats() {
			models = append(models, files[f])
		}
		times := ""
		for i, t := range latencies(models, x, *batch, *reps) {
			f := exporter.Formats()[i]
			r.Ms[f] = t
			times += fmt.Sprintf("%s %.3f ms, ", f, t)
		}
		r.Ratio = r.Ms[exporter.Compact] / r.Ms[exporter.Dense]
		r.Bound = r.KeptNeurons + 0.1
		lats = append(lats, r)
		verdict := "(informative)"
		if m.gate {
			verdict = "ok"
			if r.Ratio > r.Bound {
				verdict, ok = fmt.Sprintf("FAIL (> %.3f)", r.Bound), false
			}
		}
		fmt.Printf("%-48s kept weights %.3f, kept neurons %.3f: %scompact/dense %.3f (bound %.3f) %s\n",
			m.name, r.KeptWeights, r.KeptNeurons, times, r.Ratio, r.Bound, verdict)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{"size": sizes, "latency": lats}, "", "  ")
		check(os.WriteFile(*jsonOut, append(b, '\n'), 0o644))
	}
	if !ok {
		fmt.Println("\nbench-export: a claim failed")
		os.Exit(1)
	}
	fmt.Println("\nbench-export: all claims hold")
}
