//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import "fmt"

// onDevice runs a constructor with dtype dt on dev.
func (s *Scope) onDevice(name string, dt DType, dev Device, f func(kind, dev C.int, out *C.tensor)) *Tensor {
	kind, err := cDType(dt)
	if err != nil {
		return s.fail(err)
	}
	return s.call(name, nil, 0, func(_ []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { f(kind, cDevice(dev), out) })
	})
}

// Full is a tensor of shape filled with v.
func (s *Scope) Full(shape []int64, v float64, dt DType, dev Device) *Tensor {
	return s.onDevice("full", dt, dev, func(kind, d C.int, out *C.tensor) {
		sc := C.ats_float(C.double(v))
		C.atg_full(out, int64Ptr(shape), C.int(len(shape)), sc, kind, d)
		C.ats_free(sc)
	})
}

// Eye is the n×n identity.
func (s *Scope) Eye(n int64, dt DType, dev Device) *Tensor {
	return s.onDevice("eye", dt, dev, func(kind, d C.int, out *C.tensor) { C.atg_eye(out, C.int64_t(n), kind, d) })
}

// Arange is 0..n-1.
func (s *Scope) Arange(n int64, dt DType, dev Device) *Tensor {
	return s.onDevice("arange", dt, dev, func(kind, d C.int, out *C.tensor) {
		sc := C.ats_int(C.int64_t(n))
		C.atg_arange(out, sc, kind, d)
		C.ats_free(sc)
	})
}

// draw is one sampling call of a Generator: it runs on the CPU with the default
// generator, just seeded or replayed to where the Generator stands.
type draw func(out *C.tensor)

// sample runs d with gen's numbers (on the CPU, then moved to dev) or, without gen, with
// dev's default generator. Under defaultGen's lock, unless the default CPU generator is
// already at gen's state: reseed it and replay gen's earlier draws, discarding them.
// Replaying the same calls consumes the generator exactly as before, whatever each
// sampler's consumption pattern; the replay costs the earlier draws again, which happens
// only when draws from several generators (or the default one) interleave.
func (s *Scope) sample(name string, gen *Generator, dev Device, d func(dev C.int) draw) *Tensor {
	g := gen.handle()
	if gen != nil && g == nil {
		return s.fail(&TorchError{Op: name, Msg: "closed generator"})
	}
	cpu := s.call(name, nil, 0, func(_ []C.tensor, grad C.int, out *C.tensor) *C.char {
		defaultGen.Lock()
		defer defaultGen.Unlock()
		if g == nil {
			defaultGen.at = nil
			return lastErr(grad, func() { d(cDevice(dev))(out) })
		}
		if defaultGen.at != g {
			defaultGen.at = nil
			if msg := replay(g); msg != nil {
				return msg
			}
		}
		this := d(-1)
		if msg := lastErr(grad, func() { this(out) }); msg != nil {
			return msg
		}
		g.draws = append(g.draws, this)
		defaultGen.at = g
		return nil
	})
	if g == nil || dev.Type == CPU || cpu == nil {
		return cpu
	}
	return s.To(cpu, dev)
}

// replay brings the default CPU generator to g's state: g's seed, then g's draws.
func replay(g *gotchGen) *C.char {
	if msg := seedDefault(g.seed); msg != nil {
		return msg
	}
	for _, old := range g.draws {
		var tmp [4]C.tensor
		if msg := lastErr(0, func() { old(&tmp[0]) }); msg != nil {
			return msg
		}
		freeAll(tmp[:])
	}
	return nil
}

func freeAll(ts []C.tensor) {
	for _, t := range ts {
		if t != nil {
			C.at_free(t)
		}
	}
}

// randFactory draws a factory sampler f over shape with dtype dt.
func (s *Scope) randFactory(name string, shape []int64, dt DType, dev Device, gen *Generator,
	f func(out *C.tensor, shape *C.int64_t, n C.int, kind, dev C.int)) *Tensor {
	kind, err := cDType(dt)
	if err != nil {
		return s.fail(err)
	}
	shape = append([]int64(nil), shape...) // a replay must see the shape as it was
	return s.sample(name, gen, dev, func(d C.int) draw {
		return func(out *C.tensor) { f(out, int64Ptr(shape), C.int(len(shape)), kind, d) }
	})
}

// Rand is U[0,1) noise from gen (nil: the device's default generator).
func (s *Scope) Rand(shape []int64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.randFactory("rand", shape, dt, dev, gen, func(out *C.tensor, sh *C.int64_t, n C.int, k, d C.int) {
		C.atg_rand(out, sh, n, k, d)
	})
}

// Randn is N(0,1) noise.
func (s *Scope) Randn(shape []int64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.randFactory("randn", shape, dt, dev, gen, func(out *C.tensor, sh *C.int64_t, n C.int, k, d C.int) {
		C.atg_randn(out, sh, n, k, d)
	})
}

// Uniform is U[lo,hi) noise.
func (s *Scope) Uniform(shape []int64, lo, hi float64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.randFactory("uniform", shape, dt, dev, gen, func(out *C.tensor, sh *C.int64_t, n C.int, k, d C.int) {
		var e [1]C.tensor
		C.atg_empty(&e[0], sh, n, k, d)
		if e[0] == nil {
			return
		}
		C.atg_uniform_(out, e[0], C.double(lo), C.double(hi))
		C.at_free(e[0])
	})
}

// Randperm is a random permutation of 0..n-1 (int64).
func (s *Scope) Randperm(n int64, dev Device, gen *Generator) *Tensor {
	kind, _ := cDType(Int64)
	return s.sample("randperm", gen, dev, func(d C.int) draw {
		return func(out *C.tensor) { C.atg_randperm(out, C.int64_t(n), kind, d) }
	})
}

// Multinomial draws n indices with probability proportional to weights (1-D
// or rows of 2-D), with or without replacement.
func (s *Scope) Multinomial(weights *Tensor, n int64, replacement bool, gen *Generator) *Tensor {
	if s.err != nil {
		return nil
	}
	if !weights.Valid() {
		return s.fail(fmt.Errorf("torch: multinomial: input 0: %w", ErrClosed))
	}
	w := weights
	if gen != nil {
		w = s.To(weights, CPUDevice)
		if w == nil {
			return nil
		}
	}
	// A replay needs weights of the same shape only: multinomial's consumption of the
	// generator does not depend on the values. The generator holds a handle until Close.
	h := w.h
	if g := gen.handle(); g != nil {
		h = C.at_shallow_clone(w.h)
		g.hold = append(g.hold, h)
	}
	out := s.sample("multinomial", gen, weights.Device(), func(d C.int) draw {
		return func(out *C.tensor) { C.atg_multinomial(out, h, C.int64_t(n), C.int(b2i(replacement))) }
	})
	return out
}
