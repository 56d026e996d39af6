package dcwp

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/dcwp-go/dcwp/budget"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/plot"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// finish evaluates the networks the stages up to last have made, writes summary.json and
// the plots.
func (r *runner) finish(last string) (*rundir.Summary, error) {
	for _, s := range upTo(r.stages, last) {
		if s.summarize == nil {
			continue
		}
		if err := s.summarize(); err != nil {
			return nil, err
		}
	}
	r.summary.StageSeconds = r.st.StageSeconds
	r.summary.WallSeconds = r.st.WallSeconds + time.Since(r.wallSeg).Seconds()
	r.summary.Profile = r.prof.loops
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.summary.PeakMemoryMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	if err := atomicfile.WriteJSON(r.path(rundir.SummaryFile), r.summary); err != nil {
		return nil, err
	}
	if err := r.plots(); err != nil { // a side output: the run has its results
		r.logf("warning: plots not drawn: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return &r.summary, nil
}

func (r *runner) summarizeVanilla() error {
	n, err := r.loadShipped(rundir.VanillaFile)
	if err != nil {
		return err
	}
	defer n.Close()
	r.logf("evaluating the vanilla network on valid and test (float32, as exported)")
	if r.summary.Vanilla.Valid, err = r.evaluate(n, r.valid, model.NoMask); err != nil {
		return err
	}
	r.summary.Vanilla.Test, err = r.evaluate(n, r.test, model.NoMask)
	r.summarizeAuto()
	return err
}

// summarizeMined scores the mined flags against the true conflict labels.
func (r *runner) summarizeMined() error {
	r.summary.Mined = r.minedScore(r.flags)
	return nil
}

// summarizeKept records the share of each masked weight the pruning mask keeps.
func (r *runner) summarizeKept() error {
	ms, err := r.readMasks()
	if err != nil {
		return err
	}
	r.summary.KeptRatio, r.summary.KeptPerLayer = rundir.KeptRatios(ms)
	share, err := budget.Share(r.arch, ms)
	if err != nil {
		return fmt.Errorf("%s: %w", r.path(rundir.MaskFile), err)
	}
	r.summary.FLOPsKept = &share
	return nil
}

// readMasks reads the pruning stage's mask.
func (r *runner) readMasks() (map[string]tensor.Tensor, error) {
	ms, _, err := tensor.ReadFile(r.path(rundir.MaskFile))
	if err != nil {
		return nil, fmt.Errorf("the pruning stage's mask: %w", err)
	}
	return ms, nil
}

func (r *runner) summarizeDCWP() error {
	masks, err := r.readMasks()
	if err != nil {
		return err
	}
	n, err := r.loadShipped(rundir.DCWPFile)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.SetMasks(masks); err != nil {
		return fmt.Errorf("summary: %s: %w", r.path(rundir.MaskFile), err)
	}
	r.logf("evaluating the DCWP subnetwork on valid and test (float32, as exported)")
	e := &rundir.Eval{}
	if e.Valid, err = r.evaluate(n, r.valid, model.FixedMask); err != nil {
		return err
	}
	if e.Test, err = r.evaluate(n, r.test, model.FixedMask); err != nil {
		return err
	}
	r.summary.DCWP = e
	r.summary.SelectedIter = r.st.Counts[countSelectedIter]
	return r.summarizeDeployed()
}

// summarizeDeployed records what the DCWP network costs as dcwp-export writes it, compact
// against dense: what a pruned network saves where it is deployed, which the mask's kept
// share (flops_kept) does not say (compaction drops the inputs that read a removed unit too;
// a weight-level mask removes few whole units). A network that does not export (weights
// gone NaN) still has its accuracies summarized: the figure is left out, with a warning,
// and dcwp-export names the problem when asked.
func (r *runner) summarizeDeployed() error {
	run, err := rundir.Open(r.o.Out)
	if err != nil {
		return err
	}
	d, err := exporter.Deploy(run)
	if err != nil {
		r.logf("warning: summary.json leaves out the deployed size: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
		return nil
	}
	r.summary.Deployed = d
	ratio := func(a, b int64) float64 { return float64(a) / float64(b) }
	r.logf("compact export (dcwp-export --format compact): %.3fx the parameters and %.3fx the FLOPs of the dense one",
		ratio(d.Compact.Params, d.Dense.Params), ratio(d.Compact.FLOPs, d.Dense.FLOPs))
	return nil
}

func (r *runner) plots() error {
	ms, err := rundir.ReadMetrics(r.path(rundir.MetricsFile))
	if err != nil {
		return err
	}
	_, err = plot.Metrics(ms, r.path(rundir.PlotsDir))
	return err
}
