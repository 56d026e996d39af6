package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/rundir"
)

// dataOptions reads the flags that say how images are read.
func dataOptions(c *cli.Context) (dcwp.DataOptions, error) {
	d := dcwp.DataOptions{Valid: c.String("valid"), ValidShare: c.Float64("valid-share"),
		CacheDir: c.String("cache-dir"), NoCache: c.Bool("no-cache")}
	if !(d.ValidShare > 0 && d.ValidShare < 1) {
		return d, fmt.Errorf("--valid-share %g: want a fraction between 0 and 1", d.ValidShare)
	}
	folder := !dataset.Fixed(c.String("dataset"))
	if !folder && (c.IsSet("image-size") || c.IsSet("normalize")) {
		return d, fmt.Errorf("--image-size and --normalize are for --dataset %s: %s has its own", dataset.Folder, c.String("dataset"))
	}
	var err error
	if c.IsSet("image-size") {
		if d.ImageSize, err = parseSize(c.String("image-size")); err != nil {
			return d, err
		}
	}
	if d.Mean, d.Std, err = parseNormalize(c.String("normalize")); err != nil {
		return d, err
	}
	return d, nil
}

// parseSize reads N or HxW.
func parseSize(v string) ([2]int, error) {
	h, w, ok := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "x")
	if !ok {
		w = h
	}
	hi, err1 := strconv.Atoi(h)
	wi, err2 := strconv.Atoi(w)
	if err1 != nil || err2 != nil || hi < 1 || wi < 1 {
		return [2]int{}, fmt.Errorf("--image-size %q: want N or HxW, 1 to %d", v, dataset.MaxSide)
	}
	if err := dataset.CheckImageSize([2]int{hi, wi}); err != nil {
		return [2]int{}, fmt.Errorf("--image-size %q: %w", v, err)
	}
	return [2]int{hi, wi}, nil
}

// parseNormalize reads none, imagenet, or MEAN/STD as comma-separated lists of 3.
func parseNormalize(v string) (mean, std []float32, err error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "none":
		return nil, nil, nil
	case "imagenet":
		return dataset.ImageNetMean, dataset.ImageNetStd, nil
	}
	m, s, ok := strings.Cut(v, "/")
	if ok {
		mean, err = floats(m)
		if err == nil {
			std, err = floats(s)
		}
	}
	if !ok || err != nil || len(mean) != 3 || len(std) != 3 {
		return nil, nil, fmt.Errorf("--normalize %q: want none, imagenet or MEAN/STD with 3 values each (0.5,0.5,0.5/0.25,0.25,0.25)", v)
	}
	for _, x := range std {
		if !(x > 0) {
			return nil, nil, fmt.Errorf("--normalize %q: std must be positive", v)
		}
	}
	return mean, std, nil
}

func floats(v string) ([]float32, error) {
	var out []float32
	for _, f := range strings.Split(v, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || x != x || x > 1e6 || x < -1e6 {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, float32(x))
	}
	return out, nil
}

// printSummary prints the test figures, group figures only where the test split has bias
// labels, mined precision/recall only where train had them, and the reported network's
// accuracy per class, named by classNames (indices where nil).
func printSummary(w io.Writer, sum *rundir.Summary, classNames []string) {
	pr := func(name string, e rundir.Eval) {
		t := e.Test
		if t.GroupsUnavailable != "" {
			fmt.Fprintf(w, "%-8s test acc %.2f%%   (valid acc %.2f%%)\n", name, 100*t.Accuracy, 100*e.Valid.Accuracy)
			return
		}
		fmt.Fprintf(w, "%-8s test acc %.2f%%  aligned %.2f%%  conflicting %.2f%%  worst %.2f%%   (valid acc %.2f%%)\n", name,
			100*t.Accuracy, 100*t.AlignedAccuracy, 100*t.ConflictingAccuracy, 100*t.WorstGroupAccuracy, 100*e.Valid.Accuracy)
	}
	pr("vanilla", sum.Vanilla)
	last, network := sum.Vanilla.Test, rundir.Vanilla
	if sum.DCWP != nil {
		pr("dcwp", *sum.DCWP)
		last, network = sum.DCWP.Test, rundir.DCWP
		if sum.Mined.Unscored != "" {
			fmt.Fprintf(w, "kept %.2f%% of the masked weights; mined %d (%s)\n", 100*sum.KeptRatio, sum.Mined.Flagged, sum.Mined.Unscored)
		} else {
			fmt.Fprintf(w, "kept %.2f%% of the masked weights; mined %d (precision %.3f, recall %.3f)\n",
				100*sum.KeptRatio, sum.Mined.Flagged, sum.Mined.Precision, sum.Mined.Recall)
		}
	}
	if len(last.PerClass) > 0 {
		fmt.Fprintf(w, "%s per-class test accuracy %%:", network)
		for l, v := range last.PerClass {
			name := strconv.Itoa(l)
			if l < len(classNames) {
				name = classNames[l]
			}
			if v < 0 {
				fmt.Fprintf(w, " %s:-", name)
			} else {
				fmt.Fprintf(w, " %s:%.1f", name, 100*v)
			}
		}
		fmt.Fprintln(w)
	}
	if last.GroupsUnavailable != "" {
		fmt.Fprintf(w, "test: %s\n", last.GroupsUnavailable)
	}
}
