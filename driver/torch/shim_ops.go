//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

func (s *Scope) unary(name string, op C.int, x *Tensor) *Tensor {
	return s.call(name, op, []*Tensor{x}, 0, nil, nil, nil)
}

func (s *Scope) binary(name string, op C.int, a, b *Tensor) *Tensor {
	return s.call(name, op, []*Tensor{a, b}, 0, nil, nil, nil)
}

func (s *Scope) scalar(name string, op C.int, x *Tensor, v float64) *Tensor {
	return s.call(name, op, []*Tensor{x}, 0, nil, []float64{v}, nil)
}

// Add is a+b with broadcasting.
func (s *Scope) Add(a, b *Tensor) *Tensor { return s.binary("add", C.DT_OP_ADD, a, b) }

// Sub is a-b.
func (s *Scope) Sub(a, b *Tensor) *Tensor { return s.binary("sub", C.DT_OP_SUB, a, b) }

// Mul is a*b elementwise.
func (s *Scope) Mul(a, b *Tensor) *Tensor { return s.binary("mul", C.DT_OP_MUL, a, b) }

// Div is a/b elementwise (true division).
func (s *Scope) Div(a, b *Tensor) *Tensor { return s.binary("div", C.DT_OP_DIV, a, b) }

// Pow is a**b elementwise.
func (s *Scope) Pow(a, b *Tensor) *Tensor { return s.binary("pow", C.DT_OP_POW, a, b) }

// Maximum is the elementwise maximum.
func (s *Scope) Maximum(a, b *Tensor) *Tensor { return s.binary("maximum", C.DT_OP_MAXIMUM, a, b) }

// Minimum is the elementwise minimum.
func (s *Scope) Minimum(a, b *Tensor) *Tensor { return s.binary("minimum", C.DT_OP_MINIMUM, a, b) }

// Matmul is torch.matmul.
func (s *Scope) Matmul(a, b *Tensor) *Tensor { return s.binary("matmul", C.DT_OP_MATMUL, a, b) }

// LogicalAnd is a && b on bool tensors.
func (s *Scope) LogicalAnd(a, b *Tensor) *Tensor {
	return s.binary("logical_and", C.DT_OP_LOGICAL_AND, a, b)
}

// LogicalOr is a || b on bool tensors.
func (s *Scope) LogicalOr(a, b *Tensor) *Tensor {
	return s.binary("logical_or", C.DT_OP_LOGICAL_OR, a, b)
}

// AddScalar is x+v.
func (s *Scope) AddScalar(x *Tensor, v float64) *Tensor { return s.scalar("add", C.DT_OP_ADD_S, x, v) }

// SubScalar is x-v.
func (s *Scope) SubScalar(x *Tensor, v float64) *Tensor { return s.scalar("sub", C.DT_OP_SUB_S, x, v) }

// MulScalar is x*v.
func (s *Scope) MulScalar(x *Tensor, v float64) *Tensor { return s.scalar("mul", C.DT_OP_MUL_S, x, v) }

// DivScalar is x/v.
func (s *Scope) DivScalar(x *Tensor, v float64) *Tensor { return s.scalar("div", C.DT_OP_DIV_S, x, v) }

// PowScalar is x**v.
func (s *Scope) PowScalar(x *Tensor, v float64) *Tensor { return s.scalar("pow", C.DT_OP_POW_S, x, v) }

// RSubScalar is v-x.
func (s *Scope) RSubScalar(x *Tensor, v float64) *Tensor {
	return s.scalar("rsub", C.DT_OP_RSUB_S, x, v)
}

// Neg is -x.
func (s *Scope) Neg(x *Tensor) *Tensor { return s.unary("neg", C.DT_OP_NEG, x) }

// Exp is e**x.
func (s *Scope) Exp(x *Tensor) *Tensor { return s.unary("exp", C.DT_OP_EXP, x) }

// Log is the natural logarithm.
func (s *Scope) Log(x *Tensor) *Tensor { return s.unary("log", C.DT_OP_LOG, x) }

// Abs is |x|.
func (s *Scope) Abs(x *Tensor) *Tensor { return s.unary("abs", C.DT_OP_ABS, x) }

// Sqrt is the square root.
func (s *Scope) Sqrt(x *Tensor) *Tensor { return s.unary("sqrt", C.DT_OP_SQRT, x) }

// Square is x*x.
func (s *Scope) Square(x *Tensor) *Tensor { return s.unary("square", C.DT_OP_SQUARE, x) }

// Sign is -1, 0 or 1 per element.
func (s *Scope) Sign(x *Tensor) *Tensor { return s.unary("sign", C.DT_OP_SIGN, x) }

// Relu is max(x, 0).
func (s *Scope) Relu(x *Tensor) *Tensor { return s.unary("relu", C.DT_OP_RELU, x) }

// Sigmoid is 1/(1+e**-x).
func (s *Scope) Sigmoid(x *Tensor) *Tensor { return s.unary("sigmoid", C.DT_OP_SIGMOID, x) }

// Tanh is the hyperbolic tangent.
func (s *Scope) Tanh(x *Tensor) *Tensor { return s.unary("tanh", C.DT_OP_TANH, x) }

// LogicalNot negates a bool tensor.
func (s *Scope) LogicalNot(x *Tensor) *Tensor { return s.unary("logical_not", C.DT_OP_LOGICAL_NOT, x) }

// AnyNonFinite is a bool scalar: does x hold a NaN or ±Inf?
func (s *Scope) AnyNonFinite(x *Tensor) *Tensor {
	return s.unary("any_nonfinite", C.DT_OP_ANY_NONFINITE, x)
}

// Detach returns x cut from the autograd graph (shares storage).
func (s *Scope) Detach(x *Tensor) *Tensor { return s.unary("detach", C.DT_OP_DETACH, x) }

// Clone copies x (differentiably).
func (s *Scope) Clone(x *Tensor) *Tensor { return s.unary("clone", C.DT_OP_CLONE, x) }

// Contiguous returns x laid out contiguously.
func (s *Scope) Contiguous(x *Tensor) *Tensor { return s.unary("contiguous", C.DT_OP_CONTIGUOUS, x) }

// ToFormat returns x laid out in format f (x itself, shared, when it already is), tracked by
// autograd: torch's x.contiguous(memory_format=f).
func (s *Scope) ToFormat(x *Tensor, f MemoryFormat) *Tensor {
	return s.call("memory_format", C.DT_OP_MEMORY_FORMAT, []*Tensor{x}, 0, []int64{int64(cMemoryFormat(f))}, nil, nil)
}

// IsFormat reports whether t is laid out in format f.
func (t *Tensor) IsFormat(f MemoryFormat) (bool, error) {
	h, err := t.handle()
	if err != nil {
		return false, err
	}
	var out C.int
	if err := check("is_format", C.dt_is_format(h, cMemoryFormat(f), &out)); err != nil {
		return false, err
	}
	return out != 0, nil
}

// Compare is a <op> b elementwise, a bool tensor.
func (s *Scope) Compare(a *Tensor, op CmpOp, b *Tensor) *Tensor {
	return s.call("compare", C.DT_OP_CMP, []*Tensor{a, b}, 0, []int64{int64(cCmpOp(op))}, nil, nil)
}

// CompareScalar is x <op> v elementwise, a bool tensor.
func (s *Scope) CompareScalar(x *Tensor, op CmpOp, v float64) *Tensor {
	return s.call("compare", C.DT_OP_CMP, []*Tensor{x}, 0, []int64{int64(cCmpOp(op))}, []float64{v}, nil)
}

// Where picks a where cond is true, else b.
func (s *Scope) Where(cond, a, b *Tensor) *Tensor {
	return s.call("where", C.DT_OP_WHERE, []*Tensor{cond, a, b}, 0, nil, nil, nil)
}

// MaskedFill sets x to v where mask is true.
func (s *Scope) MaskedFill(x, mask *Tensor, v float64) *Tensor {
	return s.call("masked_fill", C.DT_OP_MASKED_FILL, []*Tensor{x, mask}, 0, nil, []float64{v}, nil)
}

// Clamp limits x to [lo, hi]; a NaN bound means "no bound".
func (s *Scope) Clamp(x *Tensor, lo, hi float64) *Tensor {
	hasLo, hasHi := b2i(lo == lo), b2i(hi == hi)
	return s.call("clamp", C.DT_OP_CLAMP, []*Tensor{x}, 0, []int64{hasLo, hasHi}, []float64{lo, hi}, nil)
}

// ToDType converts x's elements.
func (s *Scope) ToDType(x *Tensor, dt DType) *Tensor {
	return s.call("to_dtype", C.DT_OP_TO_DTYPE, []*Tensor{x}, 0, []int64{int64(cDType(dt))}, nil, nil)
}

// To moves x to dev (differentiably).
func (s *Scope) To(x *Tensor, dev Device) *Tensor {
	return s.call("to_device", C.DT_OP_TO_DEVICE, []*Tensor{x}, 0, []int64{int64(cDeviceType(dev.Type)), int64(dev.Index)}, nil, nil)
}

// OneHot encodes int64 classes as an int64 one-hot tensor with n columns.
func (s *Scope) OneHot(x *Tensor, n int64) *Tensor {
	return s.call("one_hot", C.DT_OP_ONE_HOT, []*Tensor{x}, 0, []int64{n}, nil, nil)
}
