//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

// dimsOp runs a libtch call that takes x and an int64 list.
func (s *Scope) dimsOp(name string, x *Tensor, dims []int64, f func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int)) *Tensor {
	dims = append([]int64(nil), dims...)
	return s.call(name, []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { f(out, h[0], int64Ptr(dims), C.int(len(dims))) })
	})
}

// reduce is a reduction over dims with keepdim, or over all elements (all) when dims is
// empty, as the shim's: keepdim applies only to dims.
func (s *Scope) reduce(name string, x *Tensor, keepdim bool, dims []int64, all func(out *C.tensor, x C.tensor),
	f func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int, keep C.int)) *Tensor {
	if len(dims) == 0 {
		return s.call(name, []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
			return lastErr(g, func() { all(out, h[0]) })
		})
	}
	keep := C.int(b2i(keepdim))
	return s.dimsOp(name, x, dims, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) { f(out, x, d, n, keep) })
}

func sumDims(out *C.tensor, x C.tensor, d *C.int64_t, n C.int, keep C.int) {
	C.atg_sum_dim_intlist(out, x, d, n, keep, -1)
}

func meanDims(out *C.tensor, x C.tensor, d *C.int64_t, n C.int, keep C.int) {
	C.atg_mean_dim(out, x, d, n, keep, -1)
}

func amaxDims(out *C.tensor, x C.tensor, d *C.int64_t, n C.int, keep C.int) {
	C.atg_amax(out, x, d, n, keep)
}

// Sum over all elements.
func (s *Scope) Sum(x *Tensor) *Tensor { return s.SumDims(x, false) }

// SumDims sums over dims.
func (s *Scope) SumDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("sum", x, keepdim, dims, func(out *C.tensor, x C.tensor) { C.atg_sum(out, x, -1) }, sumDims)
}

// Mean over all elements.
func (s *Scope) Mean(x *Tensor) *Tensor { return s.MeanDims(x, false) }

// MeanDims averages over dims.
func (s *Scope) MeanDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("mean", x, keepdim, dims, func(out *C.tensor, x C.tensor) { C.atg_mean(out, x, -1) }, meanDims)
}

// Max over all elements.
func (s *Scope) Max(x *Tensor) *Tensor { return s.AmaxDims(x, false) }

// AmaxDims is the maximum over dims.
func (s *Scope) AmaxDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	return s.reduce("amax", x, keepdim, dims, func(out *C.tensor, x C.tensor) { C.atg_max(out, x) }, amaxDims)
}

// LogSumExpDims is log Σ exp over dims (all elements when dims is empty).
func (s *Scope) LogSumExpDims(x *Tensor, keepdim bool, dims ...int64) *Tensor {
	if len(dims) == 0 {
		return s.composite(func(t *Scope) *Tensor { return t.LogSumExpDims(t.Flatten(x, 0, -1), false, 0) })
	}
	keep := C.int(b2i(keepdim))
	return s.dimsOp("logsumexp", x, dims, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) {
		C.atg_logsumexp(out, x, d, n, keep)
	})
}

// Argmax along dim (int64).
func (s *Scope) Argmax(x *Tensor, dim int64, keepdim bool) *Tensor {
	return s.call("argmax", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_argmax(out, h[0], C.int64_t(dim), 0, C.int(b2i(keepdim))) })
	})
}

// ArgmaxAll is the index into the flattened x of its maximum.
func (s *Scope) ArgmaxAll(x *Tensor) *Tensor {
	return s.call("argmax", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_argmax(out, h[0], 0, 1, 0) })
	})
}

// Reshape returns x with a new shape (one dim may be -1); copies if needed.
func (s *Scope) Reshape(x *Tensor, shape ...int64) *Tensor {
	return s.dimsOp("reshape", x, shape, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) { C.atg_reshape(out, x, d, n) })
}

// View is Reshape that never copies (fails on incompatible strides).
func (s *Scope) View(x *Tensor, shape ...int64) *Tensor {
	return s.dimsOp("view", x, shape, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) { C.atg_view(out, x, d, n) })
}

// Flatten merges dims start..end (inclusive, negative from the end).
func (s *Scope) Flatten(x *Tensor, start, end int64) *Tensor {
	return s.call("flatten", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_flatten(out, h[0], C.int64_t(start), C.int64_t(end)) })
	})
}

// Permute reorders dims.
func (s *Scope) Permute(x *Tensor, dims ...int64) *Tensor {
	return s.dimsOp("permute", x, dims, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) { C.atg_permute(out, x, d, n) })
}

// Transpose swaps two dims.
func (s *Scope) Transpose(x *Tensor, d0, d1 int64) *Tensor {
	return s.call("transpose", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_transpose(out, h[0], C.int64_t(d0), C.int64_t(d1)) })
	})
}

// Squeeze drops dim when its size is 1.
func (s *Scope) Squeeze(x *Tensor, dim int64) *Tensor {
	return s.call("squeeze", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_squeeze_dim(out, h[0], C.int64_t(dim)) })
	})
}

// Unsqueeze inserts a size-1 dim.
func (s *Scope) Unsqueeze(x *Tensor, dim int64) *Tensor {
	return s.call("unsqueeze", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_unsqueeze(out, h[0], C.int64_t(dim)) })
	})
}

// Narrow is the slice [start, start+length) of dim (a view).
func (s *Scope) Narrow(x *Tensor, dim, start, length int64) *Tensor {
	return s.call("narrow", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_narrow(out, h[0], C.int64_t(dim), C.int64_t(start), C.int64_t(length)) })
	})
}

// Cat concatenates along dim.
func (s *Scope) Cat(xs []*Tensor, dim int64) *Tensor {
	return s.call("cat", xs, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_cat(out, tensorPtr(h), C.int(len(h)), C.int64_t(dim)) })
	})
}

// Stack stacks along a new dim.
func (s *Scope) Stack(xs []*Tensor, dim int64) *Tensor {
	return s.call("stack", xs, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_stack(out, tensorPtr(h), C.int(len(h)), C.int64_t(dim)) })
	})
}

func tensorPtr(h []C.tensor) *C.tensor {
	if len(h) == 0 {
		return nil
	}
	return &h[0]
}

// IndexSelect picks entries of dim at int64 indices idx.
func (s *Scope) IndexSelect(x *Tensor, dim int64, idx *Tensor) *Tensor {
	return s.call("index_select", []*Tensor{x, idx}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_index_select(out, h[0], C.int64_t(dim), h[1]) })
	})
}

// Gather is torch.gather(x, dim, idx).
func (s *Scope) Gather(x *Tensor, dim int64, idx *Tensor) *Tensor {
	return s.call("gather", []*Tensor{x, idx}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_gather(out, h[0], C.int64_t(dim), h[1], 0) })
	})
}
