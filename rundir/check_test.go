package rundir

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	c, err := ParseConfig([]byte(configJSON))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConfigCheck requires every out-of-range setting to be refused with its name and value.
func TestConfigCheck(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		edit func(c *Config)
		want string // "" = valid
	}{
		{"as written", func(c *Config) {}, ""},
		{"threads 0 = every CPU", func(c *Config) { c.Threads = 0 }, ""},
		{"best-valid on a biased split, asked for", func(c *Config) { c.Select, c.AllowBiasedValid = SelectBestValid, true }, ""},
		{"a biased split allowed for last", func(c *Config) { c.Select, c.AllowBiasedValid = SelectLast, true },
			"allow_biased_valid (--allow-biased-valid) is for select best-valid, and select is last"},
		{"batch of one", func(c *Config) { c.BatchSize = 1 }, "batch size 1: want 2 to 4096"},
		{"huge batch", func(c *Config) { c.BatchSize = 100000 }, "batch size 100000"},
		{"negative threads", func(c *Config) { c.Threads = -1 }, "threads -1"},
		{"too many threads", func(c *Config) { c.Threads = 1 << 20 }, "threads 1048576"},
		{"negative iterations", func(c *Config) { c.Prune.Iters = -3 }, "prune: iterations (-3)"},
		{"too many iterations", func(c *Config) { c.Pretrain.Iters = MaxIters + 1 }, "pretrain: iterations (100000001)"},
		{"NaN learning rate", func(c *Config) { c.Finetune.LR = nan }, "finetune: iterations (300) and learning rate (NaN)"},
		{"infinite learning rate", func(c *Config) { c.Finetune.LR = inf }, "learning rate (+Inf)"},
		{"negative step", func(c *Config) { c.MiningModel.StepSize = -1 }, "mining_model: StepLR period -1"},
		{"step without gamma", func(c *Config) { c.Prune.StepSize, c.Prune.Gamma = 10, 0 }, "prune: StepLR gamma 0"},
		{"gamma above 1", func(c *Config) { c.MiningModel.Gamma = 2 }, "mining_model: StepLR gamma 2"},
		{"momentum 1", func(c *Config) { c.MiningModel.Momentum = 1 }, "momentum 1"},
		{"negative weight decay", func(c *Config) { c.MiningModel.WeightDecay = -1e-4 }, "weight decay -0.0001"},
		{"NaN beta2", func(c *Config) { c.Prune.Beta2 = nan }, "beta2 NaN"},
		{"q 0", func(c *Config) { c.Q = 0 }, "q (GCE) 0: want a number in (0, 1]"},
		{"q NaN", func(c *Config) { c.Q = nan }, "q (GCE) NaN"},
		{"negative lambda_up", func(c *Config) { c.LambdaUp = -5 }, "lambda_up -5"},
		{"zero lambda_up", func(c *Config) { c.LambdaUp = 0 }, "lambda_up 0"},
		{"infinite lambda_con", func(c *Config) { c.LambdaCon = inf }, "lambda_con +Inf"},
		{"negative lambda_sparse", func(c *Config) { c.LambdaSparse = -1 }, "lambda_sparse -1"},
		{"zero temperature", func(c *Config) { c.Temperature = 0 }, "temperature (SupCon) 0"},
		{"negative mask temperature", func(c *Config) { c.MaskTau = -1 }, "mask temperature -1"},
		{"NaN score init", func(c *Config) { c.ScoreInit = nan }, "score init NaN"},
		{"threshold above 1", func(c *Config) { c.EnsembleThreshold = 1.5 }, "ensemble threshold 1.5"},
		{"no checkpoint interval", func(c *Config) { c.CheckpointEvery = 0 }, "eval and checkpoint intervals (50, 0)"},
		{"unknown miner", func(c *Config) { c.Miner = "magic" }, `unknown miner "magic"`},
		{"a dataset alias", func(c *Config) { c.Dataset = "colored_mnist" }, ""},
		{"unknown dataset", func(c *Config) { c.Dataset = "svhn" }, `unknown dataset "svhn"`},
		{"unknown model", func(c *Config) { c.Model = "vgg" }, `unknown model "vgg"`},
		{"a data spec no model fits", func(c *Config) { c.DataSpec = &dataset.Spec{Classes: 1, Input: [3]int{3, 8, 8}} }, "arch: 1 classes"},
		{"unknown variant", func(c *Config) { c.Variant = "dirty" }, `unknown variant "dirty"`},
		{"unknown bias loss", func(c *Config) { c.BiasLoss = "mse" }, `unknown bias loss "mse"`},
		{"unknown mode", func(c *Config) { c.Mode = "fast" }, `unknown mode "fast"`},
		{"unknown selection", func(c *Config) { c.Select = "best" }, `unknown selection "best"`},
		{"unknown precision", func(c *Config) { c.Precision = "fp16" }, `unknown precision "fp16"`},
		{"no precision (older configs)", func(c *Config) { c.Precision = "" }, ""},
		{"unknown stage", func(c *Config) { c.Stages = []string{"train"} }, `unknown stage "train"`},
		{"no stage", func(c *Config) { c.Stages = nil }, "no stage given"},
		{"unknown optimizer", func(c *Config) { c.Finetune.Optimizer = "rmsprop" }, `finetune: unknown optimizer "rmsprop"`},
		{"mining model without iterations", func(c *Config) { c.MiningModel.Iters = 0 }, "mining_model: iterations (0) and learning rate (0.1) must be positive (at most 100000000 and 10)"},
		{"no mining model", func(c *Config) { c.MiningModel = nil }, ""},
		{"channel granularity", func(c *Config) { c.MaskGranularity = "channel" }, ""},
		{"unknown granularity", func(c *Config) { c.MaskGranularity = "pixel" }, `unknown mask granularity "pixel"`},
		{"FLOPs budget", func(c *Config) { c.TargetFLOPs = 0.5 }, ""},
		{"FLOPs budget above 1", func(c *Config) { c.TargetFLOPs = 1.5 }, "target FLOPs (0: none) 1.5"},
		{"negative FLOPs budget", func(c *Config) { c.TargetFLOPs = -0.1 }, "target FLOPs (0: none) -0.1"},
		{"pretrain auto", func(c *Config) { c.Miner, c.PretrainAuto = MinerWrong, DefaultPretrainAuto() }, ""},
		{"pretrain auto without the mining model", func(c *Config) { c.Miner, c.MiningModel, c.PretrainAuto = MinerWrong, nil, DefaultPretrainAuto() },
			`pre-training iterations "auto" needs the separate mining model and miner "wrong"`},
		{"pretrain auto with the oracle miner", func(c *Config) { c.Miner, c.PretrainAuto = MinerOracle, DefaultPretrainAuto() }, `this run has a separate mining model and miner "oracle"`},
		{"pretrain auto with the ensemble miner", func(c *Config) { c.Miner, c.PretrainAuto = MinerEnsemble, DefaultPretrainAuto() }, `miner "ensemble"`},
		{"pretrain auto, unknown rule", func(c *Config) { c.Miner, c.PretrainAuto = MinerWrong, &PretrainAuto{Rule: "plateau", Fit: 0.5} }, `unknown pre-training stop rule "plateau"`},
		{"pretrain auto, fit 0", func(c *Config) { c.Miner, c.PretrainAuto = MinerWrong, &PretrainAuto{Rule: StopMinedFit} }, "pre-training fit share 0: want a number in (0, 1]"},
		{"pretrain auto, fit NaN", func(c *Config) { c.Miner, c.PretrainAuto = MinerWrong, &PretrainAuto{Rule: StopMinedFit, Fit: nan} }, "pre-training fit share NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validConfig(t)
			c.edit(&cfg)
			err := cfg.Check()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestCheckWritesCanonicalNames: Check takes a dataset alias and stages in any order, and
// leaves the names as the rest of the tools compare them.
func TestCheckWritesCanonicalNames(t *testing.T) {
	c := validConfig(t)
	c.Dataset, c.Stages = "colored_mnist", []string{StageFinetune, StagePretrain, StageFinetune}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	if c.Dataset != "cmnist" || !slices.Equal(c.Stages, []string{StagePretrain, StageFinetune}) {
		t.Errorf("dataset %q, stages %v: want cmnist, [pretrain finetune]", c.Dataset, c.Stages)
	}
	// The paper's granularity is written as configs older than the setting have it: absent.
	c.MaskGranularity = "weight"
	if err := c.Check(); err != nil || c.MaskGranularity != "" {
		t.Errorf("granularity %q (%v) after Check, want absent", c.MaskGranularity, err)
	}
}

func TestReadConfigNamesFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadConfig(dir); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no config.json") {
		t.Fatalf("missing: %v", err)
	}
	p := filepath.Join(dir, ConfigFile)
	os.WriteFile(p, []byte(strings.Replace(configJSON, `"lambda_up":50`, `"lambda_up":-5`, 1)), 0o644)
	if _, err := ReadConfig(dir); err == nil || !strings.Contains(err.Error(), p+": lambda_up -5") {
		t.Fatalf("bad setting: %v", err)
	}
}

func TestParseMetrics(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		rows  int
		err   string
		whole int
	}{
		{"empty", "", 0, "", 0},
		{"two rows", "{\"stage\":\"prune\",\"iter\":1}\n{\"stage\":\"prune\",\"iter\":2}\n", 2, "", 54},
		{"blank lines", "\n{\"stage\":\"prune\",\"iter\":1}\n\n", 1, "", 29},
		{"cut mid-row", "{\"stage\":\"prune\",\"iter\":1}\n{\"stage\":\"pr", 1, "line 2: unexpected end of JSON input", 27},
		{"last row without newline", "{\"stage\":\"prune\",\"iter\":1}", 1, "", 0},
		{"not an object", "[1]\n", 0, "line 1: json: cannot unmarshal array", 4},
		{"negative iteration", "{\"stage\":\"prune\",\"iter\":-1}\n", 0, "line 1: iteration -1 is negative", 28},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := ParseMetrics([]byte(c.in))
			if len(rows) != c.rows || (c.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Fatalf("%d rows, error %v; want %d rows and %q", len(rows), err, c.rows, c.err)
			}
			if got := WholeRows([]byte(c.in)); got != c.whole {
				t.Fatalf("WholeRows = %d, want %d", got, c.whole)
			}
		})
	}
}

func TestParseSummaryRefuses(t *testing.T) {
	const good = `{"kept_ratio":0.2,"vanilla":{"valid":{"accuracy":0.5,"samples":2,"correct":1},"test":{"accuracy":0.9,"samples":10,"correct":9}}}`
	cases := []struct{ in, want string }{
		{`{"kept_ratio":1.5}`, "kept ratio 1.5"},
		{`{"vanilla":{"test":{"accuracy":2}}}`, "vanilla test: accuracy 2"},
		{`{"dcwp":{"valid":{"samples":3,"correct":4}}}`, "dcwp valid: 4 correct of 3 samples"},
		{`{"mined":{"flagged":-1}}`, "mined"},
		{`{"stage_seconds":{"prune":-2}}`, `stage "prune" took -2 seconds`},
		{`{"profile":{"prune":{"iters":3,"seconds":-1}}}`, `profile of "prune": 3 iterations, -1 seconds`},
		{`{"kept_per_layer":{"fc.weight":-0.1}}`, `kept ratio of "fc.weight" -0.1`},
		{`{`, "not valid JSON"},
		{`{"stage_seconds":{"prune":1e308}}`, `stage "prune" took 1e+308 seconds`},
		{`{}`, "vanilla valid: no samples scored"},
		{`{"vanilla":{"valid":{"accuracy":1,"samples":4,"correct":4}}}`, "vanilla test: no samples scored"},
		{`{"vanilla":{"valid":{"accuracy":1,"samples":4,"correct":4},"test":{"accuracy":0.5,"samples":4,"correct":4}}}`, "vanilla test: accuracy 0.5, but 4 correct of 4 samples is 1"},
		{good[:len(good)-1] + `,"dcwp":{}}`, "dcwp valid: no samples scored"},
		{good[:len(good)-1] + `,"pretrain_auto":{"rule":"mined-fit","iters":0,"max":10}}`, "chose 0 of at most 10 iterations"},
		{good[:len(good)-1] + `,"pretrain_auto":{"rule":"mined-fit","iters":20,"max":10}}`, "chose 20 of at most 10 iterations"},
		{good[:len(good)-1] + `,"pretrain_auto":{"rule":"guess","iters":5,"max":10}}`, `unknown pre-training stop rule "guess"`},
		{good[:len(good)-1] + `,"deployed":{"dense":{"params_total":10,"flops_per_sample":20,"file_bytes":40},"compact":{"params_total":-1}}}`, "want counts"},
		{good[:len(good)-1] + `,"deployed":{"dense":{},"compact":{}}}`, "an empty dense export"},
	}
	for _, c := range cases {
		if _, err := ParseSummary([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
	for _, g := range []string{good, good[:len(good)-1] + `,"pretrain_auto":{"rule":"mined-fit","iters":10,"max":10}}`,
		good[:len(good)-1] + `,"deployed":{"dense":{"params_total":10,"flops_per_sample":20},"compact":{"params_total":5,"flops_per_sample":8},"channel_multiple":8}}`} {
		if _, err := ParseSummary([]byte(g)); err != nil {
			t.Errorf("a good summary %s: %v", g, err)
		}
	}
}
