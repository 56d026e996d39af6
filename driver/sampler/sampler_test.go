package sampler

import (
	"math"
	"reflect"
	"testing"
)

func TestWeightedFrequencies(t *testing.T) {
	cases := []struct {
		name  string
		flags []bool
		up    float64
	}{
		{"none mined", []bool{false, false, false, false}, 50},
		{"one mined x50", []bool{true, false, false, false}, 50},
		{"two mined x10", []bool{true, false, true, false}, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := Weights(c.flags, c.up)
			total := 0.0
			for _, v := range w {
				total += v
			}
			s := NewWeighted(w, 1000, 1, "test")
			counts := make([]float64, len(w))
			n := 0
			for it := 0; it < 200; it++ {
				for _, i := range s.Indices(it) {
					counts[i]++
					n++
				}
			}
			for i := range w {
				want := w[i] / total
				got := counts[i] / float64(n)
				if math.Abs(got-want) > 0.01 {
					t.Fatalf("sample %d: frequency %.4f, want %.4f", i, got, want)
				}
			}
		})
	}
}

func TestDeterministicPerIteration(t *testing.T) {
	a := NewWeighted([]float64{1, 2, 3}, 8, 7, "prune")
	b := NewWeighted([]float64{1, 2, 3}, 8, 7, "prune")
	if !reflect.DeepEqual(a.Indices(5), b.Indices(5)) {
		t.Fatal("same iteration gave different batches")
	}
	if reflect.DeepEqual(a.Indices(5), a.Indices(6)) {
		t.Fatal("iterations 5 and 6 gave the same batch")
	}
	s1 := &Shuffle{N: 10, Batch: 4, Seed: 3, Stream: "pretrain"}
	s2 := &Shuffle{N: 10, Batch: 4, Seed: 3, Stream: "pretrain"}
	seen := map[int]int{}
	for it := 0; it < 5; it++ { // 20 positions = 2 epochs
		got := s1.Indices(it)
		for _, i := range got {
			seen[i]++
		}
	}
	for i := 0; i < 10; i++ {
		if seen[i] != 2 {
			t.Fatalf("sample %d seen %d times in two epochs", i, seen[i])
		}
	}
	if !reflect.DeepEqual(s1.Indices(3), s2.Indices(3)) {
		t.Fatal("shuffle not a function of the iteration")
	}
}
