package rundir

import (
	"fmt"
	"slices"
	"strings"
)

// Stage names, as config.json's "stages", --stages and the checkpoint's done list spell them.
const (
	StagePretrain = "pretrain"
	StageMine     = "mine"
	StagePrune    = "prune"
	StageFinetune = "finetune"
)

// LoopMiningModel is the training loop of the separate mining model (Config.MiningModel).
// Its name in the checkpoint, metrics.jsonl and summary.json's profile, and the random
// stream of its batches, is still the one it had when the model was called the miner: a
// new name would leave old runs unresumable and change every result.
const LoopMiningModel = "pretrain-miner"

// StageInfo is a stage as the run directory records it. Stages is the one list of stages:
// the config checks, dcwp-train's flags, the run's file list and the driver's table of what
// each stage does all loop over it.
type StageInfo struct {
	Name  string
	Files []string // the files it writes, which later stages and the readers of a run read
	Loops []Loop   // its training loops, each with optimiser settings of its own
}

// Loop is a training loop and where its optimiser settings are kept.
type Loop struct {
	// Name names the loop in the checkpoint, metrics.jsonl rows and summary.json's profile.
	Name string
	// Key is the config.json key of its settings; dcwp-train's flags for them are
	// --KEY-lr, --KEY-iters, … with "-" for "_" (FlagPrefix).
	Key string
	// Alias is an older flag prefix that still works; "" for none.
	Alias string
	Usage string // what the loop trains, for help and messages
	// Optim is the loop's settings in c; nil when the run has no such loop (an optional
	// loop: its settings are a pointer).
	Optim func(c *Config) *Optim
	// Auto, when set, is where c keeps the rule that picks the loop's length: its
	// --KEY-iters flag then also takes AutoIters.
	Auto func(c *Config) **PretrainAuto
}

// FlagPrefix is the prefix of the loop's dcwp-train flags.
func (l Loop) FlagPrefix() string { return strings.ReplaceAll(l.Key, "_", "-") }

// Stages lists every stage, in the order the pipeline runs them.
func Stages() []StageInfo {
	return []StageInfo{
		{Name: StagePretrain, Files: []string{VanillaFile, BiasedFile}, Loops: []Loop{
			{Name: StagePretrain, Key: "pretrain", Usage: "pre-training (stage 1)",
				Optim: func(c *Config) *Optim { return &c.Pretrain },
				Auto:  func(c *Config) **PretrainAuto { return &c.PretrainAuto }},
			{Name: LoopMiningModel, Key: "mining_model", Alias: "mining", Usage: "the separate mining model (cmnist; trained before stage 1)",
				Optim: func(c *Config) *Optim { return c.MiningModel }},
		}},
		{Name: StageMine, Files: []string{MinedFile}},
		{Name: StagePrune, Files: []string{ScoresFile, MaskFile}, Loops: []Loop{
			{Name: StagePrune, Key: "prune", Usage: "mask learning (stage 3)",
				Optim: func(c *Config) *Optim { return &c.Prune }},
		}},
		{Name: StageFinetune, Files: []string{DCWPFile}, Loops: []Loop{
			{Name: StageFinetune, Key: "finetune", Usage: "fine-tuning (stage 4)",
				Optim: func(c *Config) *Optim { return &c.Finetune }},
		}},
	}
}

// StageNames lists every stage's name, in pipeline order.
func StageNames() []string {
	var names []string
	for _, s := range Stages() {
		names = append(names, s.Name)
	}
	return names
}

// StageIndex is the place of stage name in the pipeline; -1 for no stage.
func StageIndex(name string) int { return slices.Index(StageNames(), name) }

// LoopStage is the place in the pipeline of the stage that runs loop name (a metrics.jsonl
// row's "stage"); -1 for no loop.
func LoopStage(name string) int {
	for i, s := range Stages() {
		for _, l := range s.Loops {
			if l.Name == name {
				return i
			}
		}
	}
	return -1
}

// Loops lists every loop of every stage, in pipeline order.
func Loops() []Loop {
	var ls []Loop
	for _, s := range Stages() {
		ls = append(ls, s.Loops...)
	}
	return ls
}

// PipelineOrder returns the named stages in the order the pipeline runs them, each once:
// a stage reads what the earlier ones wrote, whatever order they were typed in.
func PipelineOrder(names []string) ([]string, error) {
	all := StageNames()
	if len(names) == 0 {
		return nil, fmt.Errorf("no stage given (want some of %v)", all)
	}
	for _, s := range names {
		if !slices.Contains(all, s) {
			return nil, fmt.Errorf("unknown stage %q (want some of %v)", s, all)
		}
	}
	var out []string
	for _, s := range all {
		if slices.Contains(names, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
