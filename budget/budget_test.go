package budget

import (
	"maps"
	"math"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/tensor"
)

// tiny is flatten → fc1 (4→3) → relu → fc (3→2): fc1 weights cost 2 FLOPs each (24 in all),
// the head's 2 each (12), 36 in all.
func tiny(g arch.Granularity) *arch.Arch {
	a := &arch.Arch{Name: "tiny", Input: [3]int{1, 2, 2}, Classes: 2, Feature: "relu", Granularity: g, Nodes: []arch.Node{
		{Name: "flatten", Op: arch.OpFlatten, Inputs: []string{arch.Input}},
		{Name: "fc1", Op: arch.OpLinear, Inputs: []string{"flatten"}, In: 4, Out: 3, Bias: true},
		{Name: "relu", Op: arch.OpReLU, Inputs: []string{"fc1"}},
		{Name: "fc", Op: arch.OpLinear, Inputs: []string{"relu"}, In: 3, Out: 2, Bias: true},
	}}
	return a
}

func TestThreshold(t *testing.T) {
	head := []float32{0.9, 0.8, 0.7, -1, 0.6, 0.5} // 2 FLOPs each
	cases := []struct {
		name   string
		g      arch.Granularity
		fc1    []float32
		target float64
		want   float64 // threshold; the kept share follows
		share  float64
	}{
		// one score per unit of fc1: a unit costs 8 FLOPs; units 0.95 and 0.3 kept by Θ ≥ 0
		{"channel within budget", arch.GranChannel, []float32{0.95, -0.2, 0.3}, 1, 0, (16 + 10.0) / 36},
		{"channel cut", arch.GranChannel, []float32{0.95, -0.2, 0.3}, 0.5, math.Nextafter(float64(float32(0.3)), 1), (8 + 10.0) / 36},
		{"channel nothing fits", arch.GranChannel, []float32{0.95, -0.2, 0.3}, 0.01, math.Nextafter(float64(float32(0.95)), 2), 0},
		// one score per weight: 2 FLOPs each
		{"weight cut", arch.GranWeight, []float32{1, 1, 1, 1, 0.2, 0.2, 0.2, 0.2, -1, -1, -1, -1}, 0.5, math.Nextafter(float64(float32(0.2)), 1), 18.0 / 36},
		// budget 1 is no cut: the mask is the objective's own, 1[Θ ≥ 0] (a sweep's 100 % point)
		{"weight, budget 1", arch.GranWeight, []float32{1, 1, 1, 1, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 0}, 1, 0, (24 + 10.0) / 36},
		{"ties dropped together", arch.GranWeight, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1}, 0.25, math.Nextafter(1, 2), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := tiny(c.g)
			ps := a.MaskedParams()
			sc := map[string]tensor.Tensor{
				"fc1.weight": tensor.F32(c.fc1, ps[0].ScoreShape...),
				"fc.weight":  tensor.F32(head, ps[1].ScoreShape...),
			}
			got, err := Threshold(a, sc, c.target)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("threshold %v, want %v", got, c.want)
			}
			masks := map[string]tensor.Tensor{}
			for _, p := range ps {
				u := make([]uint8, p.Numel())
				per := p.Numel() / p.ScoreNumel()
				for i := range u {
					if float64(sc[p.Name].F32[i/per]) >= got {
						u[i] = 1
					}
				}
				masks[p.Name] = tensor.U8(u, p.Shape...)
			}
			share, err := Share(a, masks)
			if err != nil {
				t.Fatal(err)
			}
			if share > c.target || math.Abs(share-c.share) > 1e-12 {
				t.Fatalf("kept share %v, want %v (budget %v)", share, c.share, c.target)
			}
		})
	}
}

func TestThresholdRefuses(t *testing.T) {
	a := tiny(arch.GranWeight)
	for _, target := range []float64{0, -0.5, 1.5, math.NaN()} {
		if _, err := Threshold(a, nil, target); err == nil {
			t.Errorf("budget %v taken", target)
		}
	}
	if _, err := Threshold(a, map[string]tensor.Tensor{"fc1.weight": tensor.F32(make([]float32, 3), 3, 1)}, 0.5); err == nil {
		t.Error("scores of the wrong size taken")
	}
}

func TestDenseCountsConvPositions(t *testing.T) {
	a, err := arch.ForRun("cnn", "cmnist", false)
	if err != nil {
		t.Fatal(err)
	}
	// 28 → 14 → 7 → 3 positions per side: 2·(3·64·16·196 + 64·128·16·49 + 128·256·16·9 + 256·10)
	want := 2.0 * (3*64*16*196 + 64*128*16*49 + 128*256*16*9 + 256*10)
	if got, err := Dense(a); err != nil || got != want {
		t.Fatalf("dense FLOPs %v (%v), want %v", got, err, want)
	}
}

func TestShareRefuses(t *testing.T) {
	a := tiny(arch.GranWeight)
	ok := map[string]tensor.Tensor{"fc1.weight": tensor.U8(make([]uint8, 12), 3, 4), "fc.weight": tensor.U8(make([]uint8, 6), 2, 3)}
	for _, c := range []struct {
		name string
		edit func(map[string]tensor.Tensor)
		want string
	}{
		{"missing", func(m map[string]tensor.Tensor) { delete(m, "fc.weight") }, "mask for fc.weight missing or of the wrong size"},
		{"short", func(m map[string]tensor.Tensor) { m["fc1.weight"] = tensor.U8(make([]uint8, 11), 11) }, "mask for fc1.weight missing or of the wrong size"},
		{"float32", func(m map[string]tensor.Tensor) { m["fc1.weight"] = tensor.F32(make([]float32, 12), 3, 4) }, "mask for fc1.weight is not uint8"},
	} {
		m := maps.Clone(ok)
		c.edit(m)
		if _, err := Share(a, m); err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
