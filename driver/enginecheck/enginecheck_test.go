// Package enginecheck holds the tests that tie the two ends of the pipeline together: an
// exported graph, run in ONNX Runtime, must compute what the libtorch training engine
// computes for the same masked network, and dcwp-eval must count the same correct samples
// as the trainer did. They live here because only driver/ may link libtorch.
package enginecheck

import (
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/dataset/cmnist"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx/ort"
	"github.com/dcwp-go/dcwp/rundir"
)

const images = 1000

// colouredTest builds a small Colored MNIST from the real digits and loads its test split.
func colouredTest(t *testing.T) (root string, test *dataset.Split) {
	t.Helper()
	root = t.TempDir()
	_, err := cmnist.Build(cmnist.Options{Out: root, Shares: []dataset.Share{dataset.MustShare("1")}, TrainDigits: 3000, ValidSize: 500,
		TestDigits: images, Workers: 2}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if test, err = dataset.Load(root, "cmnist", dataset.Share{}, "test"); err != nil {
		t.Fatal(err)
	}
	return root, test
}

// engineLogits runs the network in libtorch with its fixed mask, in eval mode.
func engineLogits(t *testing.T, net *rundir.Network, x []float32, n int) []float32 {
	t.Helper()
	m, err := model.New(net.Arch, torch.Device{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Load(net.Params, false); err != nil {
		t.Fatal(err)
	}
	mode := model.NoMask
	if net.Masks != nil {
		if err := m.SetMasks(net.Masks); err != nil {
			t.Fatal(err)
		}
		mode = model.FixedMask
	}
	s := torch.NewNoGradScope()
	defer s.Close()
	in := net.Arch.Input
	xt := s.FromFloat32(x, []int64{int64(n), int64(in[0]), int64(in[1]), int64(in[2])}, torch.Device{})
	logits, _ := m.Run(s, xt, model.Forward{Mask: mode})
	out, err := logits.Float32s()
	if err != nil || s.Err() != nil {
		t.Fatalf("engine forward: %v %v", err, s.Err())
	}
	return out
}

func ortLogits(t *testing.T, m []byte, x []float32, n int, a *arch.Arch) []float32 {
	t.Helper()
	sess, err := ort.New(m, "input", "logits", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, _, err := sess.Run(x, int64(n), int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2]))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestExportMatchesEngine: for every model and format, ONNX Runtime on the export and
// libtorch on the run's network agree within 1e-4 on 1,000 inputs.
func TestExportMatchesEngine(t *testing.T) {
	_, test := colouredTest(t)
	cmnistX, _ := test.Batch(seq(images), false, nil)
	cases := []struct {
		spec exportfixture.Spec
		x    func(a *arch.Arch) []float32
	}{
		{exportfixture.Spec{Model: "mlp", Dataset: "cmnist", Seed: 1, Keep: 0.5, DeadRows: 0.3}, func(*arch.Arch) []float32 { return cmnistX }},
		{exportfixture.Spec{Model: "mlp", Dataset: "cmnist", Seed: 2, Keep: 0.5, AsCoded: true}, func(*arch.Arch) []float32 { return cmnistX }},
		{exportfixture.Spec{Model: "cnn", Dataset: "cmnist", Seed: 3, Keep: 0.3, DeadRows: 0.3}, func(*arch.Arch) []float32 { return cmnistX }},
		// No CIFAR10-C ships here: seeded pixels in [0, 1] stand in for its test images.
		{exportfixture.Spec{Model: "resnet18", Dataset: "cifar10c", Seed: 4, Keep: 0.5, DeadRows: 0.2}, func(a *arch.Arch) []float32 { return exportfixture.Input(a, images, 9) }},
	}
	for _, c := range cases {
		net, err := exportfixture.Network(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		x := c.x(net.Arch)
		want := engineLogits(t, net, x, images)
		for _, f := range exporter.Formats() {
			t.Run(fmt.Sprintf("%s/ascoded=%v/%s", c.spec.Model, c.spec.AsCoded, f), func(t *testing.T) {
				m, _, err := exporter.ExportNetwork(c.spec.Config(), net, exporter.Options{Which: rundir.DCWP, Format: f})
				if err != nil {
					t.Fatal(err)
				}
				b, err := exporter.Encode(m)
				if err != nil {
					t.Fatal(err)
				}
				d := maxAbsDiff(ortLogits(t, b, x, images, net.Arch), want)
				if d > 1e-4 {
					t.Fatalf("max |ORT - libtorch| = %.3g over %d images, want ≤ 1e-4", d, images)
				}
				t.Logf("max |ORT - libtorch| = %.3g over %d images", d, images)
			})
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
