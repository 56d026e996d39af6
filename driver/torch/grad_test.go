package torch

import (
	"math/rand"
	"testing"
)

// gradCase is a scalar function of float64 inputs; grad marks which inputs
// are checked against central finite differences.
type gradCase struct {
	name   string
	inputs []in
	grad   []bool
	fn     func(s *Scope, x []*Tensor) *Tensor
}

// project turns any output into a scalar with a fixed random weighting so
// every output element influences the checked gradient differently.
func project(s *Scope, y *Tensor) *Tensor {
	r := rand.New(rand.NewSource(99))
	w := make([]float64, y.Numel())
	for i := range w {
		w[i] = r.Float64()*2 - 1
	}
	return s.Sum(s.Mul(y, s.FromFloat64(w, y.Shape(), CPUDevice)))
}

func gradCases() []gradCase {
	r := rand.New(rand.NewSource(2))
	u := func(shape ...int64) in { return f64(uni(r, shape...)) }
	p := func(shape ...int64) in { return f64(pos(r, shape...)) }
	T, F := true, false
	return []gradCase{
		{"linear", []in{u(3, 4), u(5, 4), u(5)}, []bool{T, T, T}, func(s *Scope, x []*Tensor) *Tensor { return s.Linear(x[0], x[1], x[2]) }},
		{"matmul", []in{u(3, 4), u(4, 2)}, []bool{T, T}, func(s *Scope, x []*Tensor) *Tensor { return s.Matmul(x[0], x[1]) }},
		{"conv2d", []in{u(2, 3, 5, 5), u(4, 3, 4, 4), u(4)}, []bool{T, T, T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.Conv2d(x[0], x[1], x[2], Conv2dOpts{Stride: [2]int64{2, 2}, Padding: [2]int64{1, 1}})
		}},
		{"batch_norm_train", []in{u(4, 3, 2, 2), u(3), u(3)}, []bool{T, T, T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.BatchNorm(x[0], x[1], x[2], nil, nil, true, 0.1, 1e-5)
		}},
		{"batch_norm_eval", []in{u(4, 3, 2, 2), u(3), u(3), u(3), p(3)}, []bool{T, T, T, F, F}, func(s *Scope, x []*Tensor) *Tensor {
			return s.BatchNorm(x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-5)
		}},
		{"relu", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.Relu(x[0]) }},
		{"sigmoid", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.Sigmoid(x[0]) }},
		{"softmax", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.Softmax(x[0], 1) }},
		{"log_softmax", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.LogSoftmax(x[0], 1) }},
		{"cross_entropy_mean", []in{u(5, 4), ints(r, 4, 5)}, []bool{T, F}, func(s *Scope, x []*Tensor) *Tensor { return s.CrossEntropy(x[0], x[1], ReduceMean) }},
		{"cross_entropy_none", []in{u(5, 4), ints(r, 4, 5)}, []bool{T, F}, func(s *Scope, x []*Tensor) *Tensor { return s.CrossEntropy(x[0], x[1], ReduceNone) }},
		{"nll_sum", []in{u(5, 4), ints(r, 4, 5)}, []bool{T, F}, func(s *Scope, x []*Tensor) *Tensor { return s.NLLLoss(x[0], x[1], ReduceSum) }},
		{"normalize", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.L2Normalize(x[0], 1) }},
		{"mean", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.Mean(s.Square(x[0])) }},
		{"mean_dims", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.MeanDims(x[0], true, 1) }},
		{"sum_dims", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.SumDims(x[0], false, 0) }},
		{"gather", []in{u(3, 4), ints(r, 4, 3, 2)}, []bool{T, F}, func(s *Scope, x []*Tensor) *Tensor { return s.Gather(x[0], 1, x[1]) }},
		{"max_pool2d", []in{u(1, 2, 4, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.MaxPool2d(x[0], MaxPool2dOpts{Kernel: [2]int64{2, 2}})
		}},
		{"adaptive_avg_pool2d", []in{u(2, 2, 3, 3)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor { return s.AdaptiveAvgPool2d(x[0], 1, 1) }},
		{"exp_log_div", []in{u(3, 4), p(3, 4)}, []bool{T, T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.Div(s.Exp(x[0]), s.Log(s.AddScalar(x[1], 1)))
		}},
		{"pow_abs_sub", []in{u(3, 4), u(3, 4)}, []bool{T, T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.PowScalar(s.Abs(s.Sub(x[0], s.MulScalar(x[1], 0.5))), 1.5)
		}},
		{"logsumexp_amax", []in{u(3, 4)}, []bool{T}, func(s *Scope, x []*Tensor) *Tensor {
			return s.Sub(s.LogSumExpDims(x[0], true, 1), s.AmaxDims(x[0], true, 1))
		}},
		{"where_masked_fill", []in{u(3, 4), u(3, 4)}, []bool{T, T}, func(s *Scope, x []*Tensor) *Tensor {
			c := s.GtScalar(x[0], 0)
			return s.MaskedFill(s.Where(c, x[0], x[1]), s.GtScalar(x[1], 1), 0)
		}},
		{"cat_index_select_reshape", []in{u(3, 4), u(2, 4)}, []bool{T, T}, func(s *Scope, x []*Tensor) *Tensor {
			idx := s.FromInt64([]int64{4, 0, 0, 2}, []int64{4}, CPUDevice)
			return s.Reshape(s.Transpose(s.IndexSelect(s.Cat(x, 0), 0, idx), 0, 1), -1)
		}},
	}
}

// evalLoss evaluates a case outside autograd.
func evalLoss(t *testing.T, c gradCase, data []in) float64 {
	s := NewNoGradScope()
	defer s.Close()
	x := make([]*Tensor, len(data))
	for i, d := range data {
		x[i] = d.tensor(s)
	}
	v := s.Item(project(s, c.fn(s, x)))
	must(t, s.Err())
	return v
}

func analyticGrads(t *testing.T, c gradCase) [][]float64 {
	s := NewScope()
	defer s.Close()
	x := make([]*Tensor, len(c.inputs))
	for i, d := range c.inputs {
		x[i] = d.tensor(s)
		if c.grad[i] {
			must(t, x[i].SetRequiresGrad(true))
		}
	}
	s.Backward(project(s, c.fn(s, x)))
	out := make([][]float64, len(x))
	for i := range x {
		if c.grad[i] {
			g := s.Grad(x[i])
			if g == nil && s.Err() == nil {
				t.Fatalf("input %d has no gradient", i)
			}
			out[i], _ = g.Float64s()
		}
	}
	must(t, s.Err())
	return out
}

func TestGradientsFiniteDifferences(t *testing.T) {
	const h = 1e-6
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			got := analyticGrads(t, c)
			for i, inp := range c.inputs {
				if !c.grad[i] {
					continue
				}
				for k := range inp.data {
					data := append([]in(nil), c.inputs...)
					d := append([]float64(nil), inp.data...)
					data[i].data = d
					d[k] = inp.data[k] + h
					fp := evalLoss(t, c, data)
					d[k] = inp.data[k] - h
					fm := evalLoss(t, c, data)
					num := (fp - fm) / (2 * h)
					if !closeEnough(got[i][k], num, 1e-6, 1e-4) {
						t.Fatalf("d/dx%d[%d] = %v, finite difference %v", i, k, got[i][k], num)
					}
				}
			}
		})
	}
}

// softMaskRef recomputes the straight-through mask's soft path from the
// same uniforms (drawn from an identically seeded generator).
func softMaskRef(s *Scope, theta *Tensor, gen *Generator, asCoded bool) *Tensor {
	shape := theta.Shape()
	u0 := s.Clamp(s.Rand(shape, Float64, CPUDevice, gen), MaskNoiseEps, nan())
	u1 := s.Clamp(s.Rand(shape, Float64, CPUDevice, gen), MaskNoiseEps, nan())
	noise := s.Neg(s.Log(s.Div(s.Log(u1), s.Log(u0))))
	base := theta
	if asCoded {
		base = s.Sigmoid(theta)
	}
	return s.Sigmoid(s.Add(base, noise))
}

func TestStraightThroughMask(t *testing.T) {
	for _, asCoded := range []bool{false, true} {
		r := rand.New(rand.NewSource(3))
		theta := f64(uni(r, 4, 5))
		sample := func(s *Scope, th *Tensor, soft bool) *Tensor {
			g, err := NewGenerator(7)
			must(t, err)
			defer g.Close()
			if soft {
				return softMaskRef(s, th, g, asCoded)
			}
			return s.StraightThroughMask(th, 1, asCoded, g)
		}
		s := NewScope()
		th := theta.tensor(s)
		must(t, th.SetRequiresGrad(true))
		mask := sample(s, th, false)
		s.Backward(project(s, mask))
		grad := s.Float32s(s.Grad(th))
		vals := s.Float32s(mask)
		soft := s.Float32s(sample(s, th, true))
		must(t, s.Err())
		for k := range vals {
			if want := float32(b2i(soft[k] > 0.5)); vals[k] != want {
				t.Fatalf("asCoded=%v: mask[%d] = %v, want hard %v (soft %v)", asCoded, k, vals[k], want, soft[k])
			}
		}
		s.Close()
		c := gradCase{"soft", []in{theta}, []bool{true}, func(s *Scope, x []*Tensor) *Tensor { return sample(s, x[0], true) }}
		const h = 1e-6
		for k := range theta.data {
			d := append([]float64(nil), theta.data...)
			d[k] += h
			fp := evalLoss(t, c, []in{{Float64, theta.shape, d}})
			d[k] -= 2 * h
			fm := evalLoss(t, c, []in{{Float64, theta.shape, d}})
			if num := (fp - fm) / (2 * h); !closeEnough(float64(grad[k]), num, 1e-5, 1e-4) {
				t.Fatalf("asCoded=%v: grad[%d] = %v, finite difference of soft path %v", asCoded, k, grad[k], num)
			}
		}
	}
}
