package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/pyoracle"
)

// torchOptimScript trains w, b (from stdin) for `steps` steps of mean((x·wᵀ + b - y)²) with the
// PyTorch optimizer and StepLR of each case, and prints the final w then b per case.
const torchOptimScript = `
import json, sys, torch
import torch.nn.functional as F
torch.set_num_threads(1)
req = json.load(sys.stdin)
t = {k: torch.tensor(v, dtype=torch.float32) for k, v in req["tensors"].items()}
t["x"], t["y"], t["w"] = t["x"].reshape(8, 4), t["y"].reshape(8, 3), t["w"].reshape(3, 4)
out = {}
for c in req["cases"]:
    w, b = t["w"].clone().requires_grad_(), t["b"].clone().requires_grad_()
    if c["kind"] == "adam":
        opt = torch.optim.Adam([w, b], lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"], weight_decay=c["wd"])
    else:
        opt = torch.optim.SGD([w, b], lr=c["lr"], momentum=c["momentum"], weight_decay=c["wd"])
    sched = torch.optim.lr_scheduler.StepLR(opt, c["step_size"], c["gamma"]) if c["step_size"] else None
    for _ in range(req["steps"]):
        opt.zero_grad(set_to_none=True)
        ((F.linear(t["x"], w, b) - t["y"]) ** 2).mean().backward()
        opt.step()
        if sched:
            sched.step()
    out[c["name"]] = torch.cat([w.detach().flatten(), b.detach()]).tolist()
json.dump({"version": torch.__version__, "cases": out}, sys.stdout)
`

type namedSettings struct {
	name string
	s    Settings
}

// TestStepsMatchTorchOptim compares Optimizer with torch.optim itself (not a transcription of
// its rules) on a small least-squares fit: Adam with weight decay, SGD with momentum and
// weight decay, with and without StepLR. Adam must agree to the last bit: its update is
// torch.optim.Adam's own single-tensor arithmetic on the same libtorch. SGD is composed of
// separate ops, so it agrees within float32 rounding, as Adam does where the oracle's
// PyTorch is another release than the engine's libtorch (their Adam rounds otherwise:
// 2.x interpolates the first moment with lerp_). A setting the engine refuses is skipped.
func TestStepsMatchTorchOptim(t *testing.T) {
	cases := []namedSettings{
		{"adam", Settings{Kind: "adam", LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.01}},
		{"adam steplr", Settings{Kind: "adam", LR: 0.05, Beta1: 0.8, Beta2: 0.999, Eps: 1e-8, StepSize: 2, Gamma: 0.5}},
		{"sgd momentum steplr", Settings{Kind: "sgd", LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, StepSize: 3, Gamma: 0.1}},
		{"sgd plain", Settings{Kind: "sgd", LR: 0.05}},
	}
	const steps = 7
	r := rand.New(rand.NewPCG(4, 0))
	in := map[string][]float32{"x": uniform(r, 32), "y": uniform(r, 24), "w": uniform(r, 12), "b": uniform(r, 3)}
	want, oracle := torchOptim(t, in, steps, cases)
	sameRelease := release(oracle) == release(torch.Version())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fitLinear(t, in, steps, c.s)
			if len(want[c.name]) != len(got) {
				t.Fatalf("torch.optim gave %d values, want %d", len(want[c.name]), len(got))
			}
			tol := 1e-5
			if c.s.Kind == "adam" && sameRelease {
				tol = 0
			} else if c.s.Kind == "adam" {
				t.Logf("Adam within float32 rounding: the oracle's PyTorch is %s, the engine's libtorch %s", oracle, torch.Version())
			}
			for i, v := range want[c.name] {
				if math.Abs(float64(got[i])-v) > tol+tol*math.Abs(v) {
					t.Fatalf("parameter %d after %d steps = %v, torch.optim %v", i, steps, got[i], v)
				}
			}
		})
	}
}

func uniform(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.Float64()*4 - 2)
	}
	return v
}

// torchOptim runs torchOptimScript in the oracle's PyTorch (pyoracle.Torch: the libtorch's own version).
// It returns each case's final parameters and the oracle's PyTorch version.
func torchOptim(t *testing.T, in map[string][]float32, steps int, cases []namedSettings) (map[string][]float64, string) {
	t.Helper()
	var req struct {
		Tensors map[string][]float32 `json:"tensors"`
		Steps   int                  `json:"steps"`
		Cases   []map[string]any     `json:"cases"`
	}
	req.Tensors, req.Steps = in, steps
	for _, c := range cases {
		req.Cases = append(req.Cases, map[string]any{"name": c.name, "kind": c.s.Kind, "lr": c.s.LR, "beta1": c.s.Beta1,
			"beta2": c.s.Beta2, "eps": c.s.Eps, "wd": c.s.WeightDecay, "momentum": c.s.Momentum,
			"step_size": c.s.StepSize, "gamma": c.s.Gamma})
	}
	var res struct {
		Version string               `json:"version"`
		Cases   map[string][]float64 `json:"cases"`
	}
	pyoracle.JSON(t, req, &res, "-c", torchOptimScript)
	return res.Cases, res.Version
}

// release is a PyTorch version's major.minor: Debian's 1.13.1 reports its libtorch as 1.13.0.
func release(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// fitLinear is the Go side of torchOptimScript for one case.
func fitLinear(t *testing.T, in map[string][]float32, steps int, set Settings) []float32 {
	t.Helper()
	s := torch.NewScope()
	defer s.Close()
	x, y := s.FromFloat32(in["x"], []int64{8, 4}, torch.CPUDevice), s.FromFloat32(in["y"], []int64{8, 3}, torch.CPUDevice)
	w, b := s.FromFloat32(in["w"], []int64{3, 4}, torch.CPUDevice), s.FromFloat32(in["b"], []int64{3}, torch.CPUDevice)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*torch.Tensor{w, b} {
		if err := p.SetRequiresGrad(true); err != nil {
			t.Fatal(err)
		}
	}
	o, err := New(set, []*torch.Tensor{w, b}, []string{"w", "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for i := 0; i < steps; i++ {
		st := torch.NewScope()
		st.Backward(st.Mean(st.Square(st.Sub(st.Linear(x, w, b), y))))
		err := st.Err()
		st.Close()
		if err == nil {
			err = o.Step()
		}
		if err == nil {
			err = o.ZeroGrad()
		}
		if errors.Is(err, torch.ErrUnsupported) {
			t.Skipf("refused: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got := s.Float32s(s.Cat([]*torch.Tensor{s.Flatten(w, 0, -1), b}, 0))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}
