// Package metrics computes the evaluation numbers of the DCWP method from
// predictions, labels and bias attributes. It is pure Go and shared by the
// trainer (validation during training) and the evaluator (dcwp-eval), so both
// report identical figures for identical predictions.
package metrics

import "encoding/json"

// Accuracy is the evaluation of one network on one split, as fractions.
type Accuracy struct {
	Accuracy            float64     `json:"accuracy"`
	AlignedAccuracy     float64     `json:"aligned_accuracy"`
	ConflictingAccuracy float64     `json:"conflicting_accuracy"`
	WorstGroupAccuracy  float64     `json:"worst_group_accuracy"`
	Samples             int         `json:"samples"`
	Correct             int         `json:"correct"`
	Groups              [][]float64 `json:"groups,omitempty"`    // [label][attribute] accuracy, NaN-free: -1 for empty cells
	PerClass            []float64   `json:"per_class,omitempty"` // accuracy of each label, -1 for a label with no sample
	// GroupsUnavailable, when set, says why there are no group figures (no bias labels):
	// aligned, conflicting and worst-group accuracy are then 0 in Go and absent from JSON.
	GroupsUnavailable string `json:"groups_unavailable,omitempty"`
}

// MarshalJSON leaves the group figures out when there are none, so no file reports an
// aligned, conflicting or worst-group accuracy that was never measured.
func (a Accuracy) MarshalJSON() ([]byte, error) {
	type plain Accuracy
	if a.GroupsUnavailable == "" {
		return json.Marshal(plain(a))
	}
	return json.Marshal(struct {
		plain
		AlignedAccuracy     *float64 `json:"aligned_accuracy,omitempty"`
		ConflictingAccuracy *float64 `json:"conflicting_accuracy,omitempty"`
		WorstGroupAccuracy  *float64 `json:"worst_group_accuracy,omitempty"`
	}{plain: plain(a)})
}

// NoBias is GroupsUnavailable's text for data without bias labels.
const NoBias = "no bias labels: group metrics (aligned, conflicting, worst group) need a bias column"

// Score scores predictions against labels and groups them by (label, attribute): bias[i]
// is sample i's attribute index, g says which attribute value each label is aligned with.
//
//   - Accuracy: correct / samples over all samples.
//   - Groups[label][attribute]: accuracy of the cell, -1 for an empty cell.
//   - AlignedAccuracy: mean of the non-empty aligned cells (attribute == g.Aligned[label]).
//   - ConflictingAccuracy: mean of the other non-empty cells.
//   - WorstGroupAccuracy: the minimum non-empty cell.
//
// The labels are [0, g.Classes()), the attribute values [0, len(g.Attributes)). Samples
// whose label or bias lies outside count towards Accuracy but not towards any cell.
// Aggregates with no contributing cell are 0. PerClass is each label's accuracy.
// bias nil means the data has no bias labels: no groups, GroupsUnavailable says so. pred,
// label and a non-nil bias must have the same length; the function panics otherwise (a
// programming error).
func Score(pred, label, bias []int32, g Groups) Accuracy {
	if len(pred) != len(label) || (bias != nil && len(label) != len(bias)) {
		panic("metrics.Score: pred, label and bias differ in length")
	}
	classes, attrs := g.Classes(), len(g.Attributes)
	if bias == nil {
		a := Accuracy{PerClass: perClass(pred, label, classes), GroupsUnavailable: NoBias, Samples: len(pred)}
		for i := range pred {
			if pred[i] == label[i] {
				a.Correct++
			}
		}
		if a.Samples > 0 {
			a.Accuracy = float64(a.Correct) / float64(a.Samples)
		}
		return a
	}
	correct := make([]int, classes*attrs)
	count := make([]int, classes*attrs)
	var a Accuracy
	a.Samples = len(pred)
	for i := range pred {
		ok := pred[i] == label[i]
		if ok {
			a.Correct++
		}
		l, b := int(label[i]), int(bias[i])
		if l < 0 || l >= classes || b < 0 || b >= attrs {
			continue
		}
		count[l*attrs+b]++
		if ok {
			correct[l*attrs+b]++
		}
	}
	if a.Samples > 0 {
		a.Accuracy = float64(a.Correct) / float64(a.Samples)
	}
	a.Groups = make([][]float64, classes)
	var alignSum, conflSum float64
	var alignN, conflN int
	worst, haveWorst := 0.0, false
	for l := 0; l < classes; l++ {
		a.Groups[l] = make([]float64, attrs)
		for b := 0; b < attrs; b++ {
			n := count[l*attrs+b]
			if n == 0 {
				a.Groups[l][b] = -1
				continue
			}
			v := float64(correct[l*attrs+b]) / float64(n)
			a.Groups[l][b] = v
			if !g.Conflicting(int32(l), int32(b)) {
				alignSum += v
				alignN++
			} else {
				conflSum += v
				conflN++
			}
			if !haveWorst || v < worst {
				worst, haveWorst = v, true
			}
		}
	}
	if alignN > 0 {
		a.AlignedAccuracy = alignSum / float64(alignN)
	}
	if conflN > 0 {
		a.ConflictingAccuracy = conflSum / float64(conflN)
	}
	a.WorstGroupAccuracy = worst
	a.PerClass = perClass(pred, label, classes)
	return a
}

// perClass is the accuracy of each label in [0, classes), -1 for a label with no sample.
func perClass(pred, label []int32, classes int) []float64 {
	correct, count := make([]int, classes), make([]int, classes)
	for i, l := range label {
		if l < 0 || int(l) >= classes {
			continue
		}
		count[l]++
		if pred[i] == l {
			correct[l]++
		}
	}
	out := make([]float64, classes)
	for l := range out {
		out[l] = -1
		if count[l] > 0 {
			out[l] = float64(correct[l]) / float64(count[l])
		}
	}
	return out
}

// Argmax returns, for logits laid out as rows of `classes` values, the index
// of the largest value of each row (the first one on ties; NaN never wins).
func Argmax(logits []float32, classes int) []int32 {
	if classes <= 0 {
		return nil
	}
	n := len(logits) / classes
	out := make([]int32, n)
	for i := 0; i < n; i++ {
		row := logits[i*classes : (i+1)*classes]
		best := 0
		for j := 1; j < classes; j++ {
			if row[j] > row[best] || (row[best] != row[best] && row[j] == row[j]) {
				best = j
			}
		}
		out[i] = int32(best)
	}
	return out
}
