package torch

import (
	"math/rand"
	"testing"
)

// trainLinear runs five steps of a least-squares fit with opt and a StepLR
// (step 2, gamma 0.5), returning the final weights then bias.
func trainLinear(t *testing.T, x, y, w0, b0 in, mk func([]*Tensor) (*Optimizer, error)) []float64 {
	s := NewScope()
	defer s.Close()
	w, b := w0.tensor(s), b0.tensor(s)
	X, Y := x.tensor(s), y.tensor(s)
	must(t, s.Err())
	must(t, w.SetRequiresGrad(true))
	must(t, b.SetRequiresGrad(true))
	opt, err := mk([]*Tensor{w, b})
	must(t, err)
	defer opt.Close()
	sched := NewStepLR(opt, 2, 0.5)
	for i := 0; i < 5; i++ {
		must(t, opt.ZeroGrad())
		step := NewScope()
		step.Backward(step.Mean(step.Square(step.Sub(step.Linear(X, w, b), Y))))
		must(t, step.Err())
		step.Close()
		must(t, opt.Step())
		must(t, sched.Step())
	}
	if opt.LR() != 0.1*0.25 {
		t.Fatalf("StepLR lr %v after 5 steps, want %v", opt.LR(), 0.1*0.25)
	}
	return s.Float64sOf(s.Cat([]*Tensor{s.Flatten(w, 0, -1), b}, 0), t)
}

func TestOptimizersMatchPyTorch(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	x, y, w0, b0 := uni(r, 8, 4), uni(r, 8, 3), uni(r, 3, 4), uni(r, 3)
	loop := `
w = x[2].clone().requires_grad_(); b = x[3].clone().requires_grad_()
opt = %s
sched = torch.optim.lr_scheduler.StepLR(opt, 2, 0.5)
for _ in range(5):
    opt.zero_grad(set_to_none=True)
    ((F.linear(x[0], w, b) - x[1]) ** 2).mean().backward()
    opt.step(); sched.step()
out = torch.cat([w.flatten(), b])`
	cases := []struct {
		name, py string
		mk       func([]*Tensor) (*Optimizer, error)
	}{
		{"adam", "torch.optim.Adam([w, b], lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01)", func(p []*Tensor) (*Optimizer, error) {
			return NewAdam(p, AdamOptions{LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.01})
		}},
		{"sgd", "torch.optim.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=1e-4)", func(p []*Tensor) (*Optimizer, error) {
			return NewSGD(p, SGDOptions{LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4})
		}},
		{"sgd_nesterov", "torch.optim.SGD([w, b], lr=0.1, momentum=0.5, nesterov=True)", func(p []*Tensor) (*Optimizer, error) {
			return NewSGD(p, SGDOptions{LR: 0.1, Momentum: 0.5, Nesterov: true})
		}},
	}
	var oc []oracleCase
	for _, c := range cases {
		oc = append(oc, oracleCase{c.name, []in{x, y, w0, b0}, sprintf(loop, c.py)})
	}
	want := runOracle(t, oc)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if want[c.name].Error != "" {
				t.Fatal(want[c.name].Error)
			}
			got := trainLinear(t, x, y, w0, b0, c.mk)
			for i, v := range want[c.name].Data {
				if !closeEnough(got[i], v, 1e-6, 1e-5) {
					t.Fatalf("param %d = %v, PyTorch %v", i, got[i], v)
				}
			}
		})
	}
}
