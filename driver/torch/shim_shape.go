//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

func (s *Scope) reduce(name string, op C.int, x *Tensor, keepdim bool, dims []int64) *Tensor {
	ia := append([]int64{b2i(keepdim)}, dims...)
	return s.call(name, op, []*Tensor{x}, 0, ia, nil, nil)
}

// Sum over all elements.
func (s *Scope) Sum(x *Tensor) *Tensor { return s.reduce("sum", C.DT_OP_SUM, x, false, nil) }

// SumDims sums over dims.
func (s *Scope) SumDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("sum", C.DT_OP_SUM, x, keepdim, dims)
}

// Mean over all elements.
func (s *Scope) Mean(x *Tensor) *Tensor { return s.reduce("mean", C.DT_OP_MEAN, x, false, nil) }

// MeanDims averages over dims.
func (s *Scope) MeanDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("mean", C.DT_OP_MEAN, x, keepdim, dims)
}

// Max over all elements.
func (s *Scope) Max(x *Tensor) *Tensor { return s.reduce("max", C.DT_OP_AMAX, x, false, nil) }

// AmaxDims is the maximum over dims.
func (s *Scope) AmaxDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("amax", C.DT_OP_AMAX, x, keepdim, dims)
}

// LogSumExpDims is log Σ exp over dims (all elements when dims is empty).
func (s *Scope) LogSumExpDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("logsumexp", C.DT_OP_LOGSUMEXP, x, keepdim, dims)
}

// Argmax along dim (int64).
func (s *Scope) Argmax(x *Tensor, dim int64, keepdim bool) *Tensor {
	return s.call("argmax", C.DT_OP_ARGMAX, []*Tensor{x}, 0, []int64{dim, b2i(keepdim)}, nil, nil)
}

// ArgmaxAll is the index into the flattened x of its maximum.
func (s *Scope) ArgmaxAll(x *Tensor) *Tensor { return s.unary("argmax", C.DT_OP_ARGMAX, x) }

// Reshape returns x with a new shape (one dim may be -1); copies if needed.
func (s *Scope) Reshape(x *Tensor, shape ...int64) *Tensor {
	return s.call("reshape", C.DT_OP_RESHAPE, []*Tensor{x}, 0, shape, nil, nil)
}

// View is Reshape that never copies (fails on incompatible strides).
func (s *Scope) View(x *Tensor, shape ...int64) *Tensor {
	return s.call("view", C.DT_OP_VIEW, []*Tensor{x}, 0, shape, nil, nil)
}

// Flatten merges dims start..end (inclusive, negative from the end).
func (s *Scope) Flatten(x *Tensor, start, end int64) *Tensor {
	return s.call("flatten", C.DT_OP_FLATTEN, []*Tensor{x}, 0, []int64{start, end}, nil, nil)
}

// Permute reorders dims.
func (s *Scope) Permute(x *Tensor, dims ...int64) *Tensor {
	return s.call("permute", C.DT_OP_PERMUTE, []*Tensor{x}, 0, dims, nil, nil)
}

// Transpose swaps two dims.
func (s *Scope) Transpose(x *Tensor, d0, d1 int64) *Tensor {
	return s.call("transpose", C.DT_OP_TRANSPOSE, []*Tensor{x}, 0, []int64{d0, d1}, nil, nil)
}

// Squeeze drops dim when its size is 1.
func (s *Scope) Squeeze(x *Tensor, dim int64) *Tensor {
	return s.call("squeeze", C.DT_OP_SQUEEZE, []*Tensor{x}, 0, []int64{dim}, nil, nil)
}

// Unsqueeze inserts a size-1 dim.
func (s *Scope) Unsqueeze(x *Tensor, dim int64) *Tensor {
	return s.call("unsqueeze", C.DT_OP_UNSQUEEZE, []*Tensor{x}, 0, []int64{dim}, nil, nil)
}

// Narrow is the slice [start, start+length) of dim (a view).
func (s *Scope) Narrow(x *Tensor, dim, start, length int64) *Tensor {
	return s.call("narrow", C.DT_OP_NARROW, []*Tensor{x}, 0, []int64{dim, start, length}, nil, nil)
}

// Cat concatenates along dim.
func (s *Scope) Cat(xs []*Tensor, dim int64) *Tensor {
	return s.call("cat", C.DT_OP_CAT, xs, 0, []int64{dim}, nil, nil)
}

// Stack stacks along a new dim.
func (s *Scope) Stack(xs []*Tensor, dim int64) *Tensor {
	return s.call("stack", C.DT_OP_STACK, xs, 0, []int64{dim}, nil, nil)
}

// IndexSelect picks entries of dim at int64 indices idx.
func (s *Scope) IndexSelect(x *Tensor, dim int64, idx *Tensor) *Tensor {
	return s.call("index_select", C.DT_OP_INDEX_SELECT, []*Tensor{x, idx}, 0, []int64{dim}, nil, nil)
}

// Gather is torch.gather(x, dim, idx).
func (s *Scope) Gather(x *Tensor, dim int64, idx *Tensor) *Tensor {
	return s.call("gather", C.DT_OP_GATHER, []*Tensor{x, idx}, 0, []int64{dim}, nil, nil)
}
