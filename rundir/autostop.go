package rundir

import "fmt"

// StopRule is a rule that picks the length of pre-training from what the run has, without
// bias labels (--pretrain-iters auto; docs/method.md, "How long to pre-train").
type StopRule string

// StopMinedFit stops pre-training at the first check at which the ERM network predicts
// PretrainAuto.Fit of the mined samples right: past it, the up-weighted mined samples carry
// little cross-entropy gradient into fine-tuning.
const StopMinedFit StopRule = "mined-fit"

// StopRules lists every rule.
var StopRules = []StopRule{StopMinedFit}

// Check returns an error unless r is a known rule.
func (r StopRule) Check() error { return check("pre-training stop rule", r, StopRules) }

// AutoIters is the value of --pretrain-iters that selects the rule.
const AutoIters = "auto"

// DefaultFit is the share of the mined samples the ERM network predicts right at which the
// mined-fit rule stops pre-training: the point at which most of them carry no gradient.
const DefaultFit = 0.5

// PretrainAuto is the rule that ends pre-training (--pretrain-iters auto). Pretrain.Iters
// is then the most it may run.
type PretrainAuto struct {
	Rule StopRule `json:"rule"`
	// Fit is the share of the mined samples the ERM network predicts right at which
	// pre-training stops; it is checked every EvalEvery iterations.
	Fit float64 `json:"fit"`
}

// DefaultPretrainAuto is the rule --pretrain-iters auto selects.
func DefaultPretrainAuto() *PretrainAuto { return &PretrainAuto{Rule: StopMinedFit, Fit: DefaultFit} }

// checkPretrainAuto refuses a rule the run cannot follow: it watches the mined samples
// while the ERM network pre-trains, so they must be known before pre-training ends, which
// only the separate mining model (trained first) and the wrong miner give; the oracle
// miner would read the bias labels.
func (c *Config) checkPretrainAuto() error {
	a := c.PretrainAuto
	if a == nil {
		return nil
	}
	if err := a.Rule.Check(); err != nil {
		return err
	}
	if err := inRange("pre-training fit share", a.Fit, 0, 1, true); err != nil {
		return err
	}
	if c.MiningModel == nil || c.Miner != MinerWrong {
		has := "no separate mining model"
		if c.MiningModel != nil {
			has = "a separate mining model"
		}
		return fmt.Errorf("pre-training iterations %q needs the separate mining model and miner %q (the rule watches the ERM network fit the mined samples, "+
			"which must be known before pre-training ends); this run has %s and miner %q: give a number of iterations",
			AutoIters, MinerWrong, has, c.Miner)
	}
	return nil
}

// AutoChoice is what the pre-training stop rule chose, in summary.json.
type AutoChoice struct {
	Rule  StopRule `json:"rule"`
	Iters int      `json:"iters"` // the pre-training length it chose
	Max   int      `json:"max"`   // the most it could have chosen (Pretrain.Iters)
}

// Check returns an error unless a is a choice a run could have made.
func (a *AutoChoice) Check() error {
	if err := a.Rule.Check(); err != nil {
		return err
	}
	if a.Iters < 1 || a.Iters > a.Max || a.Max > MaxIters {
		return fmt.Errorf("pre-training stop rule chose %d of at most %d iterations: want 1 to %d", a.Iters, a.Max, min(a.Max, MaxIters))
	}
	return nil
}
