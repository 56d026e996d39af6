package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// Options configures Evaluate.
type Options struct {
	Model   string        // ONNX file
	Dataset string        // a name dataset.Lookup knows
	Data    string        // data root holding <dataset>/...
	Pct     dataset.Share // conflict share of the benchmarks' train and valid splits
	Split   string        // "test" by default

	// Split, when set, is evaluated instead of loading Dataset/Data/Pct/Split.
	SplitData *dataset.Split

	// Batches are the batch sizes to time; the first one also produces the
	// accuracy figures (default 256). Later ones re-run the split (or its
	// first BenchSamples samples) for timing only.
	Batches      []int
	BenchSamples int // cap on samples per extra batch size; 0 = the whole split
	Warmup       int // untimed runs before timing each batch size (default 1; <0 for none)

	Session ort.Options // provider, runtime library, threads

	// Progress, if set, is told about each batch: stage is "batch N".
	Progress func(stage string, done, total int)

	// Predictions, when set, is a CSV file the accuracy pass's per-sample predictions are
	// written to (WritePredictions).
	Predictions string
}

// Report is what Evaluate measures. Field names in JSON are stable; the
// accuracy fields (accuracy, aligned_accuracy, conflicting_accuracy,
// worst_group_accuracy, samples, correct, groups) are metrics.Accuracy's.
type Report struct {
	Model      string        `json:"model"`
	Dataset    string        `json:"dataset"`
	Pct        dataset.Share `json:"pct,omitzero"`
	Split      string        `json:"split"`
	InputShape []int64       `json:"input_shape"`
	Classes    int           `json:"classes"`
	ClassNames []string      `json:"class_names,omitempty"`
	// Grouping names the columns of the groups matrix (the bias attribute's values) and says
	// which value each class is aligned with; absent without bias labels.
	Grouping *metrics.Groups `json:"grouping,omitempty"`

	// Accuracy's figures are written inline, beside the others (MarshalJSON), in its own
	// encoding: without bias labels it has no group figures to write.
	Accuracy metrics.Accuracy `json:"-"`

	ParamsTotal   int64 `json:"params_total"`
	ParamsNonzero int64 `json:"params_nonzero"`

	Provider   string `json:"provider"`
	ORTVersion string `json:"ort_version"`
	ORTLib     string `json:"ort_lib"`
	Threads    int    `json:"threads"` // 0: runtime default

	// Timing at the first batch size (the accuracy pass).
	BatchSize     int     `json:"batch_size"`
	ThroughputSPS float64 `json:"throughput_sps"`
	LatencyMsP50  float64 `json:"latency_ms_p50"`
	LatencyMsP95  float64 `json:"latency_ms_p95"`
	// Timing at every batch size, in the order asked.
	Batches []Timing `json:"batches"`
	// Samples whose prediction at a later batch size differs from the
	// accuracy pass (numerical noise on near-ties; normally 0).
	BatchMismatches int `json:"batch_prediction_mismatches"`

	Seconds float64 `json:"seconds"` // wall time of Evaluate

	// Images says where the split's images came from and what loading converted
	// (dataset.Prep); "" for a split given to Evaluate.
	Images string `json:"-"`
}

// MarshalJSON writes the report as one object: its own fields, then Accuracy's.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	head, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	acc, err := json.Marshal(r.Accuracy)
	if err != nil {
		return nil, err
	}
	return append(append(head[:len(head)-1], ','), acc[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	return json.Unmarshal(b, &r.Accuracy)
}

// Evaluate loads the model and split, predicts the split, and measures
// accuracy (overall, aligned, conflicting, worst-group, per (label, bias)),
// the graph's parameter counts and the runtime latency/throughput at each
// batch size. Errors wrap ErrModel, ErrData, ErrShape, ErrORTLib, ErrProvider
// or ErrUsage and name the offending file or folder.
func Evaluate(o Options) (*Report, error) {
	t0 := time.Now()
	if len(o.Batches) == 0 {
		o.Batches = []int{256}
	}
	for _, b := range o.Batches {
		if b <= 0 {
			return nil, fmt.Errorf("%w: batch size %d (want > 0)", ErrUsage, b)
		}
	}
	if o.Warmup == 0 {
		o.Warmup = 1
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	// Cheap checks first: the model file, then the data, then the runtime.
	mp, _, err := ReadModel(o.Model)
	if err != nil {
		return nil, err
	}
	split := o.SplitData
	if split == nil {
		if split, err = loadSplitFor(mp, o.Model, o.Data, o.Dataset, o.Pct, o.Split); err != nil {
			return nil, err
		}
	}
	s, err := OpenSession(o.Model, o.Session)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := CheckInput(s, split); err != nil {
		return nil, err
	}
	if err := CheckOutput(s, split.Classes); err != nil {
		return nil, err
	}
	r := &Report{Model: o.Model, Dataset: split.Dataset, Pct: split.Share, Split: split.Name, ClassNames: split.ClassNames,
		InputShape: s.Input.Shape, Provider: s.Provider, ORTVersion: ort.Version(), ORTLib: s.Lib,
		Threads: o.Session.Threads}
	if o.SplitData == nil {
		r.Images = split.Prep.String()
	}
	r.ParamsTotal, r.ParamsNonzero = s.Summary.ParamsTotal, s.Summary.ParamsNonZero

	var first *Pass
	for k, b := range o.Batches {
		po := PassOptions{Batch: b, Warmup: o.Warmup, Classes: split.Classes}
		if k > 0 {
			po.Limit = o.BenchSamples
		}
		if o.Progress != nil {
			stage := fmt.Sprintf("batch %d", b)
			po.Progress = func(done, total int) { o.Progress(stage, done, total) }
		}
		p, err := RunSplit(s, split, po)
		if err != nil {
			return nil, err
		}
		if k == 0 {
			first = p
			r.Classes = p.Classes
			g := split.Grouping()
			r.Accuracy = metrics.Score(p.Preds, split.Labels, split.Bias, g)
			if split.HasBias() {
				r.Grouping = &g
			}
			if o.Predictions != "" {
				if err := WritePredictions(o.Predictions, split, p, g); err != nil {
					return nil, err
				}
			}
		} else {
			for i := range p.Preds {
				if p.Preds[i] != first.Preds[i] {
					r.BatchMismatches++
				}
			}
		}
		r.Batches = append(r.Batches, p.Timing())
	}
	t := r.Batches[0]
	r.BatchSize, r.ThroughputSPS, r.LatencyMsP50, r.LatencyMsP95 = t.Batch, t.ThroughputSPS, t.LatencyMsP50, t.LatencyMsP95
	r.Seconds = time.Since(t0).Seconds()
	return r, nil
}

// LoadSplit loads a split with errors that wrap ErrData and name the folder.
func LoadSplit(root, name string, share dataset.Share, split string) (*dataset.Split, error) {
	return loadSplit(dataset.Request{Root: root, Name: name, Share: share}, split)
}

// loadSplit is LoadSplit for a request (a model's groups).
func loadSplit(req dataset.Request, split string) (*dataset.Split, error) {
	root, name := req.Root, req.Name
	if root == "" {
		return nil, fmt.Errorf("%w: no data folder given (--data)", ErrData)
	}
	if name == "" {
		return nil, fmt.Errorf("%w: no dataset given (--dataset %s)", ErrData, strings.Join(dataset.Names(), "|"))
	}
	if split == "" {
		split = dataset.Test
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("%w: data folder %s does not exist", ErrData, root)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: data folder %s is not a directory", ErrData, root)
	}
	sp, err := dataset.Loader{}.LoadSplit(req, split)
	if err != nil {
		if errors.Is(err, dataset.ErrUnknown) || errors.Is(err, dataset.ErrShare) {
			return nil, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	if sp.Len() == 0 {
		return nil, fmt.Errorf("%w: dataset %s %s under %s holds no samples", ErrData, name, split, root)
	}
	return sp, nil
}

// WriteText prints the report as a readable table.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "model       %s\n", r.Model)
	ds := r.Dataset + " " + r.Split
	if !r.Pct.IsZero() {
		ds += " (" + r.Pct.Dir() + ")"
	}
	fmt.Fprintf(w, "dataset     %s, %d samples, input %s, %d classes\n", ds, r.Accuracy.Samples, dimString(r.InputShape), r.Classes)
	if r.Images != "" {
		fmt.Fprintf(w, "%s\n", r.Images)
	}
	fmt.Fprintf(w, "runtime     ONNX Runtime %s, provider %s, threads %s\n", r.ORTVersion, r.Provider, ThreadsString(r.Threads))
	nzPct := 0.0
	if r.ParamsTotal > 0 {
		nzPct = 100 * float64(r.ParamsNonzero) / float64(r.ParamsTotal)
	}
	fmt.Fprintf(w, "parameters  %d total, %d non-zero (%.2f%%)\n\n", r.ParamsTotal, r.ParamsNonzero, nzPct)
	fmt.Fprintf(w, "accuracy              %7.2f%%  (%d/%d)\n", 100*r.Accuracy.Accuracy, r.Accuracy.Correct, r.Accuracy.Samples)
	if r.Accuracy.GroupsUnavailable != "" {
		fmt.Fprintf(w, "%s\n\n", r.Accuracy.GroupsUnavailable)
	} else {
		fmt.Fprintf(w, "aligned accuracy      %7.2f%%\n", 100*r.Accuracy.AlignedAccuracy)
		fmt.Fprintf(w, "conflicting accuracy  %7.2f%%\n", 100*r.Accuracy.ConflictingAccuracy)
		fmt.Fprintf(w, "worst-group accuracy  %7.2f%%\n\n", 100*r.Accuracy.WorstGroupAccuracy)
	}
	r.writePerClass(w)
	r.writeGroups(w)
	fmt.Fprintf(w, "%7s %7s %8s %12s %12s %16s\n", "batch", "runs", "samples", "p50 ms", "p95 ms", "p50 samples/s")
	for _, t := range r.Batches {
		fmt.Fprintf(w, "%7d %7d %8d %12.3f %12.3f %16.1f\n", t.Batch, t.Runs, t.Samples, t.LatencyMsP50, t.LatencyMsP95, t.ThroughputSPS)
	}
	if r.BatchMismatches > 0 {
		fmt.Fprintf(w, "note: %d predictions differ between batch sizes (numerical near-ties)\n", r.BatchMismatches)
	}
}

// ThreadsString shows a --threads value: "default" for n <= 0 (the runtime's own choice).
func ThreadsString(n int) string {
	if n <= 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

// WriteJSON writes the report as indented JSON, atomically.
func (r *Report) WriteJSON(path string) error {
	return atomicfile.WriteJSON(path, r)
}
