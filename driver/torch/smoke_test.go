package torch

import (
	"strings"
	"testing"
)

func TestSmokeLinearBackward(t *testing.T) {
	s := NewScope()
	defer s.Close()
	x := s.FromFloat32([]float32{1, 2, 3, 4}, []int64{2, 2}, CPUDevice)
	w := s.FromFloat32([]float32{1, 0, 0, 1}, []int64{2, 2}, CPUDevice)
	if err := w.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	loss := s.Sum(s.Linear(x, w, nil))
	if got := s.Item(loss); got != 10 {
		t.Fatalf("sum = %v, want 10", got)
	}
	s.Backward(loss)
	g := s.Float32s(s.Grad(w))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	want := []float32{4, 6, 4, 6}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("grad %v, want %v", g, want)
		}
	}
}

func TestSmokeShapeError(t *testing.T) {
	s := NewScope()
	defer s.Close()
	a := s.Zeros([]int64{2, 3}, Float32, CPUDevice)
	b := s.Zeros([]int64{4, 5}, Float32, CPUDevice)
	out := s.Matmul(a, b)
	if out != nil || s.Err() == nil || !strings.Contains(s.Err().Error(), "cannot be multiplied") {
		t.Fatalf("want libtorch shape error, got %v", s.Err())
	}
	if s.Relu(out) != nil {
		t.Fatal("op after error should be a no-op")
	}
}
