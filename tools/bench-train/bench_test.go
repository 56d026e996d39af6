// Package benchtrain holds the test of bench-train: tools/bench-train.sh, its PyTorch reference
// (ref_train.py) and its report (report.py), run end to end on a tiny dataset with a few
// iterations per stage, so the benchmark cannot rot between the hour-long runs it is for.
package benchtrain

import (
	"cmp"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/fixture"
)

type side struct {
	WallSeconds  float64            `json:"wall_seconds"`
	StageSeconds map[string]float64 `json:"stage_seconds"`
	PeakMemoryMB float64            `json:"peak_memory_mb"`
	VanillaTest  map[string]float64 `json:"vanilla_test"`
	DCWPTest     map[string]float64 `json:"dcwp_test"`
	Mined        map[string]float64 `json:"mined"`
	KeptRatio    float64            `json:"kept_ratio"`
}

type report struct {
	Model        string             `json:"model"`
	Engine       string             `json:"engine"`
	Libtorch     string             `json:"libtorch"`
	RefTorch     string             `json:"reference_torch"`
	Threads      int                `json:"threads_per_side"`
	Precision    string             `json:"precision"`
	MemoryFormat string             `json:"memory_format"`
	RefPrecision string             `json:"reference_precision"`
	RefFormat    string             `json:"reference_memory_format"`
	DCWPTrain    side               `json:"dcwp_train"`
	Reference    side               `json:"reference"`
	Speedup      map[string]float64 `json:"speedup"`
	MemoryRatio  float64            `json:"memory_ratio"`
}

func TestBenchTrainSideBySide(t *testing.T) {
	root, _ := filepath.Abs("../..")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "dcwp-train")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dcwp-train")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	// the default axes on both models, bf16 on channels-last tensors on the cnn, and that
	// beside the plain fp32 NCHW reference; each report is named for its settings
	for _, c := range []struct {
		models, precision, format, refPrecision, refFormat, suffix string
	}{
		{"mlp cnn", "fp32", "contiguous", "", "", ""},
		{"cnn", "bf16", "channels-last", "", "", "-bf16-channels-last"},
		{"cnn", "bf16", "channels-last", "fp32", "contiguous", "-bf16-channels-last-vs-fp32-contiguous"},
	} {
		t.Run(c.precision+" "+c.format+" ref "+c.refPrecision, func(t *testing.T) {
			out := filepath.Join(tmp, "bench"+c.suffix)
			cmd := exec.Command("bash", filepath.Join(root, "tools", "bench-train.sh"), data, filepath.Join(tmp, "runs"))
			cmd.Env = append(os.Environ(), "MODELS="+c.models, "BIN="+bin, "REPORT_DIR="+out, "PRECISION="+c.precision, "MEMORY_FORMAT="+c.format,
				"REF_PRECISION="+c.refPrecision, "REF_MEMORY_FORMAT="+c.refFormat,
				"ARGS=--batch-size 32 --mining-iters 6 --pretrain-iters 12 --prune-iters 6 --finetune-iters 6 --eval-every 3 --checkpoint-every 4")
			printed, err := cmd.CombinedOutput()
			if err != nil {
				logs, _ := filepath.Glob(filepath.Join(tmp, "runs", "*.log"))
				for _, l := range logs {
					b, _ := os.ReadFile(l)
					t.Logf("%s:\n%s", l, b[max(0, len(b)-2000):])
				}
				t.Fatalf("bench-train: %v\n%s", err, printed)
			}
			for _, m := range strings.Fields(c.models) {
				r := checkReport(t, filepath.Join(out, "train-"+m+c.suffix+".json"), m, c.precision, c.format)
				wantP, wantF := cmp.Or(c.refPrecision, c.precision), cmp.Or(c.refFormat, c.format)
				if r.RefPrecision != wantP || r.RefFormat != wantF {
					t.Errorf("%s: reference precision %q, memory format %q; want %q, %q", m, r.RefPrecision, r.RefFormat, wantP, wantF)
				}
			}
			if !strings.Contains(string(printed), "speedup") {
				t.Errorf("no ratio table printed:\n%s", printed)
			}
		})
	}
}

func checkReport(t *testing.T, path, m, precision, format string) report {
	t.Helper()
	var r report
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if r.Model != m || r.Threads != 1 || r.Precision != precision || r.MemoryFormat != format {
		t.Errorf("%s: model %q, threads %d, precision %q, memory format %q", path, r.Model, r.Threads, r.Precision, r.MemoryFormat)
	}
	// the same libtorch release on both sides: "1.13.0" beside "1.13.0a0", "2.1.0" beside "2.1.0+cu121"
	if r.Engine != torch.Engine || r.Libtorch != torch.Version() || !strings.HasPrefix(r.RefTorch, r.Libtorch) {
		t.Errorf("%s: engine %q, libtorch %q, reference PyTorch %q; want engine %q on libtorch %q beside the same PyTorch",
			path, r.Engine, r.Libtorch, r.RefTorch, torch.Engine, torch.Version())
	}
	for name, s := range map[string]side{"dcwp-train": r.DCWPTrain, "reference": r.Reference} {
		checkSide(t, m+" "+name, s)
	}
	for _, k := range []string{"wall", "pretrain", "mine", "prune", "finetune"} {
		if r.Speedup[k] <= 0 {
			t.Errorf("%s: speedup %s = %v", m, k, r.Speedup[k])
		}
	}
	if r.MemoryRatio <= 0 {
		t.Errorf("%s: memory ratio %v", m, r.MemoryRatio)
	}
	return r
}

func checkSide(t *testing.T, name string, s side) {
	t.Helper()
	if s.WallSeconds <= 0 || s.PeakMemoryMB <= 0 {
		t.Errorf("%s: wall %v s, peak %v MB", name, s.WallSeconds, s.PeakMemoryMB)
	}
	for _, st := range []string{"pretrain", "mine", "prune", "finetune"} {
		if _, ok := s.StageSeconds[st]; !ok {
			t.Errorf("%s: no time for stage %s", name, st)
		}
	}
	for _, acc := range []map[string]float64{s.VanillaTest, s.DCWPTest} {
		for _, k := range []string{"accuracy", "aligned_accuracy", "conflicting_accuracy", "worst_group_accuracy"} {
			if v, ok := acc[k]; !ok || v < 0 || v > 1 {
				t.Errorf("%s: %s = %v (present %v)", name, k, v, ok)
			}
		}
	}
	if s.KeptRatio <= 0 || s.KeptRatio > 1 {
		t.Errorf("%s: kept ratio %v", name, s.KeptRatio)
	}
	if r := s.Mined["recall"]; r < 0 || r > 1 {
		t.Errorf("%s: mined recall %v", name, r)
	}
}
