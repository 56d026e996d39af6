package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// What a carved validation split takes its share of (ValidFrom.By). Where train has
// attribute values a share of every (label, attribute) group is carved, so that the
// validation split holds the bias-conflicting groups too and can measure debiasing: carved by
// class from data that is 98 % aligned, it would be 98 % aligned as well and reward the
// shortcut. Without attribute values there are no groups to keep, and classes are carved.
const (
	CarveByClass = ""      // each class
	CarveByGroup = "group" // each (label, attribute) group
)

// carveBy is the strata of a carve: a resumed run's own, else groups where train has
// attribute values.
func carveBy(req *Request, train *Split) string {
	switch {
	case req.Carved != nil:
		return req.Carved.By
	case train.HasBias():
		return CarveByGroup
	}
	return CarveByClass
}

// Carve splits share of every stratum of s (by: CarveByClass or CarveByGroup) off as a
// validation split, by a permutation seeded with seed: each stratum with at least two images
// gives at least one and keeps at least one; one of a single image stays in train.
func Carve(s *Split, share float64, seed uint64, by string) (train, valid *Split, err error) {
	strata, err := strataOf(s, by)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0xca7e))
	var keep, take []int
	for _, idx := range strata {
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		k := int(share*float64(len(idx)) + 0.5)
		if len(idx) >= 2 {
			k = min(max(k, 1), len(idx)-1)
		} else {
			k = 0
		}
		take, keep = append(take, idx[:k]...), append(keep, idx[k:]...)
	}
	if len(take) == 0 {
		return nil, nil, fmt.Errorf("carving a validation split from train: no %s has two images (%d images)", strataName(by), s.Len())
	}
	slices.Sort(keep)
	slices.Sort(take)
	train, valid = s.Subset(keep), s.Subset(take)
	valid.Name = Valid
	return train, valid, nil
}

// strataOf lists the samples of each stratum, in split order: by class, or by (label,
// attribute) group in label-major order. A stratum of fewer than two images draws nothing
// from the permutation, so that a carve by class is the one made before groups, image for
// image.
func strataOf(s *Split, by string) ([][]int, error) {
	switch by {
	case CarveByClass:
		out := make([][]int, s.Classes)
		for i, l := range s.Labels {
			out[l] = append(out[l], i)
		}
		return out, nil
	case CarveByGroup:
		if !s.HasBias() {
			return nil, fmt.Errorf("carving a validation split by group: train has no attribute values")
		}
		attrs := attributeCount(s)
		out := make([][]int, s.Classes*attrs)
		for i, l := range s.Labels {
			k := int(l)*attrs + int(s.Bias[i])
			out[k] = append(out[k], i)
		}
		return out, nil
	}
	return nil, fmt.Errorf("carving a validation split by %q: want by class (\"\") or %q", by, CarveByGroup)
}

func strataName(by string) string {
	if by == CarveByGroup {
		return "(label, attribute) group"
	}
	return "class"
}

// attributeCount is the number of attribute values s's bias indices range over.
func attributeCount(s *Split) int {
	n := len(s.Grouping().Attributes)
	for _, b := range s.Bias {
		n = max(n, int(b)+1)
	}
	return n
}

// BiasView is what a validation split can see of the bias in train: whether its accuracy can
// tell debiasing from the shortcut, and its (label, attribute) groups for the log.
type BiasView struct {
	// Sees: the split has attribute values and bias-conflicting samples. Without them its
	// accuracy is the shortcut's, and selecting on it (--select best-valid) rewards the bias.
	Sees bool
	Why  string // when !Sees: why not, in words
	// Missing names train's (label, attribute) groups the split lacks ("label/value"), too
	// small to carve (one image) or absent from the data's own split.
	Missing []string
	counts  [][]int // images per label, per attribute value
	names   []string
	attrs   []string
	aligned []int32
}

// ViewOfBias says what valid can see of the bias in train.
func ViewOfBias(train, valid *Split) BiasView {
	var v BiasView
	switch {
	case !train.HasBias() && !valid.HasBias():
		v.Why = "the data has no attribute values (a bias column), so no split can show the bias"
		return v
	case !valid.HasBias():
		v.Why = "it has no attribute values (a bias column)"
		return v
	}
	g := train.Grouping()
	v.names, v.attrs, v.aligned = classNames(train), g.Attributes, g.Aligned
	attrs := max(attributeCount(train), attributeCount(valid))
	count := func(s *Split) [][]int {
		c := make([][]int, s.Classes)
		for l := range c {
			c[l] = make([]int, attrs)
		}
		for i, l := range s.Labels {
			c[l][s.Bias[i]]++
		}
		return c
	}
	tc := count(train)
	v.counts = count(valid)
	for l := range tc {
		for a, n := range tc[l] {
			if n > 0 && v.counts[l][a] == 0 {
				v.Missing = append(v.Missing, v.group(l, a))
			}
		}
	}
	v.Sees = valid.NumConflicting() > 0
	if !v.Sees {
		v.Why = "it holds no bias-conflicting sample"
		if len(v.Missing) > 0 {
			v.Why += " (train's conflicting groups are too small to carve: a group needs two images, one stays in train)"
		}
	}
	return v
}

func classNames(s *Split) []string {
	if len(s.ClassNames) == s.Classes {
		return s.ClassNames
	}
	return indexNames(s.Classes)
}

func (v BiasView) group(l, a int) string { return v.names[l] + "/" + v.attr(a) }

func (v BiasView) attr(a int) string {
	if a < len(v.attrs) {
		return v.attrs[a]
	}
	return fmt.Sprint(a)
}

// Counts lists the split's images per (label, attribute) group, one line per class, the
// conflicting groups marked with *; nil without attribute values.
func (v BiasView) Counts() []string {
	var out []string
	for l, row := range v.counts {
		var parts []string
		for a, n := range row {
			if n == 0 {
				continue
			}
			mark := ""
			if l < len(v.aligned) && v.aligned[l] != int32(a) {
				mark = "*"
			}
			parts = append(parts, fmt.Sprintf("%s%s %d", v.attr(a), mark, n))
		}
		out = append(out, fmt.Sprintf("%s: %s", v.names[l], strings.Join(parts, ", ")))
	}
	return out
}
