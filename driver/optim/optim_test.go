package optim

import (
	"errors"
	"math"
	"testing"

	"github.com/dcwp-go/dcwp/driver/torch"
)

// TestStepsMatchPyTorchRules runs a few steps on loss = Σ c·p² and compares with PyTorch's
// Adam / SGD update rules written out in float64, including StepLR and a save/restore midway.
func TestStepsMatchPyTorchRules(t *testing.T) {
	cases := []struct {
		name string
		s    Settings
	}{
		{"adam", Settings{Kind: "adam", LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}},
		{"adam steplr wd", Settings{Kind: "adam", LR: 0.05, Beta1: 0.8, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, StepSize: 2, Gamma: 0.5}},
		{"sgd momentum wd steplr", Settings{Kind: "sgd", LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, StepSize: 3, Gamma: 0.1}},
		{"sgd plain", Settings{Kind: "sgd", LR: 0.2}},
	}
	init := []float32{1, -2, 0.5}
	coef := []float64{1, 0.3, 2}
	const steps = 6
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _ := torch.FromFloat32(init, []int64{3}, torch.CPUDevice)
			defer p.Close()
			p.SetRequiresGrad(true)
			o, err := New(c.s, []*torch.Tensor{p}, []string{"p"})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			// reference
			ref := make([]float64, 3)
			m, v := make([]float64, 3), make([]float64, 3)
			for i := range ref {
				ref[i] = float64(init[i])
			}
			for step := 1; step <= steps; step++ {
				if step == 4 { // checkpoint round trip
					st, err := o.State("opt/")
					if err != nil {
						t.Fatal(err)
					}
					o2, _ := New(c.s, []*torch.Tensor{p}, []string{"p"})
					if err := o2.Restore("opt/", st, o.Steps); err != nil {
						t.Fatal(err)
					}
					o.Close()
					o = o2
				}
				s := torch.NewScope()
				cf := s.FromFloat64(coef, []int64{3}, torch.CPUDevice)
				loss := s.Sum(s.Mul(s.ToFloat(cf), s.Mul(p, p)))
				s.Backward(loss)
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				if err := o.Step(); errors.Is(err, torch.ErrUnsupported) {
					t.Skipf("refused: %v", err)
				} else if err != nil {
					t.Fatal(err)
				}
				o.ZeroGrad()
				s.Close()
				lr := c.s.LR
				if c.s.StepSize > 0 {
					lr *= math.Pow(c.s.Gamma, float64((step-1)/c.s.StepSize))
				}
				for i := range ref {
					g := 2*coef[i]*ref[i] + c.s.WeightDecay*ref[i]
					if c.s.Kind == "adam" {
						m[i] = c.s.Beta1*m[i] + (1-c.s.Beta1)*g
						v[i] = c.s.Beta2*v[i] + (1-c.s.Beta2)*g*g
						bc1 := 1 - math.Pow(c.s.Beta1, float64(step))
						bc2 := 1 - math.Pow(c.s.Beta2, float64(step))
						ref[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + c.s.Eps)
					} else {
						if step == 1 {
							m[i] = g
						} else {
							m[i] = c.s.Momentum*m[i] + g
						}
						if c.s.Momentum == 0 {
							m[i] = g
						}
						ref[i] -= lr * m[i]
					}
				}
			}
			got, _ := p.Float32s()
			for i := range ref {
				if math.Abs(float64(got[i])-ref[i]) > 1e-5 {
					t.Fatalf("after %d steps p = %v, want %v", steps, got, ref)
				}
			}
		})
	}
}
