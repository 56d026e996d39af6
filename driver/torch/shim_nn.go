//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

// Linear is x·wᵀ + b; b may be nil.
func (s *Scope) Linear(x, w, b *Tensor) *Tensor {
	return s.call("linear", C.DT_OP_LINEAR, []*Tensor{x, w, b}, 1<<2, nil, nil, nil)
}

// Conv2d is a 2-D convolution of NCHW x with w (out, in/groups, kh, kw);
// b may be nil.
func (s *Scope) Conv2d(x, w, b *Tensor, o Conv2dOpts) *Tensor {
	ia := []int64{orOne(o.Stride[0]), orOne(o.Stride[1]), o.Padding[0], o.Padding[1],
		orOne(o.Dilation[0]), orOne(o.Dilation[1]), orOne(o.Groups)}
	return s.call("conv2d", C.DT_OP_CONV2D, []*Tensor{x, w, b}, 1<<2, ia, nil, nil)
}

// BatchNorm normalises over all but dim 1. In training it uses batch
// statistics and updates runningMean/runningVar in place (when given) with
// momentum; in eval it uses them. weight, bias and the running stats may be nil.
func (s *Scope) BatchNorm(x, weight, bias, runningMean, runningVar *Tensor, training bool, momentum, eps float64) *Tensor {
	return s.call("batch_norm", C.DT_OP_BATCH_NORM, []*Tensor{x, weight, bias, runningMean, runningVar},
		0b11110, []int64{b2i(training)}, []float64{momentum, eps}, nil)
}

// MaxPool2d is 2-D max pooling.
func (s *Scope) MaxPool2d(x *Tensor, o MaxPool2dOpts) *Tensor {
	st := o.Stride
	if st == [2]int64{} {
		st = o.Kernel
	}
	ia := []int64{o.Kernel[0], o.Kernel[1], st[0], st[1], o.Padding[0], o.Padding[1],
		orOne(o.Dilation[0]), orOne(o.Dilation[1]), b2i(o.CeilMode)}
	return s.call("max_pool2d", C.DT_OP_MAX_POOL2D, []*Tensor{x}, 0, ia, nil, nil)
}

// AdaptiveAvgPool2d pools NCHW x to an h×w output.
func (s *Scope) AdaptiveAvgPool2d(x *Tensor, h, w int64) *Tensor {
	return s.call("adaptive_avg_pool2d", C.DT_OP_ADAPTIVE_AVG_POOL2D, []*Tensor{x}, 0, []int64{h, w}, nil, nil)
}

// Softmax along dim.
func (s *Scope) Softmax(x *Tensor, dim int64) *Tensor {
	return s.call("softmax", C.DT_OP_SOFTMAX, []*Tensor{x}, 0, []int64{dim}, nil, nil)
}

// LogSoftmax along dim.
func (s *Scope) LogSoftmax(x *Tensor, dim int64) *Tensor {
	return s.call("log_softmax", C.DT_OP_LOG_SOFTMAX, []*Tensor{x}, 0, []int64{dim}, nil, nil)
}

// CrossEntropy of logits (N, C) against int64 class targets (N).
func (s *Scope) CrossEntropy(logits, target *Tensor, r Reduction) *Tensor {
	return s.call("cross_entropy", C.DT_OP_CROSS_ENTROPY, []*Tensor{logits, target}, 0, []int64{int64(cReduction(r))}, nil, nil)
}

// NLLLoss of log-probabilities (N, C) against int64 class targets (N).
func (s *Scope) NLLLoss(logp, target *Tensor, r Reduction) *Tensor {
	return s.call("nll_loss", C.DT_OP_NLL_LOSS, []*Tensor{logp, target}, 0, []int64{int64(cReduction(r))}, nil, nil)
}

// Normalize divides x by its p-norm along dim, clamped below by eps
// (F.normalize).
func (s *Scope) Normalize(x *Tensor, p float64, dim int64, eps float64) *Tensor {
	return s.call("normalize", C.DT_OP_NORMALIZE, []*Tensor{x}, 0, []int64{dim}, []float64{p, eps}, nil)
}

// StraightThroughMask samples DCWP's per-layer hard mask from scores Θ:
// noise = -log(log(u1)/log(u0)) with u0, u1 ~ U(0,1) drawn from gen (nil: the
// device's default generator) and clamped below by MaskNoiseEps;
// soft = sigmoid((Θ+noise)/tau) (asCoded: sigmoid((sigmoid(Θ)+noise)/tau));
// the result is 1[soft>0.5] - soft.detach() + soft, so its values are hard
// 0/1 and its gradient is soft's. A Generator draws on the CPU (same mask on
// every device); on a GPU pass nil and seed with ManualSeed instead, which
// keeps the draw on the device and avoids a host round trip per layer.
func (s *Scope) StraightThroughMask(scores *Tensor, tau float64, asCoded bool, gen *Generator) *Tensor {
	return s.call("ste_mask", C.DT_OP_STE_MASK, []*Tensor{scores}, 0, []int64{b2i(asCoded)},
		[]float64{tau, MaskNoiseEps}, gen)
}
