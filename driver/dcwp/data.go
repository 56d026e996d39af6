package dcwp

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/rundir"
)

// DataOptions say how a run reads its images beyond the dataset and folder: a folder
// dataset's image size and normalisation, where validation comes from, the cache. On resume
// the run's config.json gives the size, normalisation and validation split instead.
type DataOptions struct {
	ImageSize  [2]int    // folder: H, W; zero: the first training image's
	Mean, Std  []float32 // folder: normalisation inside the model; nil: none
	Valid      string    // dataset.ValidAuto, dataset.ValidCarve or a folder
	ValidShare float64   // carve: share of each group (class); 0: dataset.DefaultValidShare
	CacheDir   string    // decoded-image cache; "": dataset.DefaultCacheDir
	NoCache    bool
}

// request is the data request of the run: the options', or what config.json recorded.
func (r *runner) request() dataset.Request {
	c, d := r.c, r.o.Data
	req := dataset.Request{Root: c.Data, Name: c.Dataset, Share: c.ConflictPct, ImageSize: d.ImageSize,
		Mean: d.Mean, Std: d.Std, Valid: d.Valid, ValidShare: d.ValidShare}
	if s := c.DataSpec; s != nil && r.o.Resume && !dataset.Fixed(c.Dataset) {
		req.ImageSize, req.Mean, req.Std, req.Classes = [2]int{s.Input[1], s.Input[2]}, s.Mean, s.Std, s.ClassNames
	}
	if s, err := c.Spec(); err == nil && r.o.Resume {
		g := s.Grouping() // a config.json without groups: bias == label, as it was written with
		req.Groups = &g
	}
	if v := c.ValidSplit; v != nil && r.o.Resume {
		req.Valid, req.ValidShare = v.From, v.Share
		if v.From == dataset.ValidCarve {
			req.Carved = v
		}
	}
	return req
}

// loadData reads the three splits and records, for a folder dataset, its Spec, and for a
// validation split that is not the data's own, how it was made.
func (r *runner) loadData() error {
	c := r.c
	if c.Data == "" {
		return errors.New("no data folder given (--data)")
	}
	l := dataset.Loader{CacheDir: r.o.Data.CacheDir, NoCache: r.o.Data.NoCache,
		Warnf: func(f string, a ...any) { r.logf("warning: "+f, a...) }}
	d, err := l.Open(r.request())
	if err != nil {
		return fmt.Errorf("loading %s from %s: %w", c.Dataset, c.Data, err)
	}
	r.train, r.valid, r.test = d.Train, d.Valid, d.Test
	if c.Miner == rundir.MinerOracle && !r.train.HasBias() {
		return fmt.Errorf("--miner oracle mines with the true bias labels, and %s has none on train", c.Data)
	}
	if !dataset.Fixed(c.Dataset) || d.Spec.Groups != nil { // a benchmark's only where bias != label (CelebA)
		c.DataSpec = &d.Spec
	}
	if d.ValidFrom.From != "layout" {
		c.ValidSplit = &d.ValidFrom
	}
	pct := "" // older celeba runs stored a share that means nothing for them
	if in, err := dataset.Lookup(c.Dataset); err == nil && in.HasShares() && !c.ConflictPct.IsZero() {
		pct = " " + c.ConflictPct.String() + "%"
	}
	conflicting := fmt.Sprintf("%d conflicting", r.train.NumConflicting())
	if !r.train.HasBias() {
		conflicting = "no bias labels: mined precision/recall need a bias column"
	}
	r.logf("data: %s%s: train %d (%s), valid %d, test %d; %d classes, input %v",
		c.Dataset, pct, r.train.Len(), conflicting, r.valid.Len(), r.test.Len(), r.train.Classes, r.train.InputShape())
	r.logf("%s", d.Prep)
	if r.train.Groups != nil {
		g := *r.train.Groups
		r.logf("groups: bias values %s; aligned: %s", strings.Join(g.Attributes, ", "), g.String(r.train.ClassNames))
	}
	r.logf("%s", d.ValidFrom)
	if err := r.checkValid(d.ValidFrom); err != nil {
		return err
	}
	if !r.test.HasBias() {
		r.logf("test has no bias labels: accuracy and per-class accuracy only (group metrics need a bias column)")
	}
	return nil
}

// checkValid says what the validation split can see of the bias: a carved split's group
// counts, and once, where it cannot see the bias, why; --select best-valid on such a split
// selects on the shortcut and is refused unless asked for (--allow-biased-valid).
func (r *runner) checkValid(from dataset.ValidFrom) error {
	v := dataset.ViewOfBias(r.train, r.valid)
	if from.From == dataset.ValidCarve {
		for _, line := range v.Counts() {
			r.logf("validation groups (label: attribute value count, * conflicting): %s", line)
		}
	}
	if len(v.Missing) > 0 {
		r.logf("validation lacks %d of train's (label, attribute) groups: %s", len(v.Missing), someOf(v.Missing, 12))
	}
	if v.Sees {
		return nil
	}
	r.logf("validation cannot see the bias: %s; its accuracy cannot tell debiasing from the shortcut", v.Why)
	if r.c.Select != rundir.SelectBestValid || r.c.AllowBiasedValid || !slices.Contains(r.c.Stages, rundir.StageFinetune) {
		return nil
	}
	return badInput(fmt.Errorf("--select best-valid selects on validation accuracy, and the validation split cannot see the bias (%s): it would select on the shortcut; "+
		"give a validation split with bias-conflicting samples (--valid DIR, or a manifest with a bias column), use --select last, "+
		"or add --allow-biased-valid to select on it anyway", v.Why))
}

// someOf lists the first n values, saying how many more there are.
func someOf(v []string, n int) string {
	if len(v) <= n {
		return strings.Join(v, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(v[:n], ", "), len(v)-n)
}

// minedScore scores mined flags against train's bias labels, or says it cannot.
func (r *runner) minedScore(flags []bool) rundir.Mined {
	if !r.train.HasBias() {
		n := 0
		for _, f := range flags {
			if f {
				n++
			}
		}
		return rundir.Mined{Flagged: n, Unscored: "train has no bias labels: mined precision/recall need a bias column"}
	}
	return MinedScore(flags, r.conflict())
}
