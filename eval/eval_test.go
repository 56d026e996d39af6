package eval

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/evaltest"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEvaluateKnownAccuracy(t *testing.T) {
	root, samples := evaltest.WriteFixture(t, 4)
	n, correct := len(samples), evaltest.Correct(samples)
	model := evaltest.WriteLinear(t, t.TempDir(), "linear.onnx", evaltest.LinearSpec{})
	fixed := evaltest.WriteLinear(t, t.TempDir(), "fixed.onnx", evaltest.LinearSpec{Batch: 5})
	for _, c := range []struct {
		name    string
		model   string
		batches []int
	}{
		{"dynamic batch", model, []int{7, 1, 256}},
		{"fixed batch 5, padded last batch", fixed, []int{64}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Evaluate(Options{Model: c.model, Dataset: "cmnist", Data: root, Split: "test", Batches: c.batches, Session: ort.Options{Threads: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Accuracy.Samples != n || r.Accuracy.Correct != correct {
				t.Errorf("samples/correct = %d/%d, want %d/%d", r.Accuracy.Samples, r.Accuracy.Correct, n, correct)
			}
			checks := []struct {
				name      string
				got, want float64
			}{
				{"accuracy", r.Accuracy.Accuracy, float64(correct) / float64(n)},
				{"aligned", r.Accuracy.AlignedAccuracy, 1},
				{"conflicting", r.Accuracy.ConflictingAccuracy, 44.0 / 89},
				{"worst-group", r.Accuracy.WorstGroupAccuracy, 0},
				{"cell (0,1) empty", r.Accuracy.Groups[0][1], -1},
				{"cell (2,3)", r.Accuracy.Groups[2][3], 0},
				{"cell (4,7)", r.Accuracy.Groups[4][7], 0.5},
				{"cell (5,5)", r.Accuracy.Groups[5][5], 1},
			}
			for _, ch := range checks {
				if !near(ch.got, ch.want) {
					t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
				}
			}
			if r.ParamsTotal != 490 || r.ParamsNonzero != 10 {
				t.Errorf("params = %d total / %d non-zero, want 490 / 10", r.ParamsTotal, r.ParamsNonzero)
			}
			if r.Provider != "cpu" || r.Classes != 10 {
				t.Errorf("provider %q classes %d", r.Provider, r.Classes)
			}
			if len(r.Batches) != len(c.batches) || r.BatchMismatches != 0 {
				t.Fatalf("batches %+v, mismatches %d", r.Batches, r.BatchMismatches)
			}
			for _, b := range r.Batches {
				if b.Samples != n || b.ThroughputSPS <= 0 || b.LatencyMsP50 <= 0 || b.LatencyMsP95 < b.LatencyMsP50 {
					t.Errorf("timing %+v", b)
				}
			}
			if runs := (n + 4) / 5; c.model == fixed && (r.Batches[0].Batch != 5 || r.Batches[0].Runs != runs) {
				t.Errorf("fixed-batch model: %+v, want batch 5, %d runs", r.Batches[0], runs)
			}
			if runs := (n + 6) / 7; c.model == model && r.Batches[0].Runs != runs {
				t.Errorf("batch 7: %d runs, want %d", r.Batches[0].Runs, runs)
			}
		})
	}
}

func TestPredict(t *testing.T) {
	root, samples := evaltest.WriteFixture(t, 4)
	model := evaltest.WriteLinear(t, t.TempDir(), "linear.onnx", evaltest.LinearSpec{})
	split, err := LoadSplit(root, "cmnist", dataset.Share{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSession(model, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	preds, logits, err := Predict(s, split, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != len(samples) || len(logits) != 10*len(samples) {
		t.Fatalf("%d preds, %d logits for %d samples", len(preds), len(logits), len(samples))
	}
	for i, sm := range samples {
		if int(preds[i]) != sm.Pred || logits[i*10+sm.Pred] != 1 {
			t.Fatalf("sample %d: pred %d (logit %v), want %d", i, preds[i], logits[i*10+sm.Pred], sm.Pred)
		}
	}
}

// JSON field names are part of the CLI's contract.
func TestReportJSONFields(t *testing.T) {
	root, _ := evaltest.WriteFixture(t, 4)
	model := evaltest.WriteLinear(t, t.TempDir(), "linear.onnx", evaltest.LinearSpec{})
	r, err := Evaluate(Options{Model: model, Dataset: "cmnist", Data: root, Batches: []int{64, 8}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report.json")
	if err := r.WriteJSON(out); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accuracy", "aligned_accuracy", "conflicting_accuracy", "worst_group_accuracy",
		"params_total", "params_nonzero", "provider", "throughput_sps", "latency_ms_p50", "latency_ms_p95",
		"batches", "groups", "model", "dataset", "split", "samples", "correct", "batch_size", "ort_version"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	if m["provider"] != "cpu" || m["dataset"] != "cmnist" || m["split"] != "test" {
		t.Errorf("provider/dataset/split = %v/%v/%v", m["provider"], m["dataset"], m["split"])
	}
	bs := m["batches"].([]any)
	if len(bs) != 2 || bs[1].(map[string]any)["batch"].(float64) != 8 {
		t.Errorf("batches = %v", bs)
	}
	var sb strings.Builder
	r.WriteText(&sb)
	for _, want := range []string{"worst-group accuracy", "conflicting accuracy", "samples/s", "490 total, 10 non-zero"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, sb.String())
		}
	}
}

// Each bad input gives a clear error that names the file or folder, never a panic.
func TestBadInputs(t *testing.T) {
	root, _ := evaltest.WriteFixture(t, 4)
	dir := t.TempDir()
	good := evaltest.WriteLinear(t, dir, "good.onnx", evaltest.LinearSpec{})
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.onnx")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	text := filepath.Join(dir, "notes.onnx")
	os.WriteFile(text, []byte("this is not a model\n"), 0o644)
	empty := filepath.Join(dir, "empty.onnx")
	os.WriteFile(empty, nil, 0o644)
	wide := evaltest.WriteLinear(t, dir, "wide.onnx", evaltest.LinearSpec{HW: 5})
	classes := evaltest.WriteLinear(t, dir, "classes.onnx", evaltest.LinearSpec{Classes: 7})
	missing := filepath.Join(dir, "missing.onnx")
	noLib := filepath.Join(dir, "no", "libonnxruntime.so.1")
	noData := filepath.Join(dir, "no-data")

	cases := []struct {
		name  string
		opts  Options
		is    error
		names string // the message must contain this
		says  string
	}{
		{"missing model", Options{Model: missing, Dataset: "cmnist", Data: root}, ErrModel, missing, "does not exist"},
		{"truncated model", Options{Model: truncated, Dataset: "cmnist", Data: root}, ErrModel, truncated, "truncated"},
		{"not ONNX", Options{Model: text, Dataset: "cmnist", Data: root}, ErrModel, text, "ONNX"},
		{"empty file", Options{Model: empty, Dataset: "cmnist", Data: root}, ErrModel, empty, "empty"},
		{"input shape does not fit", Options{Model: wide, Dataset: "cmnist", Data: root}, ErrShape, wide, "[N,3,5,5]"},
		{"class count does not fit", Options{Model: classes, Dataset: "cmnist", Data: root}, ErrShape, classes, "7 classes"},
		{"missing ONNX Runtime", Options{Model: good, Dataset: "cmnist", Data: root, Session: ort.Options{Lib: noLib}}, ErrORTLib, noLib, "does not exist"},
		{"missing data folder", Options{Model: good, Dataset: "cmnist", Data: noData}, ErrData, noData, "does not exist"},
		{"missing split folder", Options{Model: good, Dataset: "cmnist", Data: root, Split: "valid", Pct: dataset.MustShare("1")}, ErrData, filepath.Join(root, "cmnist", "1pct", "valid"), "split not in the data"},
		{"unknown dataset", Options{Model: good, Dataset: "mnist9", Data: root}, ErrUsage, "mnist9", "unknown"},
		{"bad batch", Options{Model: good, Dataset: "cmnist", Data: root, Batches: []int{0}}, ErrUsage, "batch size 0", ""},
		{"bad provider", Options{Model: good, Dataset: "cmnist", Data: root, Session: ort.Options{Provider: "tpu"}}, ErrUsage, "tpu", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Evaluate(c.opts)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.names) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q should name %q and say %q", err, c.names, c.says)
			}
		})
	}
}

// --provider cuda fails on a machine without a CUDA-enabled runtime or GPU,
// and the message says which is missing. Where both exist it must work.
func TestCUDAProvider(t *testing.T) {
	root, samples := evaltest.WriteFixture(t, 4)
	model := evaltest.WriteLinear(t, t.TempDir(), "linear.onnx", evaltest.LinearSpec{})
	lib, err := ort.FindLib("")
	if err != nil {
		t.Fatal(err)
	}
	gpu, _ := ort.GPUPresent()
	_, perr := os.Stat(filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_cuda.so"))
	cudaLib := perr == nil
	r, err := Evaluate(Options{Model: model, Dataset: "cmnist", Data: root, Session: ort.Options{Provider: "cuda"}})
	if gpu && cudaLib {
		if err != nil {
			t.Fatalf("GPU and CUDA runtime present, but: %v", err)
		}
		if want := evaltest.Correct(samples); r.Provider != "cuda" || r.Accuracy.Correct != want {
			t.Errorf("provider %s, correct %d, want cuda and %d", r.Provider, r.Accuracy.Correct, want)
		}
		return
	}
	if err == nil {
		t.Fatal("--provider cuda succeeded without GPU or CUDA runtime")
	}
	if !errors.Is(err, ErrProvider) {
		t.Errorf("error %q does not wrap ErrProvider", err)
	}
	msg := err.Error()
	libMissing := strings.Contains(msg, "has no CUDA execution provider") && strings.Contains(msg, lib)
	gpuMissing := strings.Contains(msg, "no NVIDIA GPU")
	if libMissing != !cudaLib || gpuMissing != !gpu {
		t.Errorf("message names the wrong missing piece (runtime has CUDA: %v, GPU: %v): %s", cudaLib, gpu, msg)
	}
	t.Logf("message: %s", msg)
}

// TestReportJSON: a report's JSON is one flat object with the accuracy figures beside the
// others, it reads back unchanged, and without bias labels it has no group figures.
func TestReportJSON(t *testing.T) {
	two := metrics.Identity([]string{"0", "1"})
	withBias := metrics.Score([]int32{0, 1, 1}, []int32{0, 1, 0}, []int32{0, 1, 1}, two)
	noBias := metrics.Score([]int32{0, 1, 1}, []int32{0, 1, 0}, nil, two)
	for _, c := range []struct {
		name   string
		acc    metrics.Accuracy
		groups bool
	}{{"bias labels", withBias, true}, {"no bias labels", noBias, false}} {
		t.Run(c.name, func(t *testing.T) {
			r := Report{Model: "m.onnx", Dataset: "folder", Classes: 2, Accuracy: c.acc, Batches: []Timing{}}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var flat map[string]any
			if err := json.Unmarshal(b, &flat); err != nil {
				t.Fatal(err)
			}
			if flat["model"] != "m.onnx" || flat["samples"] != 3.0 {
				t.Fatalf("not one flat object with both parts: %s", b)
			}
			if _, ok := flat["conflicting_accuracy"]; ok != c.groups {
				t.Fatalf("conflicting_accuracy present %v, want %v: %s", ok, c.groups, b)
			}
			var back Report
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, r) {
				t.Fatalf("read back %+v, want %+v", back, r)
			}
		})
	}
}

// TestLoadSplitNames: the datasets LoadSplit names come from the registry (folder was
// missing from a list typed by hand), and a benchmark's train split needs a share.
func TestLoadSplitNames(t *testing.T) {
	root, _ := evaltest.WriteFixture(t, 4)
	_, err := LoadSplit(root, "", dataset.Share{}, "test")
	if err == nil || !errors.Is(err, ErrData) {
		t.Fatalf("no dataset: %v", err)
	}
	for _, n := range dataset.Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("%q does not name %s", err, n)
		}
	}
	if _, err := LoadSplit(root, "cmnist", dataset.Share{}, "train"); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "conflict share") {
		t.Errorf("train without a share: %v", err)
	}
}
