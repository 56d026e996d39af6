// Package rundir defines the run directory: the files dcwp-train writes and dcwp-export and
// dcwp-eval read. It is the one place their names and formats are defined, and needs no libtorch.
package rundir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
)

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

// Optim is the optimiser settings of one training loop: optimizer, learning rate, schedule.
type Optim struct {
	Optimizer   Optimizer `json:"optimizer"`
	LR          float64   `json:"lr"`
	Iters       int       `json:"iters"`
	StepSize    int       `json:"step_size,omitempty"` // StepLR period; 0 = constant
	Gamma       float64   `json:"gamma,omitempty"`
	WeightDecay float64   `json:"weight_decay,omitempty"`
	Momentum    float64   `json:"momentum,omitempty"`
	Beta1       float64   `json:"beta1,omitempty"`
	Beta2       float64   `json:"beta2,omitempty"`
}

// Config is the effective configuration of a run (presets resolved, flags applied).
type Config struct {
	ToolVersion string        `json:"tool_version"`
	Engine      string        `json:"engine,omitempty"`   // the torch engine that wrote the stages (shim, gotch); older configs: none
	Libtorch    string        `json:"libtorch,omitempty"` // that engine's libtorch version; older configs: none
	Dataset     string        `json:"dataset"`
	Data        string        `json:"data"`
	ConflictPct dataset.Share `json:"conflict_pct"` // none when the dataset has no published shares (dataset.Info.Shares)
	Model       string        `json:"model"`
	Preset      string        `json:"preset"`
	Variant     Variant       `json:"variant"`
	Mode        Mode          `json:"mode"`
	Stages      []string      `json:"stages"`
	Seed        int64         `json:"seed"`
	Device      string        `json:"device"`
	Threads     int           `json:"threads,omitempty"`
	Precision   string        `json:"precision,omitempty"` // a Precision; older configs: none, fp32
	BatchSize   int           `json:"batch_size"`
	Pretrained  string        `json:"pretrained,omitempty"` // resnet18 start weights given by the user

	// DataSpec is what the model takes and gives when the data says (folder: classes, their
	// names, input size, normalisation); nil: the dataset's own (dataset.FixedSpec).
	DataSpec *dataset.Spec `json:"data_spec,omitempty"`
	// ValidSplit says how the validation split was made when not the data's own (carved).
	ValidSplit *dataset.ValidFrom `json:"valid_split,omitempty"`

	Pretrain    Optim  `json:"pretrain"`
	MiningModel *Optim `json:"mining_model,omitempty"` // the separate mining model (cmnist); nil: pre-training's biased network mines
	// PretrainAuto, when set, picks the length of pre-training (--pretrain-iters auto),
	// Pretrain.Iters at most; nil: Pretrain.Iters exactly.
	PretrainAuto *PretrainAuto `json:"pretrain_auto,omitempty"`
	Prune        Optim         `json:"prune"`
	Finetune     Optim         `json:"finetune"`

	BiasLoss          Loss    `json:"bias_loss"`
	Q                 float64 `json:"q"`
	Miner             Miner   `json:"miner"`
	SelectWithGCE     bool    `json:"select_with_gce"`
	EnsembleThreshold float64 `json:"ensemble_threshold,omitempty"`

	LambdaUp     float64 `json:"lambda_up"`
	LambdaSparse float64 `json:"lambda_sparse"`
	LambdaCon    float64 `json:"lambda_con"`
	Temperature  float64 `json:"temperature"`      // SupCon
	MaskTau      float64 `json:"mask_temperature"` // Gumbel/logistic mask temperature
	ScoreInit    float64 `json:"score_init"`
	// MaskGranularity is what one score gates; absent is the paper's one score per weight.
	MaskGranularity arch.Granularity `json:"mask_granularity,omitempty"`
	// TargetFLOPs, when set, is the share of the dense network's masked FLOPs the final mask
	// may keep: pruning's end keeps the top-scored units of Θ ≥ 0 until the budget.
	TargetFLOPs float64 `json:"target_flops,omitempty"`

	EvalEvery       int       `json:"eval_every"`
	CheckpointEvery int       `json:"checkpoint_every"`
	Select          Selection `json:"select"`
	// AllowBiasedValid: --select best-valid on a validation split that cannot see the bias
	// (no attribute values, no bias-conflicting sample) was asked for explicitly.
	AllowBiasedValid bool `json:"allow_biased_valid,omitempty"`
}

// Clone is a copy of c that shares nothing with it (its optional loops, rule and data
// spec are pointers): what the flags change in one, the other keeps.
func (c Config) Clone() (Config, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Config{}, err
	}
	var out Config
	return out, json.Unmarshal(b, &out)
}

// Arch is the architecture the run trains.
func (c *Config) Arch() (*arch.Arch, error) {
	a, err := arch.ForRunSpec(c.Model, c.Dataset, c.DataSpec, c.AsCoded())
	if err != nil {
		return nil, err
	}
	return a.WithGranularity(c.MaskGranularity)
}

// Spec is what the run's model takes and gives: DataSpec, or the dataset's own.
func (c *Config) Spec() (dataset.Spec, error) {
	if c.DataSpec != nil {
		return *c.DataSpec, nil
	}
	s, ok, err := dataset.FixedSpec(c.Dataset)
	if err == nil && !ok {
		err = fmt.Errorf("config: dataset %s needs data_spec (classes and input size), which is missing", c.Dataset)
	}
	return s, err
}

// AsCoded reports whether the run reproduces the reference code's quirks.
func (c *Config) AsCoded() bool { return c.Variant == AsCoded }

// The settings below take one of a fixed set of values. They are strings on disk, so a
// config.json reads the same as before they had types of their own.

// Miner is how bias-conflicting samples are mined.
type Miner string

const (
	MinerWrong    Miner = "wrong"    // the biased network's mistakes
	MinerEnsemble Miner = "ensemble" // 1 - p_y averaged over pre-training checks
	MinerOracle   Miner = "oracle"   // the true conflict labels (an upper bound)
)

// Miners lists every miner.
func Miners() []Miner { return []Miner{MinerWrong, MinerEnsemble, MinerOracle} }

// Check returns an error unless m is a known miner.
func (m Miner) Check() error { return check("miner", m, Miners()) }

// Variant is "clean" or the reference code's quirks.
type Variant string

const (
	Clean   Variant = "clean"
	AsCoded Variant = "as-coded"
)

// Variants lists every variant.
func Variants() []Variant { return []Variant{Clean, AsCoded} }

// Check returns an error unless v is a known variant.
func (v Variant) Check() error { return check("variant", v, Variants()) }

// Mode says whether a run goes past the ERM classifier.
type Mode string

const (
	ModeDCWP    Mode = "dcwp"
	ModeVanilla Mode = "vanilla" // stop after pre-training
)

// Modes lists every mode.
func Modes() []Mode { return []Mode{ModeDCWP, ModeVanilla} }

// Check returns an error unless m is a known mode.
func (m Mode) Check() error { return check("mode", m, Modes()) }

// Selection is which fine-tuned network a run reports.
type Selection string

const (
	SelectLast      Selection = "last"
	SelectBestValid Selection = "best-valid" // the best validation accuracy seen while fine-tuning
)

// Selections lists every selection.
func Selections() []Selection { return []Selection{SelectLast, SelectBestValid} }

// Check returns an error unless s is a known selection.
func (s Selection) Check() error { return check("selection", s, Selections()) }

// Precision is what the networks compute in while they train.
type Precision string

const (
	FP32 Precision = "fp32" // float32 throughout
	// BF16 is bf16 autocast: convolutions and matrix products in bfloat16, everything the
	// optimiser and the losses see (weights, scores, masks, logits, features) in float32.
	BF16 Precision = "bf16"
)

// Precisions lists every precision, the default first.
var Precisions = []Precision{FP32, BF16}

// ParsePrecision reads a precision as the flags and config.json spell it ("" is fp32: the
// configs written before precisions).
func ParsePrecision(s string) (Precision, error) {
	if s == "" {
		return FP32, nil
	}
	p := Precision(s)
	return p, check("precision", p, Precisions)
}

// Optimizer names a loop's optimizer.
type Optimizer string

const (
	Adam Optimizer = "adam"
	SGD  Optimizer = "sgd"
)

// Optimizers lists every optimizer.
func Optimizers() []Optimizer { return []Optimizer{Adam, SGD} }

// Check returns an error unless o is a known optimizer.
func (o Optimizer) Check() error { return check("optimizer", o, Optimizers()) }

// Loss names the biased network's loss.
type Loss string

const (
	GCE Loss = "gce" // generalized cross-entropy
	CE  Loss = "ce"
)

// Losses lists every bias loss.
func Losses() []Loss { return []Loss{GCE, CE} }

// Check returns an error unless l is a known bias loss.
func (l Loss) Check() error { return check("bias loss", l, Losses()) }

func check[T ~string](what string, v T, all []T) error {
	if slices.Contains(all, v) {
		return nil
	}
	return fmt.Errorf("unknown %s %q (want one of %v)", what, v, all)
}

// DataKeys are the config.json keys dcwp-train fills in from the data once it has read it
// (DataSpec, ValidSplit): a configuration resolved from flags alone, as a sweep's plan is,
// has none of them, and a run's having them does not make it another run.
func DataKeys() []string { return []string{"data_spec", "valid_split"} }

// Settings is a configuration as its config.json's top-level keys to their JSON values,
// an omitted (omitempty) setting absent.
func Settings(c Config) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// ConfigDiff names, sorted, the config.json keys whose values differ between a and b (one
// holding a key the other omits counts), leaving out the keys in ignore. The error is
// json.Marshal's (a NaN or infinite number), when a configuration cannot be written.
func ConfigDiff(a, b Config, ignore ...string) ([]string, error) {
	ma, err := Settings(a)
	if err != nil {
		return nil, err
	}
	mb, err := Settings(b)
	if err != nil {
		return nil, err
	}
	var diff []string
	for k, v := range ma {
		if w, ok := mb[k]; (!ok || !bytes.Equal(v, w)) && !slices.Contains(ignore, k) {
			diff = append(diff, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok && !slices.Contains(ignore, k) {
			diff = append(diff, k)
		}
	}
	slices.Sort(diff)
	return diff, nil
}
