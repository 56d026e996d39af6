package arch

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

func TestGranularity(t *testing.T) {
	cases := []struct {
		model string
		g     Granularity
		score map[string][]int  // score shapes of some masked weights
		gated map[string]string // GatedWith
	}{
		{"mlp", GranWeight, map[string][]int{"fc1.weight": {100, 2352}, "fc.weight": {10, 32}}, map[string]string{}},
		{"mlp", GranChannel, map[string][]int{"fc1.weight": {100, 1}, "fc3.weight": {32, 1}, "fc.weight": {10, 32}},
			map[string]string{"fc1.bias": "fc1.weight", "fc2.bias": "fc2.weight", "fc3.bias": "fc3.weight"}},
		{"cnn", GranChannel, map[string][]int{"conv1.weight": {64, 1, 1, 1}, "fc.weight": {10, 256}},
			map[string]string{"bn1.weight": "conv1.weight", "bn1.bias": "conv1.weight", "bn2.weight": "conv2.weight",
				"bn2.bias": "conv2.weight", "bn3.weight": "conv3.weight", "bn3.bias": "conv3.weight"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.model, " ", c.g), func(t *testing.T) {
			a, err := ForRun(c.model, "cmnist", false)
			if err != nil {
				t.Fatal(err)
			}
			if a, err = a.WithGranularity(c.g); err != nil {
				t.Fatal(err)
			}
			for _, p := range a.MaskedParams() {
				if want, ok := c.score[p.Name]; ok && !slices.Equal(p.ScoreShape, want) {
					t.Errorf("%s: score shape %v, want %v", p.Name, p.ScoreShape, want)
				}
				if p.Numel()%p.ScoreNumel() != 0 {
					t.Errorf("%s: %d scores do not divide %d weights", p.Name, p.ScoreNumel(), p.Numel())
				}
			}
			if got := a.GatedWith(); !maps.Equal(got, c.gated) {
				t.Errorf("GatedWith %v, want %v", got, c.gated)
			}
		})
	}
}

func TestParseGranularity(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Granularity
		ok   bool
	}{{"", GranWeight, true}, {"weight", GranWeight, true}, {"channel", GranChannel, true}, {"Channel", "", false}, {"neuron", "", false}} {
		g, err := ParseGranularity(c.in)
		if (err == nil) != c.ok || g != c.want {
			t.Errorf("ParseGranularity(%q) = %q, %v", c.in, g, err)
		}
	}
}
