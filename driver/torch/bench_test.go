package torch

import "testing"

// BenchmarkStraightThroughMask compares the one-call mask with the same
// computation composed from ops (forward and backward, first MLP layer).
func BenchmarkStraightThroughMask(b *testing.B) {
	for _, fused := range []bool{true, false} {
		name := map[bool]string{true: "fused", false: "composed"}[fused]
		b.Run(name, func(b *testing.B) {
			g, _ := NewGenerator(1)
			defer g.Close()
			theta, _ := FromFloat32(make([]float32, 100*2352), []int64{100, 2352}, CPUDevice)
			defer theta.Close()
			theta.SetRequiresGrad(true)
			for i := 0; i < b.N; i++ {
				s := NewScope()
				var m *Tensor
				if fused {
					m = s.StraightThroughMask(theta, 1, false, g)
				} else {
					u0 := s.Clamp(s.Rand(theta.Shape(), Float32, CPUDevice, g), MaskNoiseEps, nan())
					u1 := s.Clamp(s.Rand(theta.Shape(), Float32, CPUDevice, g), MaskNoiseEps, nan())
					soft := s.Sigmoid(s.Add(theta, s.Neg(s.Log(s.Div(s.Log(u1), s.Log(u0))))))
					hard := s.ToFloat(s.GtScalar(soft, 0.5))
					m = s.Add(s.Sub(hard, s.Detach(soft)), soft)
				}
				s.Backward(s.Sum(m))
				if s.Err() != nil {
					b.Fatal(s.Err())
				}
				s.Close()
			}
		})
	}
}

// BenchmarkAddDrop is the per-op overhead of a binding: one small add and the free of its
// result, in a scope of its own, as a training step makes and drops its tensors.
func BenchmarkAddDrop(b *testing.B) {
	x, err := FromFloat32([]float32{1, 2, 3, 4}, []int64{4}, CPUDevice)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	defer Pin(1)()
	b.ResetTimer()
	for range b.N {
		s := NewScope()
		s.Add(x, x)
		if s.Err() != nil {
			b.Fatal(s.Err())
		}
		s.Close()
	}
}

// BenchmarkAdamUpdate is one Adam step of a parameter the size of the mlp's first layer.
func BenchmarkAdamUpdate(b *testing.B) {
	defer Pin(1)()
	s := NewScope()
	defer s.Close()
	g, err := NewGenerator(1)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	shape := []int64{100, 2352}
	p, grad := s.Randn(shape, Float32, CPUDevice, g), s.Randn(shape, Float32, CPUDevice, g)
	m, v := s.Zeros(shape, Float32, CPUDevice), s.Zeros(shape, Float32, CPUDevice)
	if s.Err() != nil {
		b.Fatal(s.Err())
	}
	b.ResetTimer()
	for i := range b.N {
		if err := AdamUpdate(p, grad, m, v, AdamStep{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, Step: i + 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinearStep is the mlp's first layer, forward and backward, at batch 256: where an
// fp32 mlp step spends most of its time, so the libtorch and its BLAS under the engine.
func BenchmarkLinearStep(b *testing.B) {
	defer Pin(1)()
	g, err := NewGenerator(1)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	s := NewScope()
	defer s.Close()
	x := s.Randn([]int64{256, 2352}, Float32, CPUDevice, g)
	w := s.Randn([]int64{100, 2352}, Float32, CPUDevice, g)
	if s.Err() != nil {
		b.Fatal(s.Err())
	}
	if err := w.SetRequiresGrad(true); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		st := NewScope()
		st.Backward(st.Sum(st.Relu(st.Linear(x, w, nil))))
		if st.Err() != nil {
			b.Fatal(st.Err())
		}
		st.Close()
		if err := w.ZeroGrad(); err != nil {
			b.Fatal(err)
		}
	}
}
