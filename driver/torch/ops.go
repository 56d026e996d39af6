package torch

// The ops' arguments and the ops composed of others; the ops that reach a kernel are the
// binding's.

// Reduction selects how a loss reduces over the batch.
type Reduction int64

const (
	ReduceNone Reduction = iota
	ReduceMean
	ReduceSum
)

// MemoryFormat is how a 4-D tensor's elements are laid out in memory; values are the same in
// every format, only their order in memory (and so the kernels' summation order) differs.
// The zero MemoryFormat is Contiguous.
type MemoryFormat int64

const (
	Contiguous   MemoryFormat = iota // NCHW, row-major
	ChannelsLast                     // NHWC in memory, NCHW in shape
)

// String is the format's name as the command-line flags spell it.
func (f MemoryFormat) String() string {
	if f == ChannelsLast {
		return "channels-last"
	}
	return "contiguous"
}

// CmpOp is a comparison for Compare.
type CmpOp int64

const (
	CmpGT CmpOp = iota
	CmpGE
	CmpLT
	CmpLE
	CmpEQ
	CmpNE
)

// Conv2dOpts are conv2d's geometry; zero values mean stride 1, padding 0,
// dilation 1, groups 1.
type Conv2dOpts struct {
	Stride, Padding, Dilation [2]int64
	Groups                    int64
}

// orOne is a geometry value of the options above with its zero meaning libtorch's default, 1
// (stride, dilation, groups), for both bindings.
func orOne(v int64) int64 {
	if v == 0 {
		return 1
	}
	return v
}

// MaxPool2dOpts are max_pool2d's geometry; a zero Stride means Kernel.
type MaxPool2dOpts struct {
	Kernel, Stride, Padding, Dilation [2]int64
	CeilMode                          bool
}

// MaskNoiseEps keeps the uniforms of StraightThroughMask away from 0, where
// log(log(u1)/log(u0)) would be NaN; it changes nothing else.
const MaskNoiseEps = 1e-20

// AdamStep holds the hyper-parameters of one Adam update; Step counts updates from 1.
type AdamStep struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Step                               int
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Gt is a > b.
func (s *Scope) Gt(a, b *Tensor) *Tensor { return s.Compare(a, CmpGT, b) }

// Ge is a >= b.
func (s *Scope) Ge(a, b *Tensor) *Tensor { return s.Compare(a, CmpGE, b) }

// Eq is a == b.
func (s *Scope) Eq(a, b *Tensor) *Tensor { return s.Compare(a, CmpEQ, b) }

// Ne is a != b.
func (s *Scope) Ne(a, b *Tensor) *Tensor { return s.Compare(a, CmpNE, b) }

// GtScalar is x > v.
func (s *Scope) GtScalar(x *Tensor, v float64) *Tensor { return s.CompareScalar(x, CmpGT, v) }

// GeScalar is x >= v.
func (s *Scope) GeScalar(x *Tensor, v float64) *Tensor { return s.CompareScalar(x, CmpGE, v) }

// EqScalar is x == v.
func (s *Scope) EqScalar(x *Tensor, v float64) *Tensor { return s.CompareScalar(x, CmpEQ, v) }

// NeScalar is x != v.
func (s *Scope) NeScalar(x *Tensor, v float64) *Tensor { return s.CompareScalar(x, CmpNE, v) }

// ToFloat converts x to float32 (bools become 0/1).
func (s *Scope) ToFloat(x *Tensor) *Tensor { return s.ToDType(x, Float32) }

// Zeros is Full with 0.
func (s *Scope) Zeros(shape []int64, dt DType, dev Device) *Tensor { return s.Full(shape, 0, dt, dev) }

// Ones is Full with 1.
func (s *Scope) Ones(shape []int64, dt DType, dev Device) *Tensor { return s.Full(shape, 1, dt, dev) }

// L2Normalize is Normalize(x, 2, dim, 1e-12), PyTorch's default.
func (s *Scope) L2Normalize(x *Tensor, dim int64) *Tensor { return s.Normalize(x, 2, dim, 1e-12) }
