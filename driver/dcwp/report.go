package dcwp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/plot"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// metric appends one row to metrics.jsonl.
func (r *runner) metric(m rundir.Metric) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if n, err := r.metricsF.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", r.metricsF.Name(), errors.Join(err, unappend(r.metricsF, n)))
	}
	return nil
}

// unappend takes back the n bytes a failed append wrote, so that a full disk leaves no row
// cut short at the end of the file.
func unappend(f *os.File, n int) error {
	if n == 0 {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return f.Truncate(st.Size() - int64(n))
}

// dropMetrics removes the rows that stages first, first+1, … wrote to metrics.jsonl.
func dropMetrics(path string, first int) error {
	data, err := readlimit.ReadFile(path, rundir.MaxMetricsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	rows, err := rundir.ParseMetrics(data[:rundir.WholeRows(data)]) // a partial last row is a cut write
	if err != nil {
		return fmt.Errorf("%s %w", path, err)
	}
	return atomicfile.Write(path, func(w *bufio.Writer) error {
		for _, row := range rows {
			if stageIndex(metricStage(row.Stage)) < first {
				w.Write(row.Raw)
				w.WriteByte('\n')
			}
		}
		return nil
	})
}

// finish evaluates the networks the stages up to last have made, writes summary.json and
// the plots.
func (r *runner) finish(last string) (*rundir.Summary, error) {
	if err := r.summarizeVanilla(); err != nil {
		return nil, err
	}
	if r.flags != nil {
		r.summary.Mined = r.minedScore(r.flags)
	}
	var ms map[string]tensor.Tensor
	if stageIndex(last) >= stageIndex(StagePrune) {
		var err error
		if ms, _, err = tensor.ReadFile(r.path(rundir.MaskFile)); err != nil {
			return nil, err
		}
		r.summary.KeptRatio, r.summary.KeptPerLayer = rundir.KeptRatios(ms)
	}
	if stageIndex(last) >= stageIndex(StageFinetune) {
		if err := r.summarizeDCWP(ms); err != nil {
			return nil, err
		}
	}
	r.summary.StageSeconds = r.st.StageSeconds
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
	return err
}

func (r *runner) summarizeDCWP(masks map[string]tensor.Tensor) error {
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
	r.summary.SelectedIter = r.st.Counts.SelectedIter
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
