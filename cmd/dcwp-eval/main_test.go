package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
)

func TestCLI(t *testing.T) {
	root, samples := evaltest.WriteFixture(t, 4)
	dir := t.TempDir()
	model := evaltest.WriteLinear(t, dir, "model.onnx", evaltest.LinearSpec{})
	sparse := evaltest.WriteLinear(t, dir, "sparse.onnx", evaltest.LinearSpec{Sparse: true})
	far := evaltest.WriteLinear(t, dir, "far.onnx", evaltest.LinearSpec{Perturb: 0.1})
	rotated := evaltest.WriteLinear(t, dir, "rotated.onnx", evaltest.LinearSpec{Rotate: true})
	junk := filepath.Join(dir, "junk.onnx")
	os.WriteFile(junk, []byte("junk"), 0o644)
	report := filepath.Join(dir, "out", "report.json")
	os.MkdirAll(filepath.Dir(report), 0o755)
	cmpJSON := filepath.Join(dir, "out", "compare.json")
	manifest := writeManifest(t, root, dir)

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{"help", []string{"--help"}, 0, "--allow-structure-change", ""},
		{"version", []string{"--version"}, 0, "dcwp-eval version", ""},
		{"evaluate", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--batch", "64,1", "--threads", "1", "--json", report}, 0, "worst-group accuracy", ""},
		{"no model", []string{"--dataset", "cmnist", "--data", root}, 2, "", "--model is required"},
		{"unknown flag", []string{"--frobnicate"}, 2, "", "frobnicate"},
		{"bad batch", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--batch", "64,x"}, 2, "", `"x" is not a positive integer`},
		{"junk model", []string{"--model", junk, "--dataset", "cmnist", "--data", root}, 2, "", junk},
		{"missing data", []string{"--model", model, "--dataset", "cmnist", "--data", filepath.Join(dir, "nodata")}, 2, "", "nodata does not exist"},
		{"bad pct", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--pct", "1_0"}, 2, "", `--conflict-pct: conflict share "1_0"`},
		{"conflict-pct as dcwp-train names it", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--conflict-pct", "1_0"}, 2, "", `--conflict-pct: conflict share "1_0"`},
		{"pct for celeba", []string{"--model", model, "--dataset", "celeba", "--data", root, "--pct", "1"}, 2, "", "--conflict-pct 1: dataset celeba is not chosen by a conflict share"},
		{"pct spelled as the folder", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--pct", "1pct", "--split", "test", "--threads", "1"}, 0, "worst-group accuracy", ""},
		{"bench bad pct", []string{"bench", "-m", model, "--dataset", "cmnist", "--data", root, "--pct", "NaN"}, 2, "", `conflict share "NaN"`},
		{"cuda unavailable", []string{"--model", model, "--dataset", "cmnist", "--data", root, "--provider", "cuda"}, 2, "", "--provider cuda"},
		{"compare identical", []string{"compare", "--baseline", model, "--candidate", model}, 0, "PASS", ""},
		{"compare dense vs sparse", []string{"compare", "-a", model, "-b", sparse, "--dataset", "cmnist", "--data", root, "--allow-structure-change", "--json", cmpJSON}, 0, "(allowed)", ""},
		{"compare dense vs sparse strict", []string{"compare", "-a", model, "-b", sparse}, 1, "structure changed", "differ"},
		{"compare outputs differ", []string{"compare", "-a", model, "-b", far, "--allow-structure-change"}, 1, "outputs differ", ""},
		{"compare never agrees", []string{"compare", "-a", model, "-b", rotated}, 1, "argmax agreement 0.00%", "differ"},
		{"compare missing candidate", []string{"compare", "-a", model}, 2, "", "--candidate are required"},
		{"bench", []string{"bench", "-m", model, "-m", sparse, "--batch", "1,8", "--runs", "3", "--warmup", "1"}, 0, "samples/s", ""},
		// a CSV manifest is data to compare and bench as to plain dcwp-eval
		{"evaluate a manifest", []string{"--model", model, "--dataset", "folder", "--data", manifest}, 0, "worst-group accuracy", ""},
		{"compare on a manifest", []string{"compare", "-a", model, "-b", sparse, "--dataset", "folder", "--data", manifest, "--allow-structure-change"}, 0, "(allowed)", ""},
		{"bench on a manifest", []string{"bench", "-m", model, "--dataset", "folder", "--data", manifest, "--batch", "8", "--runs", "2", "--warmup", "1"}, 0, "samples/s", ""},
		{"flag after an argument", []string{"compare", "-a", model, "x", "-b", sparse}, 2, "", `-b comes after the argument x`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := run(append([]string{"dcwp-eval"}, c.args...), &out, &errb)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, out.String())
			}
			if !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errb.String())
			}
			if strings.Contains(errb.String(), "panic") {
				t.Errorf("panic:\n%s", errb.String())
			}
		})
	}
	var r map[string]any
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if want := evaltest.Correct(samples); r["correct"] != float64(want) || r["samples"] != float64(len(samples)) || len(r["batches"].([]any)) != 2 {
		t.Errorf("report: samples %v, correct %v (want %d of %d), batches %v", r["samples"], r["correct"], want, len(samples), r["batches"])
	}
	var cr map[string]any
	b, _ = os.ReadFile(cmpJSON)
	if err := json.Unmarshal(b, &cr); err != nil || cr["pass"] != true {
		t.Errorf("compare JSON: %v %v", err, cr["pass"])
	}
}

// writeManifest lists the fixture's test images as a CSV manifest (path, label, split, bias),
// and copies of them as its train split (the classes are train's labels).
func writeManifest(t *testing.T, root, dir string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "cmnist", "test", "0", "*.png"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("fixture images: %v", err)
	}
	rows := []string{"path,label,split,bias"}
	for _, p := range paths {
		var i, label, bias int
		if _, err := fmt.Sscanf(filepath.Base(p), "%04d_%d_%d.png", &i, &label, &bias); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("%s,%d,test,%d", p, label, bias))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		train := filepath.Join(dir, "train-"+filepath.Base(p))
		if err := os.WriteFile(train, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("%s,%d,train,%d", train, label, bias))
	}
	m := filepath.Join(dir, "test.csv")
	if err := os.WriteFile(m, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return m
}
