package metrics

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestAccuracy(t *testing.T) {
	cases := []struct {
		name                       string
		pred, label, bias          []int32
		classes                    int
		acc, aligned, confl, worst float64
		groups                     [][]float64
	}{
		{
			name:    "all correct",
			pred:    []int32{0, 1, 0, 1},
			label:   []int32{0, 1, 0, 1},
			bias:    []int32{0, 1, 1, 0},
			classes: 2, acc: 1, aligned: 1, confl: 1, worst: 1,
			groups: [][]float64{{1, 1}, {1, 1}},
		},
		{
			// cell (0,0): 2/2, (0,1): 0/1, (1,1): 1/2, (1,0): empty
			name:    "mixed with an empty cell",
			pred:    []int32{0, 0, 1, 1, 0},
			label:   []int32{0, 0, 0, 1, 1},
			bias:    []int32{0, 0, 1, 1, 1},
			classes: 2, acc: 3.0 / 5, aligned: 0.75, confl: 0, worst: 0,
			groups: [][]float64{{1, 0}, {-1, 0.5}},
		},
		{
			name: "empty", classes: 2, pred: []int32{}, label: []int32{}, bias: []int32{},
			groups: [][]float64{{-1, -1}, {-1, -1}},
		},
		{
			// out-of-range bias counts for accuracy only
			name: "out of range bias", classes: 2,
			pred: []int32{1, 0}, label: []int32{1, 0}, bias: []int32{7, 0},
			acc: 1, aligned: 1, confl: 0, worst: 1,
			groups: [][]float64{{1, -1}, {-1, -1}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Score(c.pred, c.label, c.bias, Identity(names(c.classes)))
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"accuracy", a.Accuracy, c.acc}, {"aligned", a.AlignedAccuracy, c.aligned},
				{"conflicting", a.ConflictingAccuracy, c.confl}, {"worst", a.WorstGroupAccuracy, c.worst}} {
				if math.Abs(f.got-f.want) > 1e-12 {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
			if !reflect.DeepEqual(a.Groups, c.groups) {
				t.Errorf("groups = %v, want %v", a.Groups, c.groups)
			}
			if a.Samples != len(c.pred) {
				t.Errorf("samples = %d", a.Samples)
			}
		})
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	got := Argmax([]float32{0, 2, 1, 5, 5, 0, nan, 1, 0}, 3)
	if want := []int32{1, 0, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Argmax = %v, want %v", got, want)
	}
}

// TestJSONLeavesOutUnmeasuredGroups: without bias labels the JSON carries accuracy and
// per-class accuracy but no aligned, conflicting or worst-group figure; with them, all.
func TestJSONLeavesOutUnmeasuredGroups(t *testing.T) {
	pred, label := []int32{0, 1, 1, 0}, []int32{0, 1, 0, 0}
	for _, c := range []struct {
		name   string
		bias   []int32
		groups bool
	}{{"no bias labels", nil, false}, {"bias labels", []int32{0, 1, 1, 1}, true}} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(Score(pred, label, c.bias, Identity(names(2))))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"aligned_accuracy", "conflicting_accuracy", "worst_group_accuracy", "groups"} {
				if _, ok := got[k]; ok != c.groups {
					t.Errorf("%s present: %v, want %v in %s", k, ok, c.groups, b)
				}
			}
			if got["accuracy"] != 0.75 {
				t.Errorf("accuracy %v, want 0.75 in %s", got["accuracy"], b)
			}
		})
	}
}
