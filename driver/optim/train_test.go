package optim

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
)

func residentPages(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("resident memory: %v", err)
	}
	n, err := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// trainer is the trainer's pre-training step: the arch's network, cross-entropy and Adam,
// on a batch copied in from Go slices.
type trainer struct {
	net *model.Net
	opt *Optimizer
}

func newTrainer(t *testing.T, dev torch.Device) *trainer {
	a, err := arch.ForRun("mlp", "cmnist", false)
	if err != nil {
		t.Fatal(err)
	}
	n, err := model.New(a, dev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	o, err := New(Settings{Kind: "adam", LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}, n.Trainable(), n.TrainableNames())
	if err != nil {
		t.Fatal(err)
	}
	return &trainer{n, o}
}

func (m *trainer) close() {
	m.opt.Close()
	m.net.Close()
}

func (m *trainer) step(x []float32, y []int64) error {
	s := torch.NewScope()
	defer s.Close()
	in := m.net.Arch.Input
	xt := s.FromFloat32(x, []int64{int64(len(y)), int64(in[0]), int64(in[1]), int64(in[2])}, m.net.Dev)
	logits, _ := m.net.Run(s, xt, model.Forward{Train: true})
	l := loss.CE(s, logits, s.FromInt64(y, []int64{int64(len(y))}, m.net.Dev))
	s.Backward(l)
	s.Item(l)
	if err := s.Err(); err != nil {
		return err
	}
	return m.opt.Update()
}

// TestMemoryStable runs 4,000 training steps of the CMNIST MLP and requires resident
// memory to grow < 5 % between the end of warm-up and the end: every tensor a step or an
// optimizer update makes must be freed.
func TestMemoryStable(t *testing.T) {
	// Batch 32 and 4,000 steps keep the test quick: a leak is a handle not freed each
	// step, and even one leaked batch-sized activation (32×100 floats) a step grows the
	// process by about a quarter over 3,600 steps, a leaked parameter-sized tensor by
	// gigabytes.
	const steps, warmup, batch = 4000, 400, 32
	defer torch.Pin(1)()
	r := rand.New(rand.NewPCG(5, 0))
	x := make([]float32, batch*3*28*28)
	y := make([]int64, batch)
	m := newTrainer(t, torch.CPUDevice)
	defer m.close()
	var base int64
	start := time.Now()
	for i := 0; i < steps; i++ {
		for k := range y {
			y[k] = r.Int64N(10)
		}
		x[r.IntN(len(x))] = r.Float32()
		if err := m.step(x, y); err != nil {
			t.Fatal(err)
		}
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
	t.Logf("%d steps batch %d in %v (%.2f ms/step); RSS %d -> %d pages (%+.2f%%)", steps, batch,
		time.Since(start).Round(time.Millisecond), float64(time.Since(start).Milliseconds())/steps, base, end, 100*growth)
	if growth >= 0.05 {
		t.Fatalf("resident memory grew %.1f%% over %d steps", 100*growth, steps-warmup)
	}
}

// TestCUDAMatchesCPU trains the same network ten steps on the GPU and on the CPU.
func TestCUDAMatchesCPU(t *testing.T) {
	if !torch.CUDAAvailable() {
		t.Skip("skipped: no GPU")
	}
	dev, err := torch.ParseDevice("cuda")
	if err != nil {
		t.Fatal(err)
	}
	train := func(d torch.Device) []float32 {
		r := rand.New(rand.NewPCG(8, 0))
		m := newTrainer(t, d)
		defer m.close()
		x, y := make([]float32, 16*3*28*28), make([]int64, 16)
		for i := range x {
			x[i] = r.Float32()
		}
		for i := range y {
			y[i] = r.Int64N(10)
		}
		for i := 0; i < 10; i++ {
			if err := m.step(x, y); err != nil {
				t.Fatal(err)
			}
		}
		w, err := m.net.Params["fc.weight"].Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	a, b := train(torch.CPUDevice), train(dev)
	for i := range a {
		if d := float64(a[i] - b[i]); d > 1e-4 || d < -1e-4 {
			t.Fatalf("fc.weight[%d]: cuda %v, cpu %v", i, b[i], a[i])
		}
	}
}
