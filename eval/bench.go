package eval

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// BenchOptions configures BenchORT.
type BenchOptions struct {
	Models  []string       // ONNX files (e.g. the dense and the compact export of one run)
	Split   *dataset.Split // real images; nil = seeded uniform [0,1) inputs of the first model's input shape
	Batches []int          // batch sizes (default 1, 64, 256)
	Runs    int            // timed runs per model and batch size (default 50)
	Warmup  int            // untimed runs before each timing (default 5)
	Seed    uint64         // picks the samples / random values
	Session ort.Options
}

// BenchResult is the runtime speed of one model at one batch size.
type BenchResult struct {
	Model         string `json:"model"`
	Provider      string `json:"provider"`
	Threads       int    `json:"threads"`
	ParamsTotal   int64  `json:"params_total"`
	ParamsNonzero int64  `json:"params_nonzero"`
	FileBytes     int64  `json:"file_bytes"`
	Timing
}

// fileBytes is the size of a model file; 0 when it cannot be read (it was, to be timed).
func fileBytes(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// Against is one model's speed and size as a multiple of the first model's at the same
// batch size (the dense export, when it is given first): throughput and latency speed-up,
// file and parameter shares.
type Against struct {
	Model      string  `json:"model"`
	Batch      int     `json:"batch"`
	Throughput float64 `json:"throughput_x"`
	Latency    float64 `json:"latency_speedup_x"`
	File       float64 `json:"file_share"`
	Params     float64 `json:"params_share"`
}

// AgainstFirst compares every result of a model after the first with the first model's
// result at the same batch size.
func AgainstFirst(res []BenchResult) []Against {
	if len(res) == 0 {
		return nil
	}
	base := map[int]BenchResult{}
	for _, r := range res {
		if r.Model == res[0].Model {
			base[r.Batch] = r
		}
	}
	var out []Against
	for _, r := range res {
		b, ok := base[r.Batch]
		if r.Model == res[0].Model || !ok {
			continue
		}
		out = append(out, Against{Model: r.Model, Batch: r.Batch, Throughput: share(r.ThroughputSPS, b.ThroughputSPS),
			Latency: share(b.LatencyMsP50, r.LatencyMsP50), File: share(float64(r.FileBytes), float64(b.FileBytes)),
			Params: share(float64(r.ParamsTotal), float64(b.ParamsTotal))})
	}
	return out
}

func share(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// BenchInput builds one batch of `batch` samples with shape chw: eval-
// transformed images of split drawn by a seeded permutation (cycled when the
// split is smaller), or seeded uniform [0,1) values when split is nil. The
// same (split, chw, batch, seed) always gives the same batch, so other
// engines can be timed on exactly the inputs ONNX Runtime saw.
func BenchInput(split *dataset.Split, chw [3]int, batch int, seed uint64) ([]float32, [4]int) {
	rng := rand.New(rand.NewPCG(seed, 0xbe4c))
	if split != nil && split.Len() > 0 {
		perm := rng.Perm(split.Len())
		idx := make([]int, batch)
		for i := range idx {
			idx[i] = perm[i%len(perm)]
		}
		return split.Batch(idx, false, nil)
	}
	x := make([]float32, batch*chw[0]*chw[1]*chw[2])
	for i := range x {
		x[i] = rng.Float32()
	}
	return x, [4]int{batch, chw[0], chw[1], chw[2]}
}

// TimeRuns calls run warmup times untimed, then runs times timed, and
// summarises the latencies as a Timing for `batch` samples per call. Use it
// for any engine so the figures are computed alike.
func TimeRuns(run func() error, batch, runs, warmup int) (Timing, error) {
	for i := 0; i < warmup; i++ {
		if err := run(); err != nil {
			return Timing{}, err
		}
	}
	p := &Pass{Batch: batch, Samples: batch * runs}
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		if err := run(); err != nil {
			return Timing{}, err
		}
		p.Latencies = append(p.Latencies, time.Since(t0))
	}
	return p.Timing(), nil
}

// BenchORT times ONNX Runtime inference of each model at each batch size on
// the same inputs (see BenchInput), one model after the other.
func BenchORT(o BenchOptions) ([]BenchResult, error) {
	if len(o.Models) == 0 {
		return nil, fmt.Errorf("%w: no model to benchmark", ErrUsage)
	}
	if len(o.Batches) == 0 {
		o.Batches = []int{1, 64, 256}
	}
	if o.Runs <= 0 {
		o.Runs = 50
	}
	if o.Warmup == 0 {
		o.Warmup = 5
	}
	for _, b := range o.Batches {
		if b <= 0 {
			return nil, fmt.Errorf("%w: batch size %d (want > 0)", ErrUsage, b)
		}
	}
	var out []BenchResult
	var chw [3]int
	for k, model := range o.Models {
		s, err := OpenSession(model, o.Session)
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer s.Close()
			if o.Split != nil {
				if err := CheckInput(s, o.Split); err != nil {
					return err
				}
				chw = o.Split.InputShape()
			} else if k == 0 {
				in := s.Input.Shape
				if len(in) != 4 || in[1] <= 0 || in[2] <= 0 || in[3] <= 0 {
					return fmt.Errorf("%w: model %s input %s is not [N,C,H,W] with fixed C,H,W; give --data", ErrShape, model, dimString(in))
				}
				chw = [3]int{int(in[1]), int(in[2]), int(in[3])}
			}
			for _, b := range o.Batches {
				if fb := s.FixedBatch(); fb > 0 && fb != b {
					return fmt.Errorf("%w: model %s takes batches of exactly %d, cannot time batch %d", ErrShape, model, fb, b)
				}
				if _, err := batchElements(ErrUsage, model, b, []int64{int64(chw[0]), int64(chw[1]), int64(chw[2])}); err != nil {
					return err
				}
				x, sh := BenchInput(o.Split, chw, b, o.Seed)
				shape := []int64{int64(sh[0]), int64(sh[1]), int64(sh[2]), int64(sh[3])}
				t, err := TimeRuns(func() error { _, _, err := s.Run(x, shape); return err }, b, o.Runs, o.Warmup)
				if err != nil {
					return err
				}
				out = append(out, BenchResult{Model: model, Provider: s.Provider, Threads: o.Session.Threads,
					ParamsTotal: s.Summary.ParamsTotal, ParamsNonzero: s.Summary.ParamsNonZero, FileBytes: fileBytes(model), Timing: t})
			}
			return nil
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
