package exporter

import (
	"fmt"
	fixture "github.com/dcwp-go/dcwp/internal/exportfixture"
	"math"
	"strings"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// runOnnxGo runs a model with onnx-go v0.5.0's gorgonnx backend; panics inside onnx-go or
// gorgonia become errors.
func runOnnxGo(model []byte, x []float32, shape ...int) (out []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	backend := gorgonnx.NewGraph()
	m := onnxgo.NewModel(backend)
	if err := m.UnmarshalBinary(model); err != nil {
		return nil, fmt.Errorf("onnx-go load: %w", err)
	}
	in := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32), tensor.WithBacking(append([]float32(nil), x...)))
	if err := m.SetInput(0, in); err != nil {
		return nil, fmt.Errorf("onnx-go input: %w", err)
	}
	if err := backend.Run(); err != nil {
		return nil, fmt.Errorf("onnx-go run: %w", err)
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		return nil, fmt.Errorf("onnx-go output: %w", err)
	}
	d, ok := outs[0].Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("onnx-go output of type %T", outs[0].Data())
	}
	return d, nil
}

// TestOnnxGoMatchesORT loads the dense mlp and cnn exports in onnx-go (gorgonnx) and
// compares its logits with ONNX Runtime's; the ResNet-18 dense export runs too when
// exported with OnnxGoCompat (onnx-go rejects an explicit MaxPool dilations attribute).
// Linking onnx-go (gogo protobuf, proto package "onnx") together with our onnxpb (proto
// package "dcwponnx") in this test binary also shows that the two register no
// conflicting protobuf names: a conflict would panic at init.
func TestOnnxGoMatchesORT(t *testing.T) {
	check := func(t *testing.T, model []byte, x []float32, n int, in [3]int) {
		want := runORT(t, model, x, int64(n), int64(in[0]), int64(in[1]), int64(in[2]))
		got, err := runOnnxGo(model, x, n, in[0], in[1], in[2])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("onnx-go gives %d values, ORT %d", len(got), len(want))
		}
		d := 0.0
		for i := range got {
			d = math.Max(d, math.Abs(float64(got[i]-want[i])))
		}
		t.Logf("max |onnx-go - ORT| = %.2e", d)
		if d > 1e-4 {
			t.Fatalf("onnx-go and ORT differ by %.3g > 1e-4", d)
		}
	}
	for _, s := range specs[:3] { // mlp 50 %, mlp 10 %, cnn
		b := get(t, s)
		t.Run(s.Name(), func(t *testing.T) { check(t, b.model[Dense], b.x, b.n, b.net.Arch.Input) })
	}
	for _, s := range []fixture.Spec{specs[0], specs[2], specs[8], specs[9]} { // compact, weight and channel masks
		b := get(t, s)
		t.Run(s.Name()+"-compact", func(t *testing.T) { check(t, b.model[Compact], b.x, b.n, b.net.Arch.Input) })
	}
	t.Run("resnet18-compat", func(t *testing.T) {
		b := get(t, specs[3])
		m, _, err := ExportNetwork(b.spec.Config(), b.net, Options{OnnxGoCompat: true})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := Encode(m)
		check(t, data, b.x[:len(b.x)/b.n], 1, b.net.Arch.Input)
	})
}

// TestOnnxGoLimits pins down what onnx-go v0.5.0 cannot run, so a change shows up.
func TestOnnxGoLimits(t *testing.T) {
	mlp, cnn, res := get(t, specs[0]), get(t, specs[2]), get(t, specs[3])
	cases := []struct {
		name  string
		b     *built
		model []byte
		want  string
	}{
		// sparse_initializer is ignored: the Gemm weight is an input without a value.
		{"sparse mlp", mlp, mlp.model[Sparse], "Type inference error"},
		{"sparse cnn", cnn, cnn.model[Sparse], "panicked"},
		// any dilations attribute on MaxPool, even the default [1 1].
		{"dense resnet18 (MaxPool dilations)", res, res.model[Dense], "dilation not implemented"},
	}
	for _, c := range cases {
		in := c.b.net.Arch.Input
		_, err := runOnnxGo(c.model, c.b.x[:len(c.b.x)/c.b.n], 1, in[0], in[1], in[2])
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: onnx-go error %v, want one containing %q", c.name, err, c.want)
		} else {
			t.Logf("%s: %.160s", c.name, err)
		}
	}
}
