package model

import (
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/internal/pyoracle"
	"github.com/dcwp-go/dcwp/tensor"
)

func tiny() *arch.Arch {
	return &arch.Arch{Name: "tiny", Input: [3]int{1, 1, 3}, Classes: 2, Feature: "flatten", Nodes: []arch.Node{
		{Name: "flatten", Op: arch.OpFlatten, Inputs: []string{arch.Input}},
		{Name: "fc", Op: arch.OpLinear, Inputs: []string{"flatten"}, In: 3, Out: 2, Bias: true},
	}}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestMaskStraightThrough checks the sampled mask of a masked linear layer: the forward uses
// the hard 0/1 mask and d loss/dΘ is the gradient through the soft mask (straight-through),
// reproducing the logistic noise from the same seeded generator.
func TestMaskStraightThrough(t *testing.T) {
	cases := []struct {
		name    string
		scores  []float32
		tau     float64
		asCoded bool
	}{
		{"clean tau1", []float32{1.5, -0.3, 0, 2, -1, 0.4}, 1, false},
		{"clean tau0.5", []float32{0.2, -0.2, 0.7, -0.7, 0.1, 0}, 0.5, false},
		{"as-coded", []float32{1.5, -3, 0, 2, -1, 0.4}, 1, true},
	}
	x := []float32{0.5, -1, 2}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNet(t, tiny(), 1)
			if err := n.InitScores(0); err != nil {
				t.Fatal(err)
			}
			if err := CopyInto(n.Scores["fc.weight"], c.scores, []int{2, 3}); err != nil {
				t.Fatal(err)
			}
			w, _ := n.Params["fc.weight"].Float32s()
			b, _ := n.Params["fc.bias"].Float32s()
			const seed = 42
			gen, _ := torch.NewGenerator(seed)
			defer gen.Close()
			s := torch.NewScope()
			defer s.Close()
			xt := s.FromFloat32(x, []int64{1, 1, 1, 3}, torch.CPUDevice)
			logits, _ := n.Run(s, xt, Forward{Train: true, Mask: SampleMask, Gen: gen, Tau: c.tau, AsCoded: c.asCoded})
			loss := s.Sum(logits)
			s.Backward(loss)
			out := s.Float32s(logits)
			g := s.Float32s(s.Grad(n.Scores["fc.weight"]))
			// the same uniforms, drawn in the same order from an identically seeded generator
			gen2, _ := torch.NewGenerator(seed)
			defer gen2.Close()
			u0 := s.Float32s(s.Rand([]int64{2, 3}, torch.Float32, torch.CPUDevice, gen2))
			u1 := s.Float32s(s.Rand([]int64{2, 3}, torch.Float32, torch.CPUDevice, gen2))
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if wg := s.Grad(n.Params["fc.weight"]); wg != nil {
				t.Fatal("frozen weight received a gradient")
			}
			for o := 0; o < 2; o++ {
				want := float64(b[o])
				for i := 0; i < 3; i++ {
					k := o*3 + i
					th := float64(c.scores[k])
					base := th
					dbase := 1.0
					if c.asCoded {
						base = sigmoid(th)
						dbase = base * (1 - base)
					}
					noise := -math.Log(math.Log(float64(u1[k])) / math.Log(float64(u0[k])))
					soft := sigmoid((base + noise) / c.tau)
					hard := 0.0
					if soft > 0.5 {
						hard = 1
					}
					want += float64(x[i]) * float64(w[k]) * hard
					// d sum(logits)/dΘ = x_i w_k · dsoft/dΘ
					wg := float64(x[i]) * float64(w[k]) * soft * (1 - soft) / c.tau * dbase
					if math.Abs(float64(g[k])-wg) > 1e-5 {
						t.Fatalf("dΘ[%d] = %v, want %v", k, g[k], wg)
					}
				}
				if math.Abs(float64(out[o])-want) > 1e-5 {
					t.Fatalf("logit %d = %v, want %v (hard mask)", o, out[o], want)
				}
			}
		})
	}
}

// TestFixedMaskZeroesPrunedGradient checks that pruned weights get no gradient in fine-tuning.
func TestFixedMaskZeroesPrunedGradient(t *testing.T) {
	n := newNet(t, tiny(), 3)
	if err := n.InitScores(0); err != nil {
		t.Fatal(err)
	}
	CopyInto(n.Scores["fc.weight"], []float32{1, -1, 0, -0.1, 2, -3}, []int{2, 3})
	u8, err := n.FixMasks()
	if err != nil {
		t.Fatal(err)
	}
	wantMask := []uint8{1, 0, 1, 0, 1, 0}
	for i, v := range u8["fc.weight"].U8 {
		if v != wantMask[i] {
			t.Fatalf("mask %v, want %v", u8["fc.weight"].U8, wantMask)
		}
	}
	n.SetRequiresGrad(true)
	s := torch.NewScope()
	defer s.Close()
	logits, _ := n.Run(s, s.FromFloat32([]float32{1, 2, 3}, []int64{1, 1, 1, 3}, torch.CPUDevice), Forward{Mask: FixedMask})
	s.Backward(s.Sum(logits))
	g := s.Float32s(s.Grad(n.Params["fc.weight"]))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for i, v := range g {
		if (wantMask[i] == 0) != (v == 0) {
			t.Fatalf("weight grad %v with mask %v", g, wantMask)
		}
	}
	kept, _, _ := n.Kept()
	if kept != 0.5 {
		t.Fatalf("kept %v, want 0.5", kept)
	}
}

// TestForwardShapes runs every model of the project on a small batch.
func TestForwardShapes(t *testing.T) {
	for _, c := range []struct{ model, dataset string }{{"mlp", "cmnist"}, {"cnn", "cmnist"}, {"resnet18", "cifar10c"}} {
		t.Run(c.model, func(t *testing.T) {
			a, err := arch.ForRun(c.model, c.dataset, false)
			if err != nil {
				t.Fatal(err)
			}
			n := newNet(t, a, 0)
			s := torch.NewNoGradScope()
			defer s.Close()
			x := s.Zeros([]int64{2, int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2])}, torch.Float32, torch.CPUDevice)
			logits, feat := n.Run(s, x, Forward{})
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if sh := logits.Shape(); sh[0] != 2 || sh[1] != int64(a.Classes) {
				t.Fatalf("logits %v", sh)
			}
			if sh := feat.Shape(); len(sh) != 2 {
				t.Fatalf("features %v, want [N, D]", sh)
			}
		})
	}
}

// TestTorchvisionResNet18 loads a state_dict saved from torchvision's own ResNet-18 (what
// --pretrained takes) and requires torchvision's eval-mode features and logits: parameter
// names, layer order, padding and BatchNorm statistics must all agree.
func TestTorchvisionResNet18(t *testing.T) {
	dir := t.TempDir()
	weights, io := filepath.Join(dir, "resnet18.safetensors"), filepath.Join(dir, "io.safetensors")
	out, err := exec.Command(pyoracle.Torch(), "testdata/torchvision_resnet18.py", weights, io).CombinedOutput()
	if err != nil {
		t.Fatalf("torchvision (python3-torchvision, installed by tools/setup.sh): %v\n%s", err, out)
	}
	ts, err := tensor.ReadWeights(weights)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := tensor.ReadFile(io)
	if err != nil {
		t.Fatal(err)
	}
	n := newNet(t, arch.ResNet18(arch.Options{Input: [3]int{3, 64, 64}, Classes: 1000}), 0)
	if skipped, err := n.Load(ts, false); err != nil || len(skipped) > 0 {
		t.Fatalf("load: skipped %v, %v", skipped, err)
	}
	s := torch.NewNoGradScope()
	defer s.Close()
	logits, feat := n.Run(s, s.FromFloat32(want["x"].F32, []int64{2, 3, 64, 64}, torch.CPUDevice), Forward{})
	for name, got := range map[string][]float32{"features": s.Float32s(feat), "logits": s.Float32s(logits)} {
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		w := want[name].F32
		if len(got) != len(w) {
			t.Fatalf("%s: %d values, torchvision %d", name, len(got), len(w))
		}
		for i := range w {
			if math.Abs(float64(got[i]-w[i])) > 1e-4*(1+math.Abs(float64(w[i]))) {
				t.Fatalf("%s[%d] = %v, torchvision %v", name, i, got[i], w[i])
			}
		}
	}
}

// TestEveryOpRuns runs the probe network of every arch op through libtorch, in eval mode
// against the float64 reference forward of the same parameters, and once in train mode,
// so an op the trainer lacks fails here by name.
func TestEveryOpRuns(t *testing.T) {
	for _, op := range arch.Ops() {
		t.Run(string(op), func(t *testing.T) {
			a, err := arch.Probe(op)
			if err != nil {
				t.Fatal(err)
			}
			n := newNet(t, a, 0)
			fx := exportfixture.ForArch(a, exportfixture.Spec{Seed: 5})
			if _, err := n.Load(fx.Params, false); err != nil {
				t.Fatal(err)
			}
			const batch = 2
			x := exportfixture.Input(a, batch, 6)
			want, err := exportfixture.Forward(a, fx.Params, x, batch)
			if err != nil {
				t.Fatalf("reference forward: %v", err)
			}
			s := torch.NewNoGradScope()
			defer s.Close()
			xt := s.FromFloat32(x, []int64{batch, int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2])}, torch.CPUDevice)
			logits, _ := n.Run(s, xt, Forward{})
			got := s.Float32s(logits)
			n.Run(s, xt, Forward{Train: true})
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			for i, row := range want {
				for j, v := range row {
					if d := math.Abs(v - float64(got[i*a.Classes+j])); d > 1e-4 {
						t.Fatalf("logit [%d][%d] = %g, reference %g", i, j, got[i*a.Classes+j], v)
					}
				}
			}
		})
	}
}

// newNet builds a on the CPU with seed, closed when the test ends.
func newNet(t *testing.T, a *arch.Arch, seed uint64) *Net {
	t.Helper()
	n, err := New(a, torch.CPUDevice, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// TestUnfilledIsWhatLoadSkips: what Unfilled reports of a file before a network exists is
// what a partial Load skips (a head of another class count, a weight of another shape, a
// tensor that is not float32), and Load fills the rest.
func TestUnfilledIsWhatLoadSkips(t *testing.T) {
	a := arch.ResNet18(arch.Options{Input: [3]int{3, 32, 32}, Classes: 10})
	ts, err := newNet(t, a, 1).Export()
	if err != nil {
		t.Fatal(err)
	}
	delete(ts, "fc.bias")
	ts["fc.weight"] = tensor.F32(make([]float32, 1000*512), 1000, 512)
	ts["conv1.weight"] = tensor.U8(make([]uint8, ts["conv1.weight"].Numel()), ts["conv1.weight"].Shape...)
	want := []string{"conv1.weight", "fc.weight", "fc.bias"}
	if got := Unfilled(a, ts); !slices.Equal(got, want) {
		t.Errorf("Unfilled = %v, want %v", got, want)
	}
	n := newNet(t, a, 2)
	skipped, err := n.Load(ts, true)
	if err != nil || !slices.Equal(skipped, want) {
		t.Fatalf("Load skipped %v (%v), want %v", skipped, err, want)
	}
	got, err := n.Export()
	if err != nil {
		t.Fatal(err)
	}
	if w := "layer1.0.conv1.weight"; !slices.Equal(got[w].F32, ts[w].F32) {
		t.Errorf("%s not loaded", w)
	}
}
