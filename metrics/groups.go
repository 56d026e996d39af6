package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Groups say how samples fall into (label, attribute) groups and which of them are aligned:
// the values the bias attribute takes (a sample's bias is an index into Attributes) and, for
// each label, the attribute value it co-occurs with most in the training split. A sample is
// aligned when its bias is its label's Aligned value, conflicting otherwise. On the
// benchmarks the attribute values are the classes and Aligned[l] == l (Identity): aligned
// means bias == label. It is computed once from train (Majority) and travels with the run
// (config.json) and the export (metadata "groups"), so that an evaluation without the
// training data names the same samples aligned.
type Groups struct {
	Attributes []string `json:"attributes"` // the bias attribute's values, by index
	// Aligned is, per label, the index of its majority attribute value in train; -1 for a
	// label with no training sample (every sample of it counts as conflicting).
	Aligned []int32 `json:"aligned"`
}

// Identity is the benchmarks' groups: one attribute value per class, named as the class,
// aligned with its own class (bias == label).
func Identity(classNames []string) Groups {
	g := Groups{Attributes: slices.Clone(classNames), Aligned: make([]int32, len(classNames))}
	for l := range g.Aligned {
		g.Aligned[l] = int32(l)
	}
	return g
}

// Majority computes the groups from a training split: label[i] in [0, classes) and bias[i]
// indexing attributes. Each label is aligned with the attribute value it co-occurs with
// most; a tie goes to the value listed first.
func Majority(label, bias []int32, classes int, attributes []string) Groups {
	count := make([]int, classes*len(attributes))
	for i, l := range label {
		if l >= 0 && int(l) < classes && bias[i] >= 0 && int(bias[i]) < len(attributes) {
			count[int(l)*len(attributes)+int(bias[i])]++
		}
	}
	g := Groups{Attributes: slices.Clone(attributes), Aligned: make([]int32, classes)}
	for l := range classes {
		best, n := int32(-1), 0
		for b, c := range count[l*len(attributes) : (l+1)*len(attributes)] {
			if c > n {
				best, n = int32(b), c
			}
		}
		g.Aligned[l] = best
	}
	return g
}

// Classes is the number of labels the groups are for.
func (g Groups) Classes() int { return len(g.Aligned) }

// Conflicting reports whether a sample with this label and bias is bias-conflicting.
func (g Groups) Conflicting(label, bias int32) bool { return g.Aligned[label] != bias }

// ErrGroups: groups read from a file (config.json, an export's metadata) are malformed.
var ErrGroups = errors.New("bad groups")

// Check reports whether the groups fit a model of classes labels: one Aligned entry per
// label, each -1 or an attribute's index, and distinct, non-empty attribute values.
func (g Groups) Check(classes int) error {
	if len(g.Aligned) != classes {
		return fmt.Errorf("%w: %d aligned values for %d classes", ErrGroups, len(g.Aligned), classes)
	}
	for k, v := range g.Attributes {
		if v == "" || slices.Index(g.Attributes, v) != k {
			return fmt.Errorf("%w: attribute value %q is empty or listed twice", ErrGroups, v)
		}
	}
	for l, a := range g.Aligned {
		if a < -1 || int(a) >= len(g.Attributes) {
			return fmt.Errorf("%w: class %d is aligned with attribute %d (have %d)", ErrGroups, l, a, len(g.Attributes))
		}
	}
	return nil
}

// Parse reads groups as JSON (what config.json and the export's metadata hold) and checks
// them for a model of classes labels.
func Parse(s string, classes int) (Groups, error) {
	var g Groups
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&g); err != nil {
		return Groups{}, fmt.Errorf("%w: %w", ErrGroups, err)
	}
	return g, g.Check(classes)
}

// Name is attribute value b's name, or its index where the groups do not name it.
func (g Groups) Name(b int) string {
	if b >= 0 && b < len(g.Attributes) {
		return g.Attributes[b]
	}
	return fmt.Sprint(b)
}

// String says which value each class is aligned with, classes named by classNames (or
// their index), for logs: "cat→water, dog→land".
func (g Groups) String(classNames []string) string {
	parts := make([]string, len(g.Aligned))
	for l, a := range g.Aligned {
		name := fmt.Sprint(l)
		if l < len(classNames) {
			name = classNames[l]
		}
		v := "(no training sample)"
		if a >= 0 {
			v = g.Attributes[a]
		}
		parts[l] = name + "→" + v
	}
	return strings.Join(parts, ", ")
}
