package torch

import (
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func residentPages(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("skipped: no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	n, err := strconv.ParseInt(f[1], 10, 64)
	must(t, err)
	return n
}

type memMLP struct {
	params []*Tensor
	opt    *Optimizer
}

func newMemMLP(t *testing.T) *memMLP {
	dims := []int64{2352, 100, 100, 32, 10}
	m := &memMLP{}
	s := NewNoGradScope()
	defer s.Close()
	for i := 0; i+1 < len(dims); i++ {
		w := s.Keep(s.MulScalar(s.Randn([]int64{dims[i+1], dims[i]}, Float32, CPUDevice, nil), 0.05))
		b := s.Keep(s.Zeros([]int64{dims[i+1]}, Float32, CPUDevice))
		m.params = append(m.params, w, b)
	}
	must(t, s.Err())
	for _, p := range m.params {
		must(t, p.SetRequiresGrad(true))
	}
	var err error
	m.opt, err = NewAdam(m.params, AdamOptions{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8})
	must(t, err)
	return m
}

func (m *memMLP) close() {
	m.opt.Close()
	for _, p := range m.params {
		p.Close()
	}
}

// step trains on a batch copied in from Go slices, as the trainer does.
func (m *memMLP) step(x []float32, y []int64) error {
	s := NewScope()
	defer s.Close()
	h := s.FromFloat32(x, []int64{int64(len(y)), 2352}, CPUDevice)
	for i := 0; i < len(m.params); i += 2 {
		h = s.Linear(h, m.params[i], m.params[i+1])
		if i+2 < len(m.params) {
			h = s.Relu(h)
		}
	}
	loss := s.CrossEntropy(h, s.FromInt64(y, []int64{int64(len(y))}, CPUDevice), ReduceMean)
	if err := m.opt.ZeroGrad(); err != nil {
		return err
	}
	s.Backward(loss)
	s.Item(loss)
	if err := s.Err(); err != nil {
		return err
	}
	return m.opt.Step()
}

// TestMemoryStable runs 10,000 Adam steps of the CMNIST MLP (batch 256;
// batch 32 under -short) and requires resident memory to grow < 5 % between
// the end of warm-up and the end.
func TestMemoryStable(t *testing.T) {
	const steps, warmup = 10000, 500
	batch := 256
	if testing.Short() {
		batch = 32
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := rand.New(rand.NewSource(5))
	x := make([]float32, batch*2352)
	y := make([]int64, batch)
	m := newMemMLP(t)
	defer m.close()
	var base int64
	start := time.Now()
	for i := 0; i < steps; i++ {
		for k := range y {
			y[k] = int64(r.Intn(10))
		}
		x[r.Intn(len(x))] = r.Float32()
		must(t, m.step(x, y))
		if (i+1)%1000 == 0 {
			t.Logf("step %d: RSS %d pages", i+1, residentPages(t))
		}
		if i == warmup-1 {
			runtime.GC()
			base = residentPages(t)
		}
	}
	runtime.GC()
	end := residentPages(t)
	growth := float64(end-base) / float64(base)
	t.Logf("%d steps batch %d in %v (%.2f ms/step); RSS %d -> %d pages (%+.2f%%)",
		steps, batch, time.Since(start).Round(time.Millisecond),
		float64(time.Since(start).Milliseconds())/steps, base, end, 100*growth)
	if growth >= 0.05 {
		t.Fatalf("resident memory grew %.1f%% over %d steps", 100*growth, steps-warmup)
	}
}
