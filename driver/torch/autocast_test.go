package torch

import "testing"

// TestAutocastBF16 checks bf16 autocast as the trainer uses it: convolutions and matrix
// products inside compute in bfloat16, ops outside (and after) stay float32, and a weight
// changed in place between two calls is seen changed (no cast cache outlives a call).
func TestAutocastBF16(t *testing.T) {
	s := NewScope()
	defer s.Close()
	x := s.Rand([]int64{2, 3, 8, 8}, Float32, CPUDevice, nil)
	w := s.Keep(s.Rand([]int64{4, 3, 3, 3}, Float32, CPUDevice, nil))
	defer w.Close()
	if err := w.SetRequiresGrad(true); err != nil { // autocast caches casts of such leaves
		t.Fatal(err)
	}
	var in1, in2, mm *Tensor
	s.AutocastBF16(func() {
		in1 = s.Conv2d(x, w, nil, Conv2dOpts{})
		mm = s.Matmul(s.Flatten(x, 1, -1), s.Transpose(s.Flatten(x, 1, -1), 0, 1))
		if err := w.CopyFrom(s.MulScalar(s.Detach(w), 2)); err != nil {
			t.Fatal(err)
		}
		in2 = s.Conv2d(x, w, nil, Conv2dOpts{})
	})
	out := s.Conv2d(x, w, nil, Conv2dOpts{})
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		t    *Tensor
		want DType
	}{"conv inside": {in1, BFloat16}, "matmul inside": {mm, BFloat16}, "conv after": {out, Float32}} {
		if dt := c.t.DType(); dt != c.want {
			t.Errorf("%s: %v, want %v", name, dt, c.want)
		}
	}
	a, b := s.Float32s(in1), s.Float32s(in2)
	for i := range a {
		if b[i] != 2*a[i] { // doubling is exact in bf16 as in float32
			t.Fatalf("conv after the weight doubled: [%d] = %v, want 2 × %v (a stale cast?)", i, b[i], a[i])
		}
	}
}

// TestToFormat: channels-last holds the same values in NHWC order, and converts back.
func TestToFormat(t *testing.T) {
	s := NewNoGradScope()
	defer s.Close()
	x := s.Rand([]int64{2, 3, 4, 5}, Float32, CPUDevice, nil)
	cl := s.ToFormat(x, ChannelsLast)
	back := s.ToFormat(cl, Contiguous)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t      *Tensor
		f      MemoryFormat
		wantIs bool
	}{{x, ChannelsLast, false}, {cl, ChannelsLast, true}, {cl, Contiguous, false}, {back, Contiguous, true}} {
		if ok, err := c.t.IsFormat(c.f); err != nil || ok != c.wantIs {
			t.Errorf("IsFormat(%v) = %v, %v; want %v", c.f, ok, err, c.wantIs)
		}
	}
	want, got := s.Float32s(x), s.Float32s(cl)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("channels-last [%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
