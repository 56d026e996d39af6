package torch

import (
	"strings"
	"testing"
)

func cudaOrSkip(t *testing.T) Device {
	t.Helper()
	if !CUDAAvailable() {
		t.Skip("skipped: no GPU")
	}
	d, err := ParseDevice("cuda")
	must(t, err)
	return d
}

// TestCUDAOpsMatchCPU runs every op case on the GPU and on the CPU.
// cuDNN may use TF32 for convolutions, hence the looser tolerance there.
func TestCUDAOpsMatchCPU(t *testing.T) {
	dev := cudaOrSkip(t)
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			s := NewScope()
			defer s.Close()
			cpu := make([]*Tensor, len(c.inputs))
			gpu := make([]*Tensor, len(c.inputs))
			for i, inp := range c.inputs {
				cpu[i] = inp.tensor(s)
				gpu[i] = s.To(cpu[i], dev)
			}
			want := s.Float64sOf(c.fn(s, cpu), t)
			out := c.fn(s, gpu)
			got := s.Float64sOf(out, t)
			tol := 1e-4
			if strings.HasPrefix(c.name, "conv") || strings.HasPrefix(c.name, "matmul") || strings.HasPrefix(c.name, "linear") {
				tol = 1e-2
			}
			for i := range want {
				if !closeEnough(got[i], want[i], tol, tol) {
					t.Fatalf("element %d: cuda %v, cpu %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestCUDAGeneratorMatchesCPU(t *testing.T) {
	dev := cudaOrSkip(t)
	draw := func(d Device) []float32 {
		g, err := NewGenerator(11)
		must(t, err)
		defer g.Close()
		s := NewScope()
		defer s.Close()
		th := s.Zeros([]int64{64}, Float32, d)
		v := s.Float32s(s.Cat([]*Tensor{s.Rand([]int64{64}, Float32, d, g), s.StraightThroughMask(th, 1, false, g)}, 0))
		must(t, s.Err())
		return v
	}
	a, b := draw(CPUDevice), draw(dev)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d: cpu %v, cuda %v", i, a[i], b[i])
		}
	}
}

func TestCUDADeviceErrors(t *testing.T) {
	cudaOrSkip(t)
	if _, err := ParseDevice("cuda:999"); err == nil || !strings.Contains(err.Error(), "visible") {
		t.Fatalf("cuda:999: %v", err)
	}
	s := NewScope()
	defer s.Close()
	a := s.Ones([]int64{2}, Float32, CPUDevice)
	b := s.To(a, Device{Type: CUDA})
	s.Add(a, b)
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "device") {
		t.Fatalf("mixed-device add: %v", s.Err())
	}
}
