package eval

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// exports writes the dense, sparse and compact exports of a pruned fixture
// network and returns their paths by format.
func exports(t *testing.T, s exportfixture.Spec) map[exporter.Format]string {
	t.Helper()
	net, err := exportfixture.Network(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := map[exporter.Format]string{}
	for _, f := range exporter.Formats() {
		m, _, err := exporter.ExportNetwork(s.Config(), net, exporter.Options{Format: f, Source: "fixture"})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, string(f)+".onnx")
		if _, err := exporter.WriteFile(p, m); err != nil {
			t.Fatal(err)
		}
		out[f] = p
	}
	return out
}

// randomSplit is an in-memory cmnist-shaped test split of random images.
func randomSplit(n int) *dataset.Split {
	rng := rand.New(rand.NewPCG(3, 4))
	s := &dataset.Split{Dataset: "cmnist", Name: "test", C: 3, H: 28, W: 28, Classes: 10,
		Images: make([]uint8, n*3*28*28), Labels: make([]int32, n), Bias: make([]int32, n)}
	for i := range s.Images {
		s.Images[i] = uint8(rng.IntN(256))
	}
	for i := 0; i < n; i++ {
		s.Labels[i], s.Bias[i] = int32(rng.IntN(10)), int32(rng.IntN(10))
	}
	return s
}

// The exporter's dense, sparse and compact forms of one pruned network agree
// in outputs and non-zero parameters; compare flags the structural change
// unless told to allow it; Evaluate predicts identically on all three.
func TestExporterForms(t *testing.T) {
	for _, spec := range []exportfixture.Spec{
		{Model: "mlp", Seed: 5, Keep: 0.3, DeadRows: 0.3},
		{Model: "cnn", Seed: 6, Keep: 0.4, DeadRows: 0.25, DeadCols: 0.1},
	} {
		t.Run(spec.Model, func(t *testing.T) {
			files := exports(t, spec)
			split := randomSplit(48)
			for _, f := range exporter.Formats() {
				if f == exporter.Dense {
					continue // the baseline
				}
				strict, err := Compare(CompareOptions{Baseline: files[exporter.Dense], Candidate: files[f], SplitData: split, Samples: 48})
				if err != nil {
					t.Fatal(err)
				}
				if strict.Pass || !strict.StructureChanged || strict.OutputsDiffer {
					t.Errorf("dense vs %s strict: pass %v structure %v outputs %v %+v", f, strict.Pass, strict.StructureChanged, strict.OutputsDiffer, strict.Outputs)
				}
				loose, err := Compare(CompareOptions{Baseline: files[exporter.Dense], Candidate: files[f], AllowStructureChange: true, Samples: 48, Batch: 16})
				if err != nil {
					t.Fatal(err)
				}
				if agree := loose.Outputs[0].ArgmaxAgree; !loose.Pass || agree == nil || *agree != 1 {
					t.Errorf("dense vs %s allowed: pass %v %+v", f, loose.Pass, loose.Outputs)
				}
				if loose.CandidateParams.Nonzero != loose.BaselineParams.Nonzero && f == exporter.Sparse {
					t.Errorf("sparse non-zero %d != dense %d", loose.CandidateParams.Nonzero, loose.BaselineParams.Nonzero)
				}
				if f == exporter.Compact && loose.CandidateParams.Total >= loose.BaselineParams.Total {
					t.Errorf("compact total %d not below dense %d", loose.CandidateParams.Total, loose.BaselineParams.Total)
				}
			}
			var preds [][]int32
			formats := exporter.Formats()
			for _, f := range formats {
				r, err := Evaluate(Options{Model: files[f], SplitData: split, Batches: []int{16}, Warmup: -1})
				if err != nil {
					t.Fatal(err)
				}
				s, _ := OpenSession(files[f], ort.Options{})
				p, _, err := Predict(s, split, 20)
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				if r.Accuracy.Samples != 48 || r.ParamsNonzero == 0 {
					t.Errorf("%s: %+v", f, r)
				}
				preds = append(preds, p)
			}
			for k := 1; k < len(preds); k++ {
				for i := range preds[0] {
					if preds[k][i] != preds[0][i] {
						t.Fatalf("%s predicts %d for sample %d, dense %d", formats[k], preds[k][i], i, preds[0][i])
					}
				}
			}
		})
	}
}
