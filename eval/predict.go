package eval

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/tensor"
)

// CheckInput verifies that the session's input takes the split's images:
// rank 4 (N, C, H, W) with C, H, W equal to split.InputShape() wherever the
// graph fixes them. The error names the model and both shapes.
func CheckInput(s *Session, split *dataset.Split) error {
	want := split.InputShape()
	in := s.Input.Shape
	if len(in) != 4 {
		return fmt.Errorf("%w: model %s input %q has shape %s (rank %d), but dataset %s %s gives images of %dx%dx%d (want [N,%d,%d,%d])",
			ErrShape, s.Model, s.Input.Name, dimString(in), len(in), split.Dataset, split.Name, want[0], want[1], want[2], want[0], want[1], want[2])
	}
	for k := 0; k < 3; k++ {
		if in[k+1] > 0 && in[k+1] != int64(want[k]) {
			return fmt.Errorf("%w: model %s input %q has shape %s, but dataset %s %s gives images of %dx%dx%d (want [N,%d,%d,%d])",
				ErrShape, s.Model, s.Input.Name, dimString(in), split.Dataset, split.Name, want[0], want[1], want[2], want[0], want[1], want[2])
		}
	}
	return nil
}

func dimString(d []int64) string {
	s := "["
	for i, v := range d {
		if i > 0 {
			s += ","
		}
		if v < 0 {
			s += "N"
		} else {
			s += fmt.Sprint(v)
		}
	}
	return s + "]"
}

// PassOptions configures RunSplit.
type PassOptions struct {
	Batch    int                   // samples per Run; a graph with a fixed batch dimension overrides it
	Classes  int                   // logits per sample the first output must give; 0 = any
	Limit    int                   // run on the first Limit samples only; 0 = the whole split
	Warmup   int                   // untimed runs on the first batch before timing
	Progress func(done, total int) // called after each batch; may be nil
}

// Pass is one run of a model over (part of) a split at one batch size.
type Pass struct {
	Batch     int             // batch size used
	Samples   int             // samples predicted
	Classes   int             // logits per sample
	Preds     []int32         // argmax per sample
	Logits    []float32       // Samples × Classes
	Latencies []time.Duration // one per Run call (padding of a short last batch included)
}

// RunSplit predicts the split's samples in order with the eval transform,
// timing each runtime call (input tensor, run and output copy; not the
// dataset transform). The last batch is zero-padded when the graph fixes the
// batch size.
func RunSplit(s *Session, split *dataset.Split, o PassOptions) (*Pass, error) {
	if err := CheckInput(s, split); err != nil {
		return nil, err
	}
	n := split.Len()
	if o.Limit > 0 && o.Limit < n {
		n = o.Limit
	}
	batch, kind := o.Batch, ErrUsage
	if fb := s.FixedBatch(); fb > 0 {
		batch, kind = fb, ErrShape
	}
	if batch <= 0 {
		return nil, fmt.Errorf("%w: batch size %d", ErrUsage, batch)
	}
	in := split.InputShape()
	per := in[0] * in[1] * in[2]
	rows := batch // a dynamic batch never needs more rows than there are samples
	if kind == ErrUsage {
		rows = max(1, min(batch, n))
	}
	if _, err := batchElements(kind, s.Model, rows, []int64{int64(in[0]), int64(in[1]), int64(in[2])}); err != nil {
		return nil, err
	}
	p := &Pass{Batch: batch, Samples: n}
	buf := make([]float32, rows*per)
	idx := make([]int, 0, rows)
	run := func(start int, timed bool) error {
		end := min(start+batch, n)
		idx = idx[:0]
		for i := start; i < end; i++ {
			idx = append(idx, i)
		}
		x, _ := split.BatchInto(buf, idx, false, nil)
		rows := len(idx)
		if fb := s.FixedBatch(); fb > 0 && rows < fb {
			x = buf[:fb*per]
			clear(x[rows*per:])
			rows = fb
		}
		t0 := time.Now()
		logits, classes, err := s.Run(x, []int64{int64(rows), int64(in[0]), int64(in[1]), int64(in[2])})
		dt := time.Since(t0)
		if err != nil {
			return err
		}
		if err := checkLogits(s, split, o.Classes, p.Classes, logits, classes, start, len(idx)); err != nil {
			return err
		}
		if !timed {
			return nil
		}
		p.Latencies = append(p.Latencies, dt)
		if p.Classes == 0 {
			p.Classes = classes
			p.Logits = make([]float32, 0, n*classes)
		}
		p.Logits = append(p.Logits, logits[:len(idx)*classes]...)
		return nil
	}
	if n == 0 {
		return p, nil
	}
	for w := 0; w < o.Warmup; w++ {
		if err := run(0, false); err != nil {
			return nil, err
		}
	}
	for start := 0; start < n; start += batch {
		if err := run(start, true); err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(min(start+batch, n), n)
		}
	}
	p.Preds = metrics.Argmax(p.Logits, p.Classes)
	return p, nil
}

// checkLogits refuses a batch's logits that cannot be scored: a class count other than
// want (the dataset's) or than earlier batches gave (an output such as [N, N]), fewer
// values than rows × classes, or a NaN or infinity (which argmax would silently turn into
// class 0).
func checkLogits(s *Session, split *dataset.Split, want, earlier int, logits []float32, classes, start, rows int) error {
	switch {
	case want > 0 && classes != want:
		return fmt.Errorf("%w: model %s outputs %d classes, dataset %s has %d", ErrShape, s.Model, classes, split.Dataset, want)
	case earlier > 0 && classes != earlier:
		return fmt.Errorf("%w: model %s outputs %d classes for one batch and %d for another", ErrShape, s.Model, earlier, classes)
	case len(logits) < rows*classes:
		return fmt.Errorf("%w: model %s gave %d logits for %d samples of %d classes", ErrShape, s.Model, len(logits), rows, classes)
	}
	if i := tensor.FirstNonFinite(logits[:rows*classes]); i >= 0 {
		return fmt.Errorf("%w: model %s gives a non-finite logit (%g) for sample %d of %s %s; its weights or graph are broken",
			ErrModel, s.Model, logits[i], start+i/classes, split.Dataset, split.Name)
	}
	return nil
}

// Predict runs the model over the whole split at the given batch size and
// returns the predicted class and the logits (len(preds) × classes) of
// every sample, in split order.
func Predict(s *Session, split *dataset.Split, batch int) (preds []int32, logits []float32, err error) {
	p, err := RunSplit(s, split, PassOptions{Batch: batch})
	if err != nil {
		return nil, nil, err
	}
	return p.Preds, p.Logits, nil
}

// Timing summarises the latencies of a pass.
type Timing struct {
	Batch         int     `json:"batch"`
	Runs          int     `json:"runs"`
	Samples       int     `json:"samples"`
	LatencyMsP50  float64 `json:"latency_ms_p50"`
	LatencyMsP95  float64 `json:"latency_ms_p95"`
	LatencyMsMean float64 `json:"latency_ms_mean"`
	// ThroughputSPS is at the median latency, as the latency columns beside it: the samples
	// of one run (the batch, or the whole pass where it is smaller) per p50 latency.
	ThroughputSPS float64 `json:"throughput_sps"`
	// ThroughputSPSMean is at the mean latency: all samples per total time in the runtime.
	ThroughputSPSMean float64 `json:"throughput_sps_mean"`
}

// Timing computes p50/p95 per-batch latency (nearest rank) and throughput at the median
// latency (and at the mean).
func (p *Pass) Timing() Timing {
	t := Timing{Batch: p.Batch, Runs: len(p.Latencies), Samples: p.Samples}
	if len(p.Latencies) == 0 {
		return t
	}
	ms := make([]float64, len(p.Latencies))
	var sum float64
	for i, d := range p.Latencies {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	sort.Float64s(ms)
	t.LatencyMsP50 = percentile(ms, 50)
	t.LatencyMsP95 = percentile(ms, 95)
	t.LatencyMsMean = sum / float64(len(ms))
	if sum > 0 {
		t.ThroughputSPSMean = float64(p.Samples) / (sum / 1000)
	}
	if t.LatencyMsP50 > 0 {
		t.ThroughputSPS = float64(min(p.Batch, p.Samples)) / (t.LatencyMsP50 / 1000)
	}
	return t
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	r := int(math.Ceil(q/100*float64(len(sorted)))) - 1
	r = max(0, min(r, len(sorted)-1))
	return sorted[r]
}
