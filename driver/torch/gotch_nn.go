//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import "math"

// Linear is x·wᵀ + b; b may be nil.
func (s *Scope) Linear(x, w, b *Tensor) *Tensor {
	return s.call("linear", []*Tensor{x, w, b}, 1<<2, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_linear(out, h[0], h[1], h[2]) })
	})
}

// Conv2d is a 2-D convolution of NCHW x with w (out, in/groups, kh, kw);
// b may be nil.
func (s *Scope) Conv2d(x, w, b *Tensor, o Conv2dOpts) *Tensor {
	geo := []int64{orOne(o.Stride[0]), orOne(o.Stride[1]), o.Padding[0], o.Padding[1],
		orOne(o.Dilation[0]), orOne(o.Dilation[1])}
	return s.call("conv2d", []*Tensor{x, w, b}, 1<<2, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() {
			C.atg_conv2d(out, h[0], h[1], h[2], int64Ptr(geo[0:2]), 2, int64Ptr(geo[2:4]), 2,
				int64Ptr(geo[4:6]), 2, C.int64_t(orOne(o.Groups)))
		})
	})
}

// BatchNorm normalises over all but dim 1. In training it uses batch
// statistics and updates runningMean/runningVar in place (when given) with
// momentum; in eval it uses them. weight, bias and the running stats may be nil.
func (s *Scope) BatchNorm(x, weight, bias, runningMean, runningVar *Tensor, training bool, momentum, eps float64) *Tensor {
	return s.call("batch_norm", []*Tensor{x, weight, bias, runningMean, runningVar}, 0b11110,
		func(h []C.tensor, g C.int, out *C.tensor) *C.char {
			return lastErr(g, func() {
				C.atg_batch_norm(out, h[0], h[1], h[2], h[3], h[4], C.int(b2i(training)), C.double(momentum), C.double(eps), 1)
			})
		})
}

// MaxPool2d is 2-D max pooling.
func (s *Scope) MaxPool2d(x *Tensor, o MaxPool2dOpts) *Tensor {
	st := o.Stride
	if st == [2]int64{} {
		st = o.Kernel
	}
	geo := []int64{o.Kernel[0], o.Kernel[1], st[0], st[1], o.Padding[0], o.Padding[1],
		orOne(o.Dilation[0]), orOne(o.Dilation[1])}
	return s.call("max_pool2d", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() {
			C.atg_max_pool2d(out, h[0], int64Ptr(geo[0:2]), 2, int64Ptr(geo[2:4]), 2, int64Ptr(geo[4:6]), 2,
				int64Ptr(geo[6:8]), 2, C.int(b2i(o.CeilMode)))
		})
	})
}

// AdaptiveAvgPool2d pools NCHW x to an h×w output.
func (s *Scope) AdaptiveAvgPool2d(x *Tensor, hgt, wid int64) *Tensor {
	return s.dimsOp("adaptive_avg_pool2d", x, []int64{hgt, wid}, func(out *C.tensor, x C.tensor, d *C.int64_t, n C.int) {
		C.atg_adaptive_avg_pool2d(out, x, d, n)
	})
}

// Softmax along dim.
func (s *Scope) Softmax(x *Tensor, dim int64) *Tensor {
	return s.call("softmax", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_softmax(out, h[0], C.int64_t(dim), -1) })
	})
}

// LogSoftmax along dim.
func (s *Scope) LogSoftmax(x *Tensor, dim int64) *Tensor {
	return s.call("log_softmax", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_log_softmax(out, h[0], C.int64_t(dim), -1) })
	})
}

// ignoreIndex is PyTorch's default ignore_index of the class losses.
const ignoreIndex = -100

func reduction(r Reduction) (C.int64_t, bool) {
	if r < 0 || int(r) >= len(reductionC) {
		return 0, false
	}
	return reductionC[r], true
}

// CrossEntropy of logits (N, C) against int64 class targets (N).
func (s *Scope) CrossEntropy(logits, target *Tensor, r Reduction) *Tensor {
	red, ok := reduction(r)
	if !ok {
		return s.fail(&TorchError{Op: "cross_entropy", Msg: "bad reduction"})
	}
	return s.call("cross_entropy", []*Tensor{logits, target}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_cross_entropy_loss(out, h[0], h[1], nil, red, ignoreIndex, 0) })
	})
}

// NLLLoss of log-probabilities (N, C) against int64 class targets (N).
func (s *Scope) NLLLoss(logp, target *Tensor, r Reduction) *Tensor {
	red, ok := reduction(r)
	if !ok {
		return s.fail(&TorchError{Op: "nll_loss", Msg: "bad reduction"})
	}
	return s.call("nll_loss", []*Tensor{logp, target}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_nll_loss(out, h[0], h[1], nil, red, ignoreIndex) })
	})
}

// Normalize divides x by its p-norm along dim, clamped below by eps
// (F.normalize): libtorch's own composition, x / norm(x, p, dim, keepdim).clamp_min(eps).expand_as(x).
func (s *Scope) Normalize(x *Tensor, p float64, dim int64, eps float64) *Tensor {
	return s.composite(func(t *Scope) *Tensor {
		norm := t.call("normalize", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
			return lastErr(g, func() {
				sc := C.ats_float(C.double(p))
				d := C.int64_t(dim)
				C.atg_norm_scalaropt_dim(out, h[0], sc, &d, 1, 1)
				C.ats_free(sc)
			})
		})
		denom := t.binary("normalize", C.dcg_fn2(C.atg_expand_as), t.scalar("normalize", C.dcg_fns(C.atg_clamp_min), norm, eps), x)
		return t.Div(x, denom)
	})
}

// StraightThroughMask samples DCWP's per-layer hard mask from scores Θ:
// noise = -log(log(u1)/log(u0)) with u0, u1 ~ U(0,1) drawn from gen (nil: the
// device's default generator) and clamped below by MaskNoiseEps;
// soft = sigmoid((Θ+noise)/tau) (asCoded: sigmoid((sigmoid(Θ)+noise)/tau));
// the result is 1[soft>0.5] - soft.detach() + soft, so its values are hard
// 0/1 and its gradient is soft's. It is the shim's composition, op for op, so the values
// agree bit for bit on one libtorch.
func (s *Scope) StraightThroughMask(scores *Tensor, tau float64, asCoded bool, gen *Generator) *Tensor {
	if s.err != nil {
		return nil
	}
	info, err := scores.Info()
	if err != nil {
		return s.fail(err)
	}
	return s.composite(func(t *Scope) *Tensor {
		var noise *Tensor
		t.NoGrad(func() error {
			u0 := t.Rand(info.Shape, info.DType, info.Device, gen)
			u1 := t.Rand(info.Shape, info.DType, info.Device, gen)
			if MaskNoiseEps > 0 {
				u0, u1 = t.Clamp(u0, MaskNoiseEps, math.NaN()), t.Clamp(u1, MaskNoiseEps, math.NaN())
			}
			noise = t.Neg(t.Log(t.Div(t.Log(u1), t.Log(u0))))
			return nil
		})
		base := scores
		if asCoded {
			base = t.Sigmoid(scores)
		}
		z := t.Add(base, noise)
		if tau != 1 { // x/1 == x exactly
			z = t.DivScalar(z, tau)
		}
		soft := t.Sigmoid(z)
		hard := t.ToDType(t.GtScalar(soft, 0.5), info.DType)
		return t.Add(t.Sub(hard, t.Detach(soft)), soft)
	})
}
