package dcwp

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// mine is stage 2: one flag per training sample, the proxies of the bias-conflicting ones.
func (r *runner) mine() error {
	conflict := r.conflict()
	flags := make([]bool, len(conflict))
	switch r.c.Miner {
	case rundir.MinerOracle:
		copy(flags, conflict)
	case rundir.MinerWrong:
		if err := r.mineWrong(flags); err != nil {
			return err
		}
	case rundir.MinerEnsemble:
		if err := r.mineEnsemble(flags); err != nil {
			return err
		}
	}
	r.flags = flags
	f8, c8 := make([]uint8, len(flags)), make([]uint8, len(flags))
	for i := range flags {
		if flags[i] {
			f8[i] = 1
		}
		if conflict[i] {
			c8[i] = 1
		}
	}
	ts := map[string]tensor.Tensor{"flags": tensor.U8(f8, len(f8)), "conflict": tensor.U8(c8, len(c8))}
	if err := tensor.WriteFile(r.path(rundir.MinedFile), ts, r.fileMeta(rundir.RoleMined, map[string]string{"miner": string(r.c.Miner)})); err != nil {
		return err
	}
	m := r.minedScore(flags)
	if m.Unscored != "" {
		r.logf("mined %d of %d training samples (%s)", m.Flagged, len(flags), m.Unscored)
	} else {
		r.logf("mined %d of %d training samples (%d truly conflicting): precision %.3f, recall %.3f",
			m.Flagged, len(flags), r.train.NumConflicting(), m.Precision, m.Recall)
	}
	return nil
}

// minerFile is the network whose mistakes mine: the biased one, unless the run mines with
// the vanilla network (no mining model, select_with_gce off, a dataset the reference lets).
func (r *runner) minerFile() (string, error) {
	c := r.c
	in, err := dataset.Lookup(c.Dataset)
	if err != nil {
		return "", err
	}
	if c.MiningModel != nil || c.SelectWithGCE || in.MineWithBiased {
		return rundir.BiasedFile, nil
	}
	return rundir.VanillaFile, nil
}

// mineWrong flags the samples the mining network gets wrong.
func (r *runner) mineWrong(flags []bool) error {
	file, err := r.minerFile()
	if err != nil {
		return err
	}
	n, err := r.loadNet(file)
	if err != nil {
		return err
	}
	defer n.Close()
	pred, _, err := r.predict(n, r.train, model.NoMask)
	if err != nil {
		return err
	}
	for i, p := range pred {
		flags[i] = p != r.train.Labels[i]
	}
	return nil
}

// mineEnsemble flags the samples whose 1 - p_y, averaged over pre-training's checks, passes
// the threshold.
func (r *runner) mineEnsemble(flags []bool) error {
	path := r.path(rundir.CheckpointDir + "/" + ensembleFile)
	ts, meta, err := tensor.ReadFile(path)
	var score []float32
	count := 0
	if err == nil {
		score = ts["score"].F32
		if len(score) != len(flags) {
			return fmt.Errorf("%s: %d ensemble scores for %d training samples (from another run or another --data?)", path, len(score), len(flags))
		}
		if _, err := fmt.Sscan(meta["count"], &count); err != nil || count < 0 {
			return fmt.Errorf("%s: ensemble check count %q is not a count", path, meta["count"])
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if count == 0 { // pre-training shorter than an epoch: score once now
		n, err := r.loadNet(rundir.BiasedFile)
		if err != nil {
			return err
		}
		_, py, err := r.predict(n, r.train, model.NoMask)
		n.Close()
		if err != nil {
			return err
		}
		score = make([]float32, len(py))
		for i, p := range py {
			score[i] = 1 - p
		}
		count = 1
	}
	for i, s := range score {
		flags[i] = float64(s)/float64(count) > r.c.EnsembleThreshold
	}
	return nil
}

// loadMined reads the flags of an earlier mining, for the stages after it, unless they are
// read already (a rerun's checks read them before anything is written).
func (r *runner) loadMined() error {
	if r.flags != nil {
		return nil
	}
	ts, _, err := tensor.ReadFile(r.path(rundir.MinedFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is missing in %s: run the mine stage (--stages)", rundir.MinedFile, r.o.Out)
		}
		return err
	}
	f := ts["flags"].U8
	if len(f) != r.train.Len() {
		return fmt.Errorf("%s: %d flags for %d training samples (another dataset?)", r.path(rundir.MinedFile), len(f), r.train.Len())
	}
	r.flags = make([]bool, len(f))
	for i, v := range f {
		r.flags[i] = v != 0
	}
	return nil
}

func (r *runner) batchFlags(idx []int) []bool {
	out := make([]bool, len(idx))
	for k, i := range idx {
		out[k] = r.flags[i]
	}
	return out
}

func (r *runner) conflict() []bool {
	c := make([]bool, r.train.Len())
	for i := range c {
		c[i] = r.train.Conflicting(i)
	}
	return c
}

// MinedScore compares mined flags with the true conflict labels.
func MinedScore(flags, conflict []bool) rundir.Mined {
	tp, fl, pos := 0, 0, 0
	for i, f := range flags {
		if f {
			fl++
			if conflict[i] {
				tp++
			}
		}
		if conflict[i] {
			pos++
		}
	}
	m := rundir.Mined{Flagged: fl}
	if fl > 0 {
		m.Precision = float64(tp) / float64(fl)
	}
	if pos > 0 {
		m.Recall = float64(tp) / float64(pos)
	}
	return m
}
