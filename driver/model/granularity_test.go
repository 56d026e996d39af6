package model

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/driver/torch"
	fixture "github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// granNet builds model on cmnist at granularity g, with scores of alternating sign per
// score (so each layer keeps some units and prunes others) and the fixed masks they give.
func granNet(t *testing.T, model string, g arch.Granularity) (*Net, map[string]tensor.Tensor) {
	t.Helper()
	a, err := arch.ForRun(model, "cmnist", false)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = a.WithGranularity(g); err != nil {
		t.Fatal(err)
	}
	n := newNet(t, a, 5)
	if err := n.InitScores(0); err != nil {
		t.Fatal(err)
	}
	for _, p := range a.MaskedParams() {
		v := make([]float32, p.ScoreNumel())
		for i := range v {
			v[i] = float32(i%3) - 0.5 // kept, kept, pruned, ...
		}
		if err := CopyInto(n.Scores[p.Name], v, p.ScoreShape); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := n.FixMasks()
	if err != nil {
		t.Fatal(err)
	}
	return n, ms
}

// TestMaskedForwardIsExportersNetwork holds the trainer's fixed-mask forward (eval mode) to
// the float64 reference forward of the network the exporter builds from the same weights and
// mask file (rundir.Network.Folded): the two read the granularity from the arch, and a
// channel mask gates a unit's bias and BatchNorm affine in both.
func TestMaskedForwardIsExportersNetwork(t *testing.T) {
	for _, model := range []string{"mlp", "cnn"} {
		for _, g := range arch.Granularities {
			t.Run(fmt.Sprintf("%s %s", model, g), func(t *testing.T) {
				n, ms := granNet(t, model, g)
				ps, err := n.Export()
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range n.Arch.Params() { // non-trivial biases and statistics
					phase := map[arch.Kind]float64{arch.Bias: 1, arch.BNBias: 2, arch.RunningMean: 3}[p.Kind]
					for i := range ps[p.Name].F32 {
						if phase != 0 {
							ps[p.Name].F32[i] = 0.1 * float32(math.Sin(float64(i)+phase))
						}
					}
				}
				if _, err := n.Load(ps, false); err != nil {
					t.Fatal(err)
				}
				const batch = 3
				x := fixture.Input(n.Arch, batch, 7)
				net := &rundir.Network{Arch: n.Arch, Params: ps, Masks: ms}
				ref, err := fixture.Forward(n.Arch, net.Folded(), x, batch)
				if err != nil {
					t.Fatal(err)
				}
				s := torch.NewNoGradScope()
				defer s.Close()
				in := n.Arch.Input
				logits, _ := n.Run(s, s.FromFloat32(x, []int64{batch, int64(in[0]), int64(in[1]), int64(in[2])}, torch.CPUDevice), Forward{Mask: FixedMask})
				got := s.Float32s(logits)
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				var want []float32
				for _, row := range ref {
					for _, v := range row {
						want = append(want, float32(v))
					}
				}
				closeTo(t, "logits", got, want, 1e-5)
			})
		}
	}
}

// TestChannelScoresLearn: under channel granularity each score has its unit's shape, the
// sampled mask gates whole units, and every conv score gets a gradient from the loss in
// training mode. Gating only the conv's weights would leave none: the BatchNorm after it
// normalises a unit's scale away, so the mask reaches the loss through the affine it gates.
func TestChannelScoresLearn(t *testing.T) {
	n, _ := granNet(t, "cnn", arch.GranChannel)
	if err := n.InitScores(1.5); err != nil {
		t.Fatal(err)
	}
	for _, p := range n.Arch.MaskedParams() {
		want := []int64{int64(p.Shape[0]), 1, 1, 1}
		if p.Node == n.Arch.Output() {
			want = []int64{int64(p.Shape[0]), int64(p.Shape[1])}
		}
		if got := n.Scores[p.Name].Shape(); !slices.Equal(got, want) {
			t.Fatalf("score %s has shape %v, want %v", p.Name, got, want)
		}
	}
	got := trainPass(t, n, input(n.Arch, 8), SampleMask)
	norm := func(name string) float64 {
		s := 0.0
		for _, v := range got["grad score "+name] {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s)
	}
	head := norm(n.Arch.Output() + ".weight")
	for _, p := range n.Arch.MaskedParams() {
		// through the gated affine: of the head's order (0.3 to 7 times it here); through
		// the weights alone: about 1e-6 of it
		if g := norm(p.Name); !(g > 1e-2*head) || head == 0 {
			t.Errorf("score %s: gradient norm %.3g, the head's %.3g", p.Name, g, head)
		}
	}
}

// TestSetMasksRefusesSplitUnits: a weight-shaped mask that varies within a unit cannot come
// from one score per unit, and SetMasks says which.
func TestSetMasksRefusesSplitUnits(t *testing.T) {
	n, ms := granNet(t, "mlp", arch.GranChannel)
	if err := n.SetMasks(ms); err != nil {
		t.Fatalf("the masks FixMasks wrote: %v", err)
	}
	ms["fc2.weight"].U8[1] ^= 1
	if err := n.SetMasks(ms); err == nil {
		t.Fatal("SetMasks took a mask that splits a unit of fc2")
	}
}
