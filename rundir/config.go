// Package rundir defines the run directory: the files dcwp-train writes and dcwp-export and
// dcwp-eval read. It is the one place their names and formats are defined, and needs no libtorch.
package rundir

// File names inside a run directory.
const (
	ConfigFile    = "config.json"         // Config: the effective settings of the run
	SummaryFile   = "summary.json"        // Summary: final figures
	MetricsFile   = "metrics.jsonl"       // one Metric per line, appended as training goes
	VanillaFile   = "vanilla.safetensors" // ERM classifier after stage 1: every Param of the arch
	BiasedFile    = "biased.safetensors"  // the biased (GCE) network that mined, same names
	DCWPFile      = "dcwp.safetensors"    // fine-tuned weights of the subnetwork, unmasked
	ScoresFile    = "scores.safetensors"  // Θ per masked weight, keyed by the weight's name
	MaskFile      = "mask.safetensors"    // 1[Θ ≥ 0] per masked weight as U8, keyed by the weight's name
	MinedFile     = "mined.safetensors"   // "flags" and "conflict" (U8, one per training sample, split order)
	CheckpointDir = "checkpoint"          // resumable training state, owned by the driver
	PlotsDir      = "plots"               // PNG plots of the metrics
)

// Which names a network of a run.
const (
	Vanilla = "vanilla"
	DCWP    = "dcwp"
)

// Stage settings: optimizer, learning rate and schedule for one training stage.
type Stage struct {
	Optimizer   string  `json:"optimizer"` // "adam" or "sgd"
	LR          float64 `json:"lr"`
	Iters       int     `json:"iters"`
	StepSize    int     `json:"step_size,omitempty"` // StepLR period; 0 = constant
	Gamma       float64 `json:"gamma,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Momentum    float64 `json:"momentum,omitempty"`
	Beta1       float64 `json:"beta1,omitempty"`
	Beta2       float64 `json:"beta2,omitempty"`
}

// Config is the effective configuration of a run (presets resolved, flags applied).
type Config struct {
	ToolVersion string   `json:"tool_version"`
	Dataset     string   `json:"dataset"`
	Data        string   `json:"data"`
	ConflictPct string   `json:"conflict_pct"`
	Model       string   `json:"model"`
	Preset      string   `json:"preset"`
	Variant     string   `json:"variant"` // "clean" or "as-coded"
	Mode        string   `json:"mode"`    // "dcwp" or "vanilla"
	Stages      []string `json:"stages"`
	Seed        int64    `json:"seed"`
	Device      string   `json:"device"`
	Threads     int      `json:"threads,omitempty"`
	BatchSize   int      `json:"batch_size"`
	Pretrained  string   `json:"pretrained,omitempty"` // resnet18 start weights given by the user

	Pretrain    Stage  `json:"pretrain"`
	MiningModel *Stage `json:"mining_model,omitempty"` // separate run for the mining network (cmnist)
	Prune       Stage  `json:"prune"`
	Finetune    Stage  `json:"finetune"`

	BiasLoss          string  `json:"bias_loss"` // "gce" or "ce"
	Q                 float64 `json:"q"`
	Miner             string  `json:"miner"` // "wrong", "ensemble" or "oracle"
	SelectWithGCE     bool    `json:"select_with_gce"`
	EnsembleThreshold float64 `json:"ensemble_threshold,omitempty"`

	LambdaUp     float64 `json:"lambda_up"`
	LambdaSparse float64 `json:"lambda_sparse"`
	LambdaCon    float64 `json:"lambda_con"`
	Temperature  float64 `json:"temperature"`      // SupCon
	MaskTau      float64 `json:"mask_temperature"` // Gumbel/logistic mask temperature
	ScoreInit    float64 `json:"score_init"`

	EvalEvery       int    `json:"eval_every"`
	CheckpointEvery int    `json:"checkpoint_every"`
	Select          string `json:"select"` // "last" or "best-valid"
}

// AsCoded reports whether the run reproduces the reference code's quirks.
func (c *Config) AsCoded() bool { return c.Variant == "as-coded" }
