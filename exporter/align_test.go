package exporter

import (
	"math"
	"testing"
)

// TestAlignPadsWithoutChangingOutputs: a compact export padded to multiples of n has every
// shrunk convolution at a multiple of n channels (or its arch count), keeps the unpadded
// export's units otherwise (Gemm layers too), and computes the same logits in ONNX Runtime.
func TestAlignPadsWithoutChangingOutputs(t *testing.T) {
	for _, s := range specs {
		b := get(t, s)
		a := b.net.Arch
		for _, n := range []int{8, 16, 5} {
			m, st, err := ExportNetwork(s.Config(), b.net, Options{Format: Compact, Source: "fixture", ChannelMultiple: n})
			if err != nil {
				t.Fatalf("%s ×%d: %v", s.Name(), n, err)
			}
			for i, l := range st.Layers {
				u := b.stats[Compact].Layers[i].Units
				switch {
				case l.Op != "Conv" && l.Units != u:
					t.Errorf("%s ×%d %s: %d units, compact kept %d: want a %s left as it is", s.Name(), n, l.Name, l.Units, u, l.Op)
				case l.Op != "Conv":
				case u == l.UnitsOrig && l.Units != u:
					t.Errorf("%s ×%d %s: %d units, compact kept all %d: want them untouched", s.Name(), n, l.Name, l.Units, u)
				case u != l.UnitsOrig && l.Units != min((u+n-1)/n*n, l.UnitsOrig):
					t.Errorf("%s ×%d %s: %d units from %d of %d, want the next multiple of %d", s.Name(), n, l.Name, l.Units, u, l.UnitsOrig, n)
				}
			}
			if st.ParamsNonZero != b.stats[Compact].ParamsNonZero {
				t.Errorf("%s ×%d: %d non-zero params, unpadded %d: padding adds only zeros", s.Name(), n, st.ParamsNonZero, b.stats[Compact].ParamsNonZero)
			}
			data, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			y := runORT(t, data, b.x, int64(b.n), int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2]))
			if d := maxDiff(b.ref, y); d > 1e-4 || math.IsNaN(d) {
				t.Errorf("%s ×%d: max |ORT - reference| %.3g > 1e-4", s.Name(), n, d)
			}
		}
	}
}

func TestAlignRefusesOtherFormats(t *testing.T) {
	b := get(t, specs[0])
	for _, o := range []Options{{Format: Dense, ChannelMultiple: 8}, {Format: Sparse, ChannelMultiple: 2}, {Format: Compact, ChannelMultiple: -1}} {
		if _, _, err := ExportNetwork(b.spec.Config(), b.net, o); err == nil {
			t.Errorf("%+v: exported, want a refusal", o)
		}
	}
	for _, o := range []Options{{Format: Dense, ChannelMultiple: 1}, {Format: Compact}} {
		if _, _, err := ExportNetwork(b.spec.Config(), b.net, o); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
