//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

func (s *Scope) factory(name string, op C.int, dt DType, dev Device, tail []int64, da []float64, gen *Generator) *Tensor {
	ia := append([]int64{int64(cDType(dt)), int64(cDeviceType(dev.Type)), int64(dev.Index)}, tail...)
	return s.call(name, op, nil, 0, ia, da, gen)
}

// Full is a tensor of shape filled with v.
func (s *Scope) Full(shape []int64, v float64, dt DType, dev Device) *Tensor {
	return s.factory("full", C.DT_OP_FULL, dt, dev, shape, []float64{v}, nil)
}

// Eye is the n×n identity.
func (s *Scope) Eye(n int64, dt DType, dev Device) *Tensor {
	return s.factory("eye", C.DT_OP_EYE, dt, dev, []int64{n}, nil, nil)
}

// Arange is 0..n-1.
func (s *Scope) Arange(n int64, dt DType, dev Device) *Tensor {
	return s.factory("arange", C.DT_OP_ARANGE, dt, dev, []int64{n}, nil, nil)
}

// Rand is U[0,1) noise from gen (nil: the device's default generator).
func (s *Scope) Rand(shape []int64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.factory("rand", C.DT_OP_RAND, dt, dev, shape, nil, gen)
}

// Randn is N(0,1) noise.
func (s *Scope) Randn(shape []int64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.factory("randn", C.DT_OP_RANDN, dt, dev, shape, nil, gen)
}

// Uniform is U[lo,hi) noise.
func (s *Scope) Uniform(shape []int64, lo, hi float64, dt DType, dev Device, gen *Generator) *Tensor {
	return s.factory("uniform", C.DT_OP_UNIFORM, dt, dev, shape, []float64{lo, hi}, gen)
}

// Randperm is a random permutation of 0..n-1 (int64).
func (s *Scope) Randperm(n int64, dev Device, gen *Generator) *Tensor {
	return s.factory("randperm", C.DT_OP_RANDPERM, Int64, dev, []int64{n}, nil, gen)
}

// Multinomial draws n indices with probability proportional to weights (1-D
// or rows of 2-D), with or without replacement.
func (s *Scope) Multinomial(weights *Tensor, n int64, replacement bool, gen *Generator) *Tensor {
	return s.call("multinomial", C.DT_OP_MULTINOMIAL, []*Tensor{weights}, 0, []int64{n, b2i(replacement)}, nil, gen)
}
