//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

// Add is a+b with broadcasting.
func (s *Scope) Add(a, b *Tensor) *Tensor { return s.binary("add", C.dcg_fn2(C.atg_add), a, b) }

// Sub is a-b.
func (s *Scope) Sub(a, b *Tensor) *Tensor { return s.binary("sub", C.dcg_fn2(C.atg_sub), a, b) }

// Mul is a*b elementwise.
func (s *Scope) Mul(a, b *Tensor) *Tensor { return s.binary("mul", C.dcg_fn2(C.atg_mul), a, b) }

// Div is a/b elementwise (true division).
func (s *Scope) Div(a, b *Tensor) *Tensor { return s.binary("div", C.dcg_fn2(C.atg_div), a, b) }

// Pow is a**b elementwise.
func (s *Scope) Pow(a, b *Tensor) *Tensor { return s.binary("pow", C.dcg_fn2(C.atg_pow), a, b) }

// Maximum is the elementwise maximum.
func (s *Scope) Maximum(a, b *Tensor) *Tensor {
	return s.binary("maximum", C.dcg_fn2(C.atg_maximum), a, b)
}

// Minimum is the elementwise minimum.
func (s *Scope) Minimum(a, b *Tensor) *Tensor {
	return s.binary("minimum", C.dcg_fn2(C.atg_minimum), a, b)
}

// Matmul is torch.matmul.
func (s *Scope) Matmul(a, b *Tensor) *Tensor {
	return s.binary("matmul", C.dcg_fn2(C.atg_matmul), a, b)
}

// LogicalAnd is a && b on bool tensors.
func (s *Scope) LogicalAnd(a, b *Tensor) *Tensor {
	return s.binary("logical_and", C.dcg_fn2(C.atg_logical_and), a, b)
}

// LogicalOr is a || b on bool tensors.
func (s *Scope) LogicalOr(a, b *Tensor) *Tensor {
	return s.binary("logical_or", C.dcg_fn2(C.atg_logical_or), a, b)
}

// AddScalar is x+v.
func (s *Scope) AddScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("add", C.dcg_fns(C.atg_add_scalar), x, v)
}

// SubScalar is x-v.
func (s *Scope) SubScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("sub", C.dcg_fns(C.atg_sub_scalar), x, v)
}

// MulScalar is x*v.
func (s *Scope) MulScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("mul", C.dcg_fns(C.atg_mul_scalar), x, v)
}

// DivScalar is x/v.
func (s *Scope) DivScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("div", C.dcg_fns(C.atg_div_scalar), x, v)
}

// PowScalar is x**v.
func (s *Scope) PowScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("pow", C.dcg_fns(C.atg_pow_tensor_scalar), x, v)
}

// RSubScalar is v-x.
func (s *Scope) RSubScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("rsub", C.dcg_fns(C.atg_rsub_scalar), x, v)
}

// Neg is -x.
func (s *Scope) Neg(x *Tensor) *Tensor { return s.unary("neg", C.dcg_fn1(C.atg_neg), x) }

// Exp is e**x.
func (s *Scope) Exp(x *Tensor) *Tensor { return s.unary("exp", C.dcg_fn1(C.atg_exp), x) }

// Log is the natural logarithm.
func (s *Scope) Log(x *Tensor) *Tensor { return s.unary("log", C.dcg_fn1(C.atg_log), x) }

// Abs is |x|.
func (s *Scope) Abs(x *Tensor) *Tensor { return s.unary("abs", C.dcg_fn1(C.atg_abs), x) }

// Sqrt is the square root.
func (s *Scope) Sqrt(x *Tensor) *Tensor { return s.unary("sqrt", C.dcg_fn1(C.atg_sqrt), x) }

// Square is x*x (a product, as the shim computes it, so gradients agree too).
func (s *Scope) Square(x *Tensor) *Tensor { return s.binary("square", C.dcg_fn2(C.atg_mul), x, x) }

// Sign is -1, 0 or 1 per element.
func (s *Scope) Sign(x *Tensor) *Tensor { return s.unary("sign", C.dcg_fn1(C.atg_sign), x) }

// Relu is max(x, 0).
func (s *Scope) Relu(x *Tensor) *Tensor { return s.unary("relu", C.dcg_fn1(C.atg_relu), x) }

// Sigmoid is 1/(1+e**-x).
func (s *Scope) Sigmoid(x *Tensor) *Tensor { return s.unary("sigmoid", C.dcg_fn1(C.atg_sigmoid), x) }

// Tanh is the hyperbolic tangent.
func (s *Scope) Tanh(x *Tensor) *Tensor { return s.unary("tanh", C.dcg_fn1(C.atg_tanh), x) }

// LogicalNot negates a bool tensor.
func (s *Scope) LogicalNot(x *Tensor) *Tensor {
	return s.unary("logical_not", C.dcg_fn1(C.atg_logical_not), x)
}

// AnyNonFinite is a bool scalar: does x hold a NaN or ±Inf?
func (s *Scope) AnyNonFinite(x *Tensor) *Tensor {
	return s.composite(func(t *Scope) *Tensor {
		return t.unary("any_nonfinite", C.dcg_fn1(C.atg_any), t.LogicalNot(t.unary("isfinite", C.dcg_fn1(C.atg_isfinite), x)))
	})
}

// Detach returns x cut from the autograd graph (shares storage).
func (s *Scope) Detach(x *Tensor) *Tensor { return s.unary("detach", C.dcg_fn1(C.atg_detach), x) }

// Clone copies x (differentiably). libtch's clone is clone_out, outside autograd, so the
// copy is x.to(its dtype, copy=true): the same values and layout, the same gradient.
func (s *Scope) Clone(x *Tensor) *Tensor {
	return s.call("clone", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_to_dtype(out, h[0], C.at_scalar_type(h[0]), 0, 1) })
	})
}

// Contiguous returns x laid out contiguously.
func (s *Scope) Contiguous(x *Tensor) *Tensor {
	return s.unary("contiguous", C.dcg_fn1(C.atg_contiguous), x)
}

// ToFormat returns x laid out in format f (x itself, shared, when it already is), tracked by
// autograd: torch's x.contiguous(memory_format=f). libtch's contiguous takes no format, so
// channels-last is NHWC made contiguous and permuted back: the strides
// contiguous(channels_last) gives, through differentiable ops.
func (s *Scope) ToFormat(x *Tensor, f MemoryFormat) *Tensor {
	switch f {
	case Contiguous:
		return s.Contiguous(x)
	case ChannelsLast:
	default:
		return s.fail(&TorchError{Op: "memory_format", Msg: "unknown memory format"})
	}
	if s.err != nil {
		return nil
	}
	info, err := x.Info()
	if err != nil {
		return s.fail(err)
	}
	if len(info.Shape) != 4 {
		return s.fail(&TorchError{Op: "memory_format", Msg: "required rank 4 tensor to use channels_last format"})
	}
	if is, err := x.IsFormat(ChannelsLast); err != nil || is {
		if err != nil {
			return s.fail(err)
		}
		return s.call("memory_format", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
			return lastErr(g, func() { *out = C.at_shallow_clone(h[0]) })
		})
	}
	return s.composite(func(t *Scope) *Tensor {
		return t.Permute(t.Contiguous(t.Permute(x, 0, 2, 3, 1)), 0, 3, 1, 2)
	})
}

// IsFormat reports whether t is laid out in format f, by libtorch's rules for
// is_contiguous(memory_format) read off the strides (libtch passes no format).
func (t *Tensor) IsFormat(f MemoryFormat) (bool, error) {
	h, err := t.handle()
	if err != nil {
		return false, err
	}
	switch f {
	case Contiguous:
		return C.at_is_contiguous(h) != 0, nil
	case ChannelsLast:
		info, err := t.Info()
		if err != nil || len(info.Shape) != 4 {
			return false, err
		}
		var st [4]C.int64_t
		C.at_stride(h, &st[0])
		want := int64(1)
		for _, d := range []int{1, 3, 2, 0} {
			if n := info.Shape[d]; n != 1 {
				if int64(st[d]) != want {
					return false, nil
				}
				want *= n
			}
		}
		return true, nil
	}
	return false, &TorchError{Op: "is_format", Msg: "unknown memory format"}
}

// Compare is a <op> b elementwise, a bool tensor.
func (s *Scope) Compare(a *Tensor, op CmpOp, b *Tensor) *Tensor {
	if op < 0 || int(op) >= len(cmpOpC) {
		return s.fail(&TorchError{Op: "compare", Msg: "bad comparison kind"})
	}
	return s.binary("compare", cmpOpC[op].t, a, b)
}

// CompareScalar is x <op> v elementwise, a bool tensor.
func (s *Scope) CompareScalar(x *Tensor, op CmpOp, v float64) *Tensor {
	if op < 0 || int(op) >= len(cmpOpC) {
		return s.fail(&TorchError{Op: "compare", Msg: "bad comparison kind"})
	}
	return s.scalar("compare", cmpOpC[op].s, x, v)
}

// Where picks a where cond is true, else b.
func (s *Scope) Where(cond, a, b *Tensor) *Tensor {
	return s.call("where", []*Tensor{cond, a, b}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_where_self(out, h[0], h[1], h[2]) })
	})
}

// MaskedFill sets x to v where mask is true.
func (s *Scope) MaskedFill(x, mask *Tensor, v float64) *Tensor {
	return s.call("masked_fill", []*Tensor{x, mask}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() {
			sc := C.ats_float(C.double(v))
			C.atg_masked_fill(out, h[0], h[1], sc)
			C.ats_free(sc)
		})
	})
}

// Clamp limits x to [lo, hi]; a NaN bound means "no bound".
func (s *Scope) Clamp(x *Tensor, lo, hi float64) *Tensor {
	return s.composite(func(t *Scope) *Tensor {
		y := x
		if lo == lo {
			y = t.scalar("clamp", C.dcg_fns(C.atg_clamp_min), y, lo)
		}
		if hi == hi {
			y = t.scalar("clamp", C.dcg_fns(C.atg_clamp_max), y, hi)
		}
		if y == x { // no bound: the shim returns x itself, shared
			return t.call("clamp", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
				return lastErr(g, func() { *out = C.at_shallow_clone(h[0]) })
			})
		}
		return y
	})
}

// ToDType converts x's elements.
func (s *Scope) ToDType(x *Tensor, dt DType) *Tensor {
	kind, err := cDType(dt)
	if err != nil {
		return s.fail(&TorchError{Op: "to_dtype", Msg: err.Error()})
	}
	return s.call("to_dtype", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_to_dtype(out, h[0], kind, 0, 0) })
	})
}

// To moves x to dev (differentiably).
func (s *Scope) To(x *Tensor, dev Device) *Tensor {
	return s.call("to_device", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_to(out, h[0], cDevice(dev)) })
	})
}

// OneHot encodes int64 classes as an int64 one-hot tensor with n columns.
func (s *Scope) OneHot(x *Tensor, n int64) *Tensor {
	return s.call("one_hot", []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return lastErr(g, func() { C.atg_one_hot(out, h[0], C.int64_t(n)) })
	})
}
