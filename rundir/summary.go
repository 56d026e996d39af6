package rundir

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/metrics"
)

// Eval holds a network's accuracy on validation and test.
type Eval struct {
	Valid metrics.Accuracy `json:"valid"`
	Test  metrics.Accuracy `json:"test"`
}

// Mined scores the mined bias-conflicting flags against the true conflict labels.
type Mined struct {
	Flagged   int     `json:"flagged"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// Unscored, when set, says why precision and recall are not known (no bias labels on
	// train): they are then 0 in Go and absent from JSON.
	Unscored string `json:"unscored,omitempty"`
}

// MarshalJSON leaves precision and recall out when they were not measured.
func (m Mined) MarshalJSON() ([]byte, error) {
	type plain Mined
	if m.Unscored == "" {
		return json.Marshal(plain(m))
	}
	return json.Marshal(struct {
		plain
		Precision *float64 `json:"precision,omitempty"`
		Recall    *float64 `json:"recall,omitempty"`
	}{plain: plain(m)})
}

// Summary is what a finished run reports. Vanilla and DCWP score the float32 networks that
// dcwp-export ships, whatever precision the run trained in, so that dcwp-eval on an export
// agrees with them.
type Summary struct {
	Vanilla      Eval               `json:"vanilla"`
	DCWP         *Eval              `json:"dcwp,omitempty"`
	KeptRatio    float64            `json:"kept_ratio"`
	KeptPerLayer map[string]float64 `json:"kept_per_layer,omitempty"`
	// FLOPsKept is the share of the masked layers' dense FLOPs the mask keeps (package
	// budget); absent in summaries older than it.
	FLOPsKept    *float64           `json:"flops_kept,omitempty"`
	Mined        Mined              `json:"mined"`
	StageSeconds map[string]float64 `json:"stage_seconds"`
	// WallSeconds is the run's wall time, each process that ran it from its start to its
	// end (a killed process up to its last checkpoint); 0 (absent) in summaries written
	// before it was recorded.
	WallSeconds  float64 `json:"wall_seconds,omitempty"`
	SelectedIter int     `json:"selected_iter,omitempty"`
	// PretrainAuto is the pre-training length the rule of --pretrain-iters auto chose; nil
	// when the run pre-trained a given number of iterations.
	PretrainAuto *AutoChoice `json:"pretrain_auto,omitempty"`
	PeakMemoryMB float64     `json:"peak_memory_mb,omitempty"` // peak resident memory of the training process
	// Profile splits each training loop's wall time, for the iterations the last process
	// ran (a resumed run's earlier part is in StageSeconds only).
	Profile map[string]LoopProfile `json:"profile,omitempty"`
	// Deployed is what the DCWP network costs as dcwp-export writes it, compact against
	// dense; nil before fine-tuning and in summaries older than it.
	Deployed *Deployment `json:"deployed,omitempty"`
}

// Footprint is what one export of a network costs where it is deployed.
type Footprint struct {
	Params int64 `json:"params_total"`
	FLOPs  int64 `json:"flops_per_sample"` // of the Gemm and Conv layers, 2 per multiply-add
	// FileBytes is the file's size; 0 (absent) in a summary, where it would depend on the
	// run directory's path the file's metadata names (exporter.Deploy).
	FileBytes int64 `json:"file_bytes,omitempty"`
}

// Deployment is a network's compact export against its dense one, both as dcwp-export
// writes them (the compact one padded to ChannelMultiple channels): parameters and FLOPs.
type Deployment struct {
	Dense           Footprint `json:"dense"`
	Compact         Footprint `json:"compact"`
	ChannelMultiple int       `json:"channel_multiple,omitempty"`
}

// Check returns an error when a figure is not a count, or the dense export is empty.
func (d *Deployment) Check() error {
	for _, f := range []Footprint{d.Dense, d.Compact} {
		if f.Params < 0 || f.FLOPs < 0 || f.FileBytes < 0 {
			return fmt.Errorf("deployed %+v: want counts", *d)
		}
	}
	if d.Dense.Params == 0 || d.Dense.FLOPs == 0 || d.ChannelMultiple < 0 {
		return fmt.Errorf("deployed %+v: an empty dense export or a negative channel multiple", *d)
	}
	return nil
}

// LoopProfile is where one training loop's wall time went: Step is the steps' own time
// (forward, backward, update), less the batches they read (Data) and the passes over a
// split they made (Eval: validation, the ensemble miner's scoring); Checkpoint is writing
// checkpoints. Seconds is the loop's whole wall time.
type LoopProfile struct {
	Iters      int     `json:"iters"`
	Seconds    float64 `json:"seconds"`
	Step       float64 `json:"step_seconds"`
	Data       float64 `json:"data_seconds"`
	Eval       float64 `json:"eval_seconds"`
	Checkpoint float64 `json:"checkpoint_seconds"`
}

// Metric is one line of metrics.jsonl. Fields absent at a step are omitted.
type Metric struct {
	Stage   string             `json:"stage"`
	Iter    int                `json:"iter"`
	Loss    map[string]float64 `json:"loss,omitempty"`     // loss terms: ce, sparse, supcon, total, ...
	Kept    *float64           `json:"kept,omitempty"`     // overall kept ratio
	KeptPer map[string]float64 `json:"kept_per,omitempty"` // per masked layer
	Valid   *metrics.Accuracy  `json:"valid,omitempty"`
	// MinedFit is the share of the mined samples the ERM network predicts right, at the
	// checks of --pretrain-iters auto.
	MinedFit *float64 `json:"mined_fit,omitempty"`
	LR       float64  `json:"lr,omitempty"`
}

// ParseSummary decodes a summary.json file's content and checks that its figures are
// shares and counts: accuracies and kept ratios in [0, 1], nothing negative.
func ParseSummary(data []byte) (Summary, error) { return parseChecked[Summary](data) }

// ReadSummary reads the summary.json of the run directory dir; errors name the file.
func ReadSummary(dir string) (Summary, error) { return readChecked[Summary](dir, SummaryFile) }

// namedEval is one network's figures in a summary, with its name for messages.
type namedEval struct {
	name string
	e    *Eval
}

// evals are the summary's networks: vanilla, and dcwp (nil when the run stopped before it).
func (s *Summary) evals() []namedEval { return []namedEval{{"vanilla", &s.Vanilla}, {"dcwp", s.DCWP}} }

// Check returns an error naming the first figure of s that no run could report.
func (s *Summary) Check() error {
	for _, ev := range s.evals() {
		if ev.e == nil {
			continue
		}
		for split, a := range map[string]metrics.Accuracy{"valid": ev.e.Valid, "test": ev.e.Test} {
			if err := checkAccuracy(a); err != nil {
				return fmt.Errorf("%s %s: %w", ev.name, split, err)
			}
		}
	}
	if s.FLOPsKept != nil && !isShare(*s.FLOPsKept) {
		return fmt.Errorf("kept FLOPs %v: want a share in [0, 1]", *s.FLOPsKept)
	}
	if s.PretrainAuto != nil {
		if err := s.PretrainAuto.Check(); err != nil {
			return err
		}
	}
	if s.Deployed != nil {
		if err := s.Deployed.Check(); err != nil {
			return err
		}
	}
	if !isShare(s.KeptRatio) {
		return fmt.Errorf("kept ratio %v: want a share in [0, 1]", s.KeptRatio)
	}
	for layer, v := range s.KeptPerLayer {
		if !isShare(v) {
			return fmt.Errorf("kept ratio of %q %v: want a share in [0, 1]", layer, v)
		}
	}
	m := s.Mined
	if m.Flagged < 0 || !isShare(m.Precision) || !isShare(m.Recall) {
		return fmt.Errorf("mined %+v: want a count and two shares in [0, 1]", m)
	}
	for st, sec := range s.StageSeconds {
		if !isSeconds(sec) {
			return fmt.Errorf("stage %q took %v seconds: want 0 to %g", st, sec, float64(MaxSeconds))
		}
	}
	if !isSeconds(s.WallSeconds) {
		return fmt.Errorf("wall time %v seconds: want 0 to %g", s.WallSeconds, float64(MaxSeconds))
	}
	for loop, p := range s.Profile {
		for _, sec := range []float64{p.Seconds, p.Step, p.Data, p.Eval, p.Checkpoint} {
			if !isSeconds(sec) || p.Iters < 0 {
				return fmt.Errorf("profile of %q: %d iterations, %v seconds: want neither negative (seconds at most %g)", loop, p.Iters, sec, float64(MaxSeconds))
			}
		}
	}
	if s.SelectedIter < 0 || !(s.PeakMemoryMB >= 0) || math.IsInf(s.PeakMemoryMB, 0) {
		return fmt.Errorf("selected iteration %d, peak memory %v MB: want neither negative", s.SelectedIter, s.PeakMemoryMB)
	}
	return s.checkWhole()
}

// MaxSeconds bounds every time a summary reports (about 32 years): far above any run, and
// low enough that sums and squares over any number of runs stay finite.
const MaxSeconds = 1e9

func isSeconds(v float64) bool { return v >= 0 && v <= MaxSeconds }

// checkWhole refuses a summary that lacks what every finished run writes: the vanilla
// network scored on validation and test (and the DCWP network, where present), each on at
// least one sample, with the accuracy its counts give. Without it a summary of "{}" would
// read as a run at 0 %.
func (s *Summary) checkWhole() error {
	for _, ev := range s.evals() {
		if ev.e == nil {
			continue
		}
		for _, sp := range []struct {
			split string
			a     metrics.Accuracy
		}{{"valid", ev.e.Valid}, {"test", ev.e.Test}} {
			a := sp.a
			if a.Samples == 0 {
				return fmt.Errorf("%s %s: no samples scored (every finished run scores its networks on valid and test): not a summary dcwp-train wrote", ev.name, sp.split)
			}
			if got := float64(a.Correct) / float64(a.Samples); math.Abs(got-a.Accuracy) > 1e-9 {
				return fmt.Errorf("%s %s: accuracy %v, but %d correct of %d samples is %v", ev.name, sp.split, a.Accuracy, a.Correct, a.Samples, got)
			}
		}
	}
	return nil
}

func checkAccuracy(a metrics.Accuracy) error {
	for _, v := range []float64{a.Accuracy, a.AlignedAccuracy, a.ConflictingAccuracy, a.WorstGroupAccuracy} {
		if !isShare(v) {
			return fmt.Errorf("accuracy %v: want a share in [0, 1]", v)
		}
	}
	if a.Samples < 0 || a.Correct < 0 || a.Correct > a.Samples {
		return fmt.Errorf("%d correct of %d samples", a.Correct, a.Samples)
	}
	return nil
}

func isShare(v float64) bool { return v >= 0 && v <= 1 }
