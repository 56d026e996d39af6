package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// Bounds of the numeric settings. They are far above anything a run of the paper uses and
// low enough that no setting can make the trainer allocate without bound: the SupCon loss
// holds B×B pair tables (MaxBatchSize: 4096² floats are 64 MiB each).
const (
	MaxBatchSize = 4096
	MaxIters     = 100_000_000
	MaxThreads   = 1024
	MaxLR        = 10
	MaxLambdaUp  = 1e6
)

// ParseConfig decodes a config.json file's content and checks its settings (Check).
func ParseConfig(data []byte) (Config, error) { return parseChecked[Config](data) }

// parseChecked decodes a run file's JSON and checks what it holds, so no reader of a run
// directory works on values no run could have written.
func parseChecked[T any, PT interface {
	*T
	Check() error
}](data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("not valid JSON: %w", err)
	}
	return v, PT(&v).Check()
}

// ReadConfig reads and checks the config.json of the run directory dir; errors name the
// file, and wrap fs.ErrNotExist when there is none.
func ReadConfig(dir string) (Config, error) {
	c, err := readChecked[Config](dir, ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("%s: no %s (not a dcwp-train run, or it never started): %w", dir, ConfigFile, err)
	}
	return c, err
}

// readChecked reads the run file name of the run directory dir with parseChecked; a
// content error names the file.
func readChecked[T any, PT interface {
	*T
	Check() error
}](dir, name string) (T, error) {
	path := filepath.Join(dir, name)
	b, err := readlimit.ReadFile(path, readlimit.MaxJSON)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := parseChecked[T, PT](b)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// Check returns an error naming the first setting of c that no run can have: an unknown
// dataset, model, stage or other named setting, a data spec no model can be built for, a
// number that is NaN, infinite, negative where it counts something, or past the bounds
// above. It writes the names it accepts in canonical form: the dataset's own name for an
// alias, the stages in pipeline order. It is the one check of a configuration: dcwp-train's
// flags, --resume and every reader of a run directory (ReadConfig) go through it.
func (c *Config) Check() error {
	if err := c.checkNames(); err != nil {
		return err
	}
	for _, err := range []error{c.Miner.Check(), c.Variant.Check(), c.BiasLoss.Check(), c.Mode.Check(), c.Select.Check(), c.MaskGranularity.Check()} {
		if err != nil {
			return err
		}
	}
	if c.MaskGranularity == arch.GranWeight { // canonical: absent, as in configs older than the setting
		c.MaskGranularity = ""
	}
	if _, err := ParsePrecision(c.Precision); err != nil {
		return err
	}
	if c.AllowBiasedValid && c.Select != SelectBestValid {
		return fmt.Errorf("allow_biased_valid (--allow-biased-valid) is for select best-valid, and select is %s", c.Select)
	}
	if c.BatchSize < 2 || c.BatchSize > MaxBatchSize {
		return fmt.Errorf("batch size %d: want 2 to %d", c.BatchSize, MaxBatchSize)
	}
	if c.Threads < 0 || c.Threads > MaxThreads {
		return fmt.Errorf("threads %d: want 0 (every CPU) to %d", c.Threads, MaxThreads)
	}
	for _, l := range Loops() {
		if o := l.Optim(c); o != nil {
			if err := o.Check(); err != nil {
				return fmt.Errorf("%s: %w", l.Key, err)
			}
		}
	}
	nums := []struct {
		name     string
		v        float64
		min, max float64
		open     bool // min itself is out of range
	}{
		{"q (GCE)", c.Q, 0, 1, true},
		{"ensemble threshold", c.EnsembleThreshold, 0, 1, false},
		{"lambda_up", c.LambdaUp, 0, MaxLambdaUp, true},
		{"lambda_sparse", c.LambdaSparse, 0, math.MaxFloat64, false},
		{"lambda_con", c.LambdaCon, 0, math.MaxFloat64, false},
		{"temperature (SupCon)", c.Temperature, 0, math.MaxFloat64, true},
		{"mask temperature", c.MaskTau, 0, math.MaxFloat64, true},
		{"score init", c.ScoreInit, -math.MaxFloat64, math.MaxFloat64, false},
		{"target FLOPs (0: none)", c.TargetFLOPs, 0, 1, false},
	}
	for _, n := range nums {
		if err := inRange(n.name, n.v, n.min, n.max, n.open); err != nil {
			return err
		}
	}
	if c.EvalEvery < 1 || c.CheckpointEvery < 1 || c.EvalEvery > MaxIters || c.CheckpointEvery > MaxIters {
		return fmt.Errorf("eval and checkpoint intervals (%d, %d) must be positive (at most %d)", c.EvalEvery, c.CheckpointEvery, MaxIters)
	}
	return c.checkPretrainAuto()
}

// checkNames checks the dataset, the model (and the architecture they make, where the data
// need not be read for it: folder's shape is known once its data is) and the stages, and
// writes the dataset and the stages in canonical form.
func (c *Config) checkNames() error {
	ds, err := dataset.Canonical(c.Dataset)
	if err != nil {
		return err
	}
	c.Dataset = ds
	if !slices.Contains(arch.Models(), c.Model) {
		return fmt.Errorf("unknown model %q (want one of %v)", c.Model, arch.Models())
	}
	if c.DataSpec != nil || dataset.Fixed(c.Dataset) {
		if _, err := c.Arch(); err != nil {
			return err
		}
	}
	stages, err := PipelineOrder(c.Stages)
	if err != nil {
		return err
	}
	c.Stages = stages
	return nil
}

// Check returns an error naming the first setting of the loop that is out of range.
func (s *Optim) Check() error {
	if err := s.Optimizer.Check(); err != nil {
		return err
	}
	if s.Iters < 1 || s.Iters > MaxIters || !(s.LR > 0 && s.LR <= MaxLR) {
		return fmt.Errorf("iterations (%d) and learning rate (%g) must be positive (at most %d and %g)", s.Iters, s.LR, MaxIters, float64(MaxLR))
	}
	if s.StepSize < 0 || s.StepSize > MaxIters {
		return fmt.Errorf("StepLR period %d: want 0 (constant) to %d", s.StepSize, MaxIters)
	}
	if s.StepSize > 0 {
		if err := inRange("StepLR gamma", s.Gamma, 0, 1, true); err != nil {
			return err
		}
	} else if err := inRange("StepLR gamma", s.Gamma, 0, 1, false); err != nil {
		return err
	}
	for _, n := range []struct {
		name string
		v    float64
	}{{"weight decay", s.WeightDecay}, {"momentum", s.Momentum}, {"beta1", s.Beta1}, {"beta2", s.Beta2}} {
		if err := inRange(n.name, n.v, 0, 1, false); err != nil {
			return err
		}
	}
	if s.Momentum == 1 || s.Beta1 == 1 || s.Beta2 == 1 {
		return fmt.Errorf("momentum %g, beta1 %g, beta2 %g: want each below 1", s.Momentum, s.Beta1, s.Beta2)
	}
	return nil
}

// inRange refuses v outside [min, max] ((min, max] when open), NaN and ±Inf included.
func inRange(name string, v, min, max float64, open bool) error {
	ok := v >= min && v <= max && !math.IsInf(v, 0)
	if open && v == min {
		ok = false
	}
	if ok {
		return nil
	}
	lo := "["
	if open {
		lo = "("
	}
	return fmt.Errorf("%s %v: want a number in %s%g, %g]", name, v, lo, min, max)
}
