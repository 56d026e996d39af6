package rundir

import "github.com/dcwp-go/dcwp/metrics"

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
}

// Summary is what a finished run reports.
type Summary struct {
	Vanilla      Eval               `json:"vanilla"`
	DCWP         *Eval              `json:"dcwp,omitempty"`
	KeptRatio    float64            `json:"kept_ratio"`
	KeptPerLayer map[string]float64 `json:"kept_per_layer,omitempty"`
	Mined        Mined              `json:"mined"`
	StageSeconds map[string]float64 `json:"stage_seconds"`
	SelectedIter int                `json:"selected_iter,omitempty"`
	PeakMemoryMB float64            `json:"peak_memory_mb,omitempty"` // peak resident memory of the training process
}

// Metric is one line of metrics.jsonl. Fields absent at a step are omitted.
type Metric struct {
	Stage   string             `json:"stage"`
	Iter    int                `json:"iter"`
	Loss    map[string]float64 `json:"loss,omitempty"`     // loss terms: ce, sparse, supcon, total, ...
	Kept    *float64           `json:"kept,omitempty"`     // overall kept ratio
	KeptPer map[string]float64 `json:"kept_per,omitempty"` // per masked layer
	Valid   *metrics.Accuracy  `json:"valid,omitempty"`
	LR      float64            `json:"lr,omitempty"`
}
