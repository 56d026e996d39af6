package eval

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/evaltest"
)

func TestCompare(t *testing.T) {
	root, _ := evaltest.WriteFixture(t, 4)
	dir := t.TempDir()
	base := evaltest.WriteLinear(t, dir, "base.onnx", evaltest.LinearSpec{})
	same := evaltest.WriteLinear(t, dir, "same.onnx", evaltest.LinearSpec{})
	attr := evaltest.WriteLinear(t, dir, "attr.onnx", evaltest.LinearSpec{Beta: 0.5})        // Gemm beta: bias is 0, outputs equal
	shape := evaltest.WriteLinear(t, dir, "shape.onnx", evaltest.LinearSpec{Classes: 11})    // W [11,48], logits [N,11]
	far := evaltest.WriteLinear(t, dir, "far.onnx", evaltest.LinearSpec{Perturb: 1e-2})      // W[1][1] + 1e-2
	close := evaltest.WriteLinear(t, dir, "close.onnx", evaltest.LinearSpec{Perturb: 1e-6})  // within atol
	sparse := evaltest.WriteLinear(t, dir, "sparse.onnx", evaltest.LinearSpec{Sparse: true}) // compact export
	inputHW := evaltest.WriteLinear(t, dir, "input.onnx", evaltest.LinearSpec{HW: 5})        // other input shape

	cases := []struct {
		name          string
		cand          string
		allow, data   bool
		pass          bool
		structChanged bool
		outDiffer     bool
		mention       string // a structural change the report must list
	}{
		{"identical", same, false, false, true, false, false, ""},
		{"identical on real images", same, false, true, true, false, false, ""},
		{"attribute change", attr, false, false, false, true, false, "attr:beta"},
		{"attribute change allowed", attr, true, false, true, true, false, "attr:beta"},
		{"shape change", shape, false, false, false, true, true, "shape"},
		{"shape change allowed still fails on outputs", shape, true, false, false, true, true, "shape"},
		{"output change beyond atol", far, true, true, false, true, true, "sha256"},
		{"output change within atol", close, true, false, true, true, false, "sha256"},
		{"dense vs sparse", sparse, true, true, true, true, false, "sparse"},
		{"input shape change", inputHW, true, false, false, true, true, "shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := CompareOptions{Baseline: base, Candidate: c.cand, AllowStructureChange: c.allow, Samples: 100, Batch: 32}
			if c.data {
				o.Dataset, o.Data = "cmnist", root
			}
			r, err := Compare(o)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			r.WriteText(&sb)
			if r.Pass != c.pass || r.StructureChanged != c.structChanged || r.OutputsDiffer != c.outDiffer {
				t.Errorf("pass %v structure %v outputs %v, want %v %v %v\n%s", r.Pass, r.StructureChanged, r.OutputsDiffer,
					c.pass, c.structChanged, c.outDiffer, sb.String())
			}
			if c.mention != "" && !strings.Contains(sb.String(), c.mention) {
				t.Errorf("report does not mention %q:\n%s", c.mention, sb.String())
			}
			if r.Samples != 100 {
				t.Errorf("compared %d samples, want 100", r.Samples)
			}
			if c.name == "output change beyond atol" {
				d := r.Outputs[0]
				if d.MaxAbs < 0.9e-2 || d.MaxAbs > 1.1e-2 || d.Exceeding == 0 {
					t.Errorf("far: %+v", d)
				}
			}
			if c.name == "dense vs sparse" && (r.BaselineParams != r.CandidateParams || r.CandidateParams.Nonzero != 10) {
				t.Errorf("params %+v vs %+v", r.BaselineParams, r.CandidateParams)
			}
		})
	}
}

// A candidate that never predicts what the baseline does: 0 % agreement is a result, shown
// in the text and written to JSON, not left out as if the output had no classes.
func TestCompareZeroAgreement(t *testing.T) {
	dir := t.TempDir()
	base := evaltest.WriteLinear(t, dir, "base.onnx", evaltest.LinearSpec{})
	rotated := evaltest.WriteLinear(t, dir, "rotated.onnx", evaltest.LinearSpec{Rotate: true})
	r, err := Compare(CompareOptions{Baseline: base, Candidate: rotated, AllowStructureChange: true, Samples: 64, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Outputs[0].ArgmaxAgree; a == nil || *a != 0 || r.Pass {
		t.Fatalf("argmax agreement %v, pass %v; want 0 and a failure", a, r.Pass)
	}
	var sb strings.Builder
	r.WriteText(&sb)
	if !strings.Contains(sb.String(), "argmax agreement 0.00%") {
		t.Errorf("text lacks the 0 %% agreement:\n%s", sb.String())
	}
	p := filepath.Join(dir, "compare.json")
	if err := r.WriteJSON(p); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Outputs []map[string]any `json:"outputs"`
	}
	if err := atomicfile.ReadJSON(p, &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back.Outputs[0]["argmax_agreement"]; !ok || v != 0.0 {
		t.Errorf("JSON argmax_agreement = %v (present %v), want 0", v, ok)
	}
}
