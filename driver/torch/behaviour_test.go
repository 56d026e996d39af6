package torch

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestErrorsCarryLibtorchMessage(t *testing.T) {
	cases := []struct {
		name string
		fn   func(s *Scope) *Tensor
		want string
	}{
		{"matmul shapes", func(s *Scope) *Tensor {
			return s.Matmul(s.Zeros([]int64{2, 3}, Float32, CPUDevice), s.Zeros([]int64{4, 5}, Float32, CPUDevice))
		}, "cannot be multiplied"},
		{"add broadcast", func(s *Scope) *Tensor {
			return s.Add(s.Zeros([]int64{2, 3}, Float32, CPUDevice), s.Zeros([]int64{4}, Float32, CPUDevice))
		}, "must match the size"},
		{"conv channels", func(s *Scope) *Tensor {
			return s.Conv2d(s.Zeros([]int64{1, 3, 8, 8}, Float32, CPUDevice), s.Zeros([]int64{4, 2, 3, 3}, Float32, CPUDevice), nil, Conv2dOpts{})
		}, "expected input"},
		{"ce target dtype", func(s *Scope) *Tensor {
			return s.CrossEntropy(s.Zeros([]int64{2, 3}, Float32, CPUDevice), s.Zeros([]int64{2}, Float32, CPUDevice), ReduceMean)
		}, "cross_entropy"},
		{"view strides", func(s *Scope) *Tensor {
			return s.View(s.Transpose(s.Zeros([]int64{2, 3}, Float32, CPUDevice), 0, 1), 6)
		}, "view size is not compatible"},
		{"closed input", func(s *Scope) *Tensor {
			x := s.Zeros([]int64{2}, Float32, CPUDevice)
			x.Close()
			return s.Relu(x)
		}, "closed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewScope()
			defer s.Close()
			if out := c.fn(s); out != nil {
				t.Fatal("failed op returned a tensor")
			}
			if s.Err() == nil || !strings.Contains(strings.ToLower(s.Err().Error()), strings.ToLower(c.want)) {
				t.Fatalf("error %v, want it to contain %q", s.Err(), c.want)
			}
			first := s.Err()
			if s.Relu(s.Ones([]int64{1}, Float32, CPUDevice)) != nil || s.Err() != first {
				t.Fatal("error is not sticky")
			}
		})
	}
	var te *TorchError
	s := NewScope()
	defer s.Close()
	s.Matmul(s.Zeros([]int64{2, 3}, Float32, CPUDevice), s.Zeros([]int64{2, 3}, Float32, CPUDevice))
	if !errors.As(s.Err(), &te) || te.Op != "matmul" {
		t.Fatalf("want *TorchError for matmul, got %#v", s.Err())
	}
}

func TestConstructorErrors(t *testing.T) {
	if _, err := FromFloat32([]float32{1, 2, 3}, []int64{2, 2}, CPUDevice); err == nil {
		t.Fatal("want size mismatch error")
	}
	var x *Tensor
	if _, err := x.Float32s(); !errors.Is(err, ErrClosed) {
		t.Fatalf("nil tensor read: %v", err)
	}
	x.Close() // nil-safe
}

func TestParseDevice(t *testing.T) {
	for _, bad := range []string{"gpu", "cuda:x", "cuda:-1", "tpu:0"} {
		if _, err := ParseDevice(bad); err == nil {
			t.Errorf("ParseDevice(%q) succeeded", bad)
		}
	}
	d, err := ParseDevice("cpu")
	if err != nil || d != CPUDevice {
		t.Fatalf("cpu: %v %v", d, err)
	}
	if CUDAAvailable() {
		return
	}
	_, err = ParseDevice("cuda:0")
	if err == nil {
		t.Fatal("cuda accepted without a GPU")
	}
	want := "no GPU is visible"
	if !BuiltWithCUDA() {
		want = "built without CUDA"
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func TestDeterminism(t *testing.T) {
	draw := func(seed uint64) []float32 {
		g, err := NewGenerator(seed)
		must(t, err)
		defer g.Close()
		s := NewScope()
		defer s.Close()
		a := s.Rand([]int64{100}, Float32, CPUDevice, g)
		b := s.Randn([]int64{100}, Float32, CPUDevice, g)
		c := s.ToFloat(s.Multinomial(s.Ones([]int64{50}, Float32, CPUDevice), 100, true, g))
		d := s.ToFloat(s.Randperm(20, CPUDevice, g))
		th := s.Zeros([]int64{100}, Float32, CPUDevice)
		e := s.StraightThroughMask(th, 1, false, g)
		v := s.Float32s(s.Cat([]*Tensor{a, b, c, d, e, s.Uniform([]int64{10}, -3, 3, Float32, CPUDevice, g)}, 0))
		must(t, s.Err())
		return v
	}
	x, y, z := draw(5), draw(5), draw(6)
	if !slices.Equal(x, y) {
		t.Fatal("same seed gave different samples")
	}
	if slices.Equal(x, z) {
		t.Fatal("different seeds gave identical samples")
	}
	seeded := func() []float32 {
		must(t, ManualSeed(42))
		s := NewScope()
		defer s.Close()
		return s.Float32s(s.Rand([]int64{10}, Float32, CPUDevice, nil))
	}
	if !slices.Equal(seeded(), seeded()) {
		t.Fatal("ManualSeed is not deterministic")
	}
}

// TestGeneratorsAreIndependent: draws from two generators and from the default one,
// interleaved, leave each generator's numbers what it yields alone, draw for draw.
func TestGeneratorsAreIndependent(t *testing.T) {
	alone := func(seed uint64) []float32 {
		g, err := NewGenerator(seed)
		must(t, err)
		defer g.Close()
		s := NewScope()
		defer s.Close()
		v := s.Float32s(s.Cat([]*Tensor{s.Rand([]int64{7}, Float32, CPUDevice, g), s.Randn([]int64{33}, Float32, CPUDevice, g),
			s.Rand([]int64{5}, Float32, CPUDevice, g)}, 0))
		must(t, s.Err())
		return v
	}
	want1, want2 := alone(11), alone(12)
	g1, err := NewGenerator(11)
	must(t, err)
	defer g1.Close()
	g2, err := NewGenerator(12)
	must(t, err)
	defer g2.Close()
	s := NewScope()
	defer s.Close()
	a1 := s.Rand([]int64{7}, Float32, CPUDevice, g1)
	a2 := s.Rand([]int64{7}, Float32, CPUDevice, g2)
	s.Rand([]int64{9}, Float32, CPUDevice, nil)
	b1 := s.Randn([]int64{33}, Float32, CPUDevice, g1)
	b2 := s.Randn([]int64{33}, Float32, CPUDevice, g2)
	c2 := s.Rand([]int64{5}, Float32, CPUDevice, g2)
	must(t, ManualSeed(3))
	c1 := s.Rand([]int64{5}, Float32, CPUDevice, g1)
	got1 := s.Float32s(s.Cat([]*Tensor{a1, b1, c1}, 0))
	got2 := s.Float32s(s.Cat([]*Tensor{a2, b2, c2}, 0))
	must(t, s.Err())
	if !slices.Equal(got1, want1) || !slices.Equal(got2, want2) {
		t.Fatalf("interleaved draws differ from each generator's own:\n%v\n%v\nwant\n%v\n%v", got1, got2, want1, want2)
	}
}

func TestNoGradAndKeep(t *testing.T) {
	s := NewScope()
	w, err := FromFloat32([]float32{1, 2}, []int64{2}, CPUDevice)
	must(t, err)
	defer w.Close()
	must(t, w.SetRequiresGrad(true))
	var inside *Tensor
	must(t, s.NoGrad(func() error {
		inside = s.MulScalar(w, 2)
		return s.Err()
	}))
	outside := s.Keep(s.MulScalar(w, 2))
	s.Close()
	defer outside.Close()
	if inside.Valid() {
		t.Fatal("scope Close left a tensor alive")
	}
	if !outside.Valid() || !outside.RequiresGrad() {
		t.Fatal("kept tensor lost or not tracked by autograd")
	}
	ng := NewNoGradScope()
	defer ng.Close()
	if ng.MulScalar(w, 2).RequiresGrad() {
		t.Fatal("no-grad scope recorded graph")
	}
}

func TestGradLifecycle(t *testing.T) {
	w, err := FromFloat32([]float32{1, 2, 3}, []int64{3}, CPUDevice)
	must(t, err)
	defer w.Close()
	must(t, w.SetRequiresGrad(true))
	for i := 0; i < 2; i++ {
		s := NewScope()
		s.Backward(s.Sum(s.Square(w)))
		s.Close()
	}
	g, err := w.Grad()
	must(t, err)
	v, _ := g.Float32s()
	g.Close()
	if v[2] != 12 {
		t.Fatalf("accumulated grad %v, want [4 8 12]", v)
	}
	must(t, w.ZeroGrad())
	if g, _ := w.Grad(); g != nil {
		t.Fatal("grad survived ZeroGrad")
	}
	src, _ := FromFloat32([]float32{7, 8, 9}, []int64{3}, CPUDevice)
	defer src.Close()
	must(t, w.CopyFrom(src))
	if v, _ := w.Float32s(); v[0] != 7 {
		t.Fatalf("CopyFrom: %v", v)
	}
}

func TestTensorTo(t *testing.T) {
	x, err := FromFloat32([]float32{1, 2}, []int64{2}, CPUDevice)
	must(t, err)
	defer x.Close()
	y, err := x.To(CPUDevice)
	must(t, err)
	defer y.Close()
	if v, _ := y.Float32s(); v[1] != 2 || y.Device() != CPUDevice {
		t.Fatalf("To: %v on %v", v, y.Device())
	}
	if !CUDAAvailable() {
		if _, err := x.To(Device{Type: CUDA}); err == nil {
			t.Fatal("To(cuda) without a GPU succeeded")
		}
	}
}
