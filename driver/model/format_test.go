package model

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/driver/torch"
)

// pass is what one forward/backward of a network gives: logits, features and the gradient of
// every tensor that trains (weights, or the scores when pruning).
type pass map[string][]float32

// trainPass runs one training forward of n on x with mask mode m and backpropagates
// Σ logits² + Σ features, so every logit and feature reaches the gradients.
func trainPass(t *testing.T, n *Net, x []float32, m MaskMode) pass {
	t.Helper()
	if m != SampleMask {
		if err := n.SetRequiresGrad(true); err != nil {
			t.Fatal(err)
		}
	}
	gen, err := torch.NewGenerator(9)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	s := torch.NewScope()
	defer s.Close()
	in := n.Arch.Input
	xt := s.FromFloat32(x, []int64{int64(len(x) / (in[0] * in[1] * in[2])), int64(in[0]), int64(in[1]), int64(in[2])}, torch.CPUDevice)
	logits, feat := n.Run(s, xt, Forward{Train: true, Mask: m, Gen: gen, Tau: 1})
	s.Backward(s.Add(s.Sum(s.Square(logits)), s.Sum(feat)))
	out := pass{"logits": s.Float32s(logits), "features": s.Float32s(feat)}
	for _, name := range n.TrainableNames() {
		if g := s.Grad(n.Params[name]); g != nil {
			out["grad "+name] = s.Float32s(g)
		}
	}
	for name, sc := range n.Scores {
		if g := s.Grad(sc); g != nil {
			out["grad score "+name] = s.Float32s(g)
		}
	}
	for _, v := range []*torch.Tensor{logits, feat} {
		if dt := v.DType(); dt != torch.Float32 {
			t.Fatalf("forward gives %v, want float32 for the losses", dt)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// netFor builds the table's network with options o, scores at 0.3 and fixed masks from
// scores that vary, so each mask mode has something to mask.
func netFor(t *testing.T, a *arch.Arch, o Options) *Net {
	t.Helper()
	n, err := NewWith(a, torch.CPUDevice, 4, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	if err := n.InitScores(0.3); err != nil {
		t.Fatal(err)
	}
	for _, p := range a.MaskedParams() {
		v := make([]float32, p.Numel())
		for i := range v {
			v[i] = float32(i%5) - 1.5
		}
		if err := CopyInto(n.Scores[p.Name], v, p.Shape); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.FixMasks(); err != nil {
		t.Fatal(err)
	}
	if err := n.InitScores(0.3); err != nil { // sampled masks start from uniform scores again
		t.Fatal(err)
	}
	return n
}

func input(a *arch.Arch, batch int) []float32 {
	x := make([]float32, batch*a.Input[0]*a.Input[1]*a.Input[2])
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	return x
}

// closeTo fails unless got and want agree within tol: ‖got − want‖ ≤ tol·‖want‖ (L2 over
// the tensor: rounding spreads over its elements, a wrong layout or cast would not).
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var d, w float64
	for i := range want {
		d += math.Pow(float64(got[i]-want[i]), 2)
		w += math.Pow(float64(want[i]), 2)
	}
	if math.Sqrt(d) > tol*math.Sqrt(w) || math.IsNaN(d) {
		t.Fatalf("%s: relative error %.3g, tolerance %g (first values %v, want %v)", what, math.Sqrt(d/w), tol, got[:min(4, len(got))], want[:min(4, len(want))])
	}
}

type layoutCase struct {
	name  string
	arch  func() (*arch.Arch, error)
	mask  MaskMode
	batch int
}

// layoutCases: the cnn in every mask mode, and the probe network of every arch op, which
// covers resnet18's ops (max pool, residual add, global pool) at a fraction of its cost.
func layoutCases() []layoutCase {
	cnn := func() (*arch.Arch, error) { return arch.ForRun("cnn", "cmnist", false) }
	cs := []layoutCase{{"cnn", cnn, NoMask, 8}, {"cnn sampled mask", cnn, SampleMask, 8}, {"cnn fixed mask", cnn, FixedMask, 8}}
	for _, op := range arch.Ops() {
		cs = append(cs, layoutCase{"probe " + string(op), func() (*arch.Arch, error) { return arch.Probe(op) }, FixedMask, 8})
	}
	return cs
}

// TestChannelsLastMatchesContiguous holds the channels-last layout to the NCHW one: the same
// training forward and backward (weights, or the scores when pruning) within float32 rounding, since
// only the kernels' summation order differs; and the conv weights, their scores and masks
// really are channels-last, and export as the same logical values.
func TestChannelsLastMatchesContiguous(t *testing.T) {
	for _, c := range layoutCases() {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.arch()
			if err != nil {
				t.Fatal(err)
			}
			x := input(a, c.batch)
			want := trainPass(t, netFor(t, a, Options{}), x, c.mask)
			cl := netFor(t, a, Options{Format: torch.ChannelsLast})
			exp, err := cl.Export()
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := netFor(t, a, Options{}).Export()
			for k, w := range ref {
				if fmt.Sprint(exp[k].F32) != fmt.Sprint(w.F32) {
					t.Fatalf("channels-last %s exports other values than NCHW", k)
				}
			}
			for _, p := range a.MaskedParams() {
				if len(p.Shape) != 4 {
					continue
				}
				for what, m := range map[string]map[string]*torch.Tensor{"weight": cl.Params, "score": cl.Scores, "mask": cl.Masks} {
					if ok, err := m[p.Name].IsFormat(torch.ChannelsLast); err != nil || !ok {
						t.Fatalf("%s %s is not channels-last (%v)", what, p.Name, err)
					}
				}
			}
			got := trainPass(t, cl, x, c.mask)
			if len(got) != len(want) {
				t.Fatalf("%d results, NCHW %d", len(got), len(want))
			}
			for k, w := range want {
				closeTo(t, k, got[k], w, 1e-5)
			}
		})
	}
}

// TestBF16Forward runs the cnn under bf16 autocast: float32 logits, features and gradients
// that follow float32's within bfloat16's rounding (8 bits of mantissa, compounded over the
// layers), on the contiguous and the channels-last layout, in every mask mode.
func TestBF16Forward(t *testing.T) {
	for _, c := range layoutCases()[:3] {
		for _, f := range []torch.MemoryFormat{torch.Contiguous, torch.ChannelsLast} {
			t.Run(fmt.Sprintf("%s %v", c.name, f), func(t *testing.T) {
				a, err := c.arch()
				if err != nil {
					t.Fatal(err)
				}
				x := input(a, c.batch)
				want := trainPass(t, netFor(t, a, Options{}), x, c.mask)
				got := trainPass(t, netFor(t, a, Options{Precision: BF16, Format: f}), x, c.mask)
				same := true
				for k, w := range want {
					// logits and features within a few bf16 roundings; gradients also cross
					// BatchNorm's backward, whose mean subtraction cancels most of them,
					// leaving relative errors of 10-20 %: held to pointing the same way
					tol := 0.05
					if strings.HasPrefix(k, "grad") {
						tol = 0.3
					}
					closeTo(t, k, got[k], w, tol)
					for i := range w {
						same = same && got[k][i] == w[i]
					}
				}
				if same {
					t.Fatal("bf16 gave float32's results bit for bit: autocast did not engage")
				}
			})
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want torch.MemoryFormat
		ok   bool
	}{{"", torch.Contiguous, true}, {"contiguous", torch.Contiguous, true}, {"channels-last", torch.ChannelsLast, true}, {"nhwc", torch.ChannelsLast, true}, {"cl", 0, false}} {
		f, err := ParseMemoryFormat(c.in)
		if (err == nil) != c.ok || f != c.want {
			t.Errorf("ParseMemoryFormat(%q) = %v, %v", c.in, f, err)
		}
	}
	if _, err := NewWith(tiny(), torch.CPUDevice, 0, Options{Precision: "fp8"}); err == nil {
		t.Error("NewWith took precision fp8")
	}
}
