// Package evaltest makes test fixtures for the evaluator: a hand-made linear
// ONNX classifier whose predictions are known by construction, and a tiny
// cmnist-layout split for it. Only tests import it.
package evaltest

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/onnx"
)

// A hand-made linear classifier over 3x4x4 images whose
// prediction is known by construction, and a tiny cmnist-layout test split.
//
// Model: Flatten -> Gemm(W [classes,48], B, transB=1). W[c][c] = 1, so logit c
// is the red value of pixel c (channel 0, row-major) and the prediction is the
// position of the one lit pixel.

type LinearSpec struct {
	Classes  int     // default 10
	HW       int     // image side, default 4
	Batch    int     // fixed batch size; 0 = dynamic "N"
	Beta     float32 // Gemm beta attribute, default 1 (bias is zero, so beta changes nothing)
	Perturb  float32 // added to W[1][1]
	Sparse   bool    // W as a sparse initializer
	Rotate   bool    // logit c reads pixel c+1 (mod classes): every prediction moves one class on
	Producer string
	Meta     [][2]string // metadata_props, in order
}

// WriteLinear writes the linear model to dir/name and returns its path.
func WriteLinear(t testing.TB, dir, name string, sp LinearSpec) string {
	t.Helper()
	if sp.Classes == 0 {
		sp.Classes = 10
	}
	if sp.HW == 0 {
		sp.HW = 4
	}
	if sp.Beta == 0 {
		sp.Beta = 1
	}
	feat := 3 * sp.HW * sp.HW
	w := make([]float32, sp.Classes*feat)
	for c := 0; c < sp.Classes && c < feat; c++ {
		px := c
		if sp.Rotate {
			px = (c + 1) % sp.Classes
		}
		w[c*feat+px] = 1
	}
	w[1*feat+1] += sp.Perturb
	b := onnx.NewBuilder("linear", 13)
	if sp.Producer != "" {
		b.Producer(sp.Producer, "1")
	}
	for _, kv := range sp.Meta {
		b.Meta(kv[0], kv[1])
	}
	batch := onnx.P("N")
	if sp.Batch > 0 {
		batch = onnx.D(sp.Batch)
	}
	b.Input("x", []onnx.Dim{batch, onnx.D(3), onnx.D(sp.HW), onnx.D(sp.HW)})
	b.Output("logits", []onnx.Dim{batch, onnx.D(sp.Classes)})
	if sp.Sparse {
		b.Sparse("W", []int{sp.Classes, feat}, w)
	} else {
		b.Dense("W", []int{sp.Classes, feat}, w)
	}
	b.Dense("B", []int{sp.Classes}, make([]float32, sp.Classes))
	b.Node("Flatten", "flatten", []string{"x"}, []string{"flat"}, onnx.Int("axis", 1))
	b.Node("Gemm", "fc", []string{"flat", "W", "B"}, []string{"logits"}, onnx.Int("transB", 1), onnx.Float("beta", sp.Beta))
	return WriteModel(t, b, filepath.Join(dir, name))
}

// WriteModel builds b's model and writes it to path, failing the test on any error.
func WriteModel(t testing.TB, b *onnx.Builder, path string) string {
	t.Helper()
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	data, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Sample is one image of the split: its label, bias and the class the
// linear model predicts for it.
type Sample struct{ Label, Bias, Pred int }

// Samples: every (label, bias) cell of 10x10 holds two samples, one the
// model gets "biased" (predicts the bias) and one it gets right (predicts the
// label); except cell (0,1), empty, and cell (2,3), which holds only the biased
// sample. By construction:
//
//	samples 197, correct 20 (diagonal) + 88 (off-diagonal) = 108
//	aligned 1, conflicting (88*0.5 + 0)/89, worst-group 0
func Samples() []Sample {
	var s []Sample
	for l := 0; l < 10; l++ {
		for b := 0; b < 10; b++ {
			if l == 0 && b == 1 {
				continue
			}
			s = append(s, Sample{Label: l, Bias: b, Pred: b})
			if !(l == 2 && b == 3) {
				s = append(s, Sample{Label: l, Bias: b, Pred: l})
			}
		}
	}
	return s
}

// Correct counts the samples the linear model gets right (predicts the label).
func Correct(samples []Sample) int {
	n := 0
	for _, s := range samples {
		if s.Pred == s.Label {
			n++
		}
	}
	return n
}

// WriteFixture writes <root>/cmnist/test/<idx>_<label>_<bias>.png (4x4 RGB,
// one red pixel at position pred) and returns root.
func WriteFixture(t testing.TB, hw int) (string, []Sample) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "cmnist", "test", "0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	samples := Samples()
	for i, s := range samples {
		img := image.NewNRGBA(image.Rect(0, 0, hw, hw))
		for y := 0; y < hw; y++ {
			for x := 0; x < hw; x++ {
				img.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
		img.SetNRGBA(s.Pred%hw, s.Pred/hw, color.NRGBA{255, 0, 0, 255})
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%04d_%d_%d.png", i, s.Label, s.Bias)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return root, samples
}
