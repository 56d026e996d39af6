// Package sampler draws training batches as a pure function of (seed, stream, iteration), so
// a resumed run sees exactly the batches an uninterrupted one would, with no state to save.
package sampler

import (
	"math/rand/v2"
	"sort"
)

// RNG returns the generator for one iteration of one stream (a stage) of a seeded run.
func RNG(seed int64, stream string, iter int) *rand.Rand {
	h := uint64(1469598103934665603)
	for _, c := range []byte(stream) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(uint64(seed)^0x9e3779b97f4a7c15, h^uint64(iter)*0xbf58476d1ce4e5b9))
}

// Shuffle yields batches of an endless stream of epoch permutations (like a shuffling data
// loader restarted every epoch): batch it covers stream positions [it·B, (it+1)·B).
type Shuffle struct {
	N, Batch int
	Seed     int64
	Stream   string
	epoch    int
	perm     []int
}

// Indices returns batch it.
func (s *Shuffle) Indices(it int) []int {
	out := make([]int, s.Batch)
	for k := range out {
		pos := it*s.Batch + k
		e := pos / s.N
		if s.perm == nil || e != s.epoch {
			s.epoch = e
			s.perm = RNG(s.Seed, s.Stream+"/epoch", e).Perm(s.N)
		}
		out[k] = s.perm[pos%s.N]
	}
	return out
}

// Weighted draws batches with replacement, sample i with probability w_i / Σw.
type Weighted struct {
	Batch  int
	Seed   int64
	Stream string
	cum    []float64
}

// NewWeighted builds a weighted sampler.
func NewWeighted(weights []float64, batch int, seed int64, stream string) *Weighted {
	cum := make([]float64, len(weights))
	acc := 0.0
	for i, w := range weights {
		acc += w
		cum[i] = acc
	}
	return &Weighted{Batch: batch, Seed: seed, Stream: stream, cum: cum}
}

// Indices returns batch it.
func (w *Weighted) Indices(it int) []int {
	r := RNG(w.Seed, w.Stream, it)
	total := w.cum[len(w.cum)-1]
	out := make([]int, w.Batch)
	for k := range out {
		u := r.Float64() * total
		i := sort.SearchFloat64s(w.cum, u)
		for i < len(w.cum)-1 && w.cum[i] <= u { // skip zero-weight entries on ties
			i++
		}
		out[k] = i
	}
	return out
}

// Weights gives weight 1 to ordinary samples and up to mined ones.
func Weights(flags []bool, up float64) []float64 {
	w := make([]float64, len(flags))
	for i, f := range flags {
		w[i] = 1
		if f {
			w[i] = up
		}
	}
	return w
}
