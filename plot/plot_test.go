package plot

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
)

func TestMetricsDrawsEachFigure(t *testing.T) {
	kept := 0.8
	var ms []rundir.Metric
	for i := 0; i < 5; i++ {
		ms = append(ms,
			rundir.Metric{Stage: "prune", Iter: i * 10, Loss: map[string]float64{"ce": 1 / float64(i+1), "supcon": 2}, Kept: &kept, KeptPer: map[string]float64{"fc1.weight": 0.7}},
			rundir.Metric{Stage: "finetune", Iter: i * 100, Valid: &metrics.Accuracy{Accuracy: 0.5, AlignedAccuracy: 0.9, ConflictingAccuracy: 0.4}})
	}
	dir := t.TempDir()
	files, err := Metrics(ms, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss-prune.png", "kept-prune.png", "valid-finetune.png"}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %v", files, want)
	}
	for i, w := range want {
		if filepath.Base(files[i]) != w {
			t.Errorf("file %d = %s, want %s", i, files[i], w)
		}
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", files[i], err)
		}
		if img.Bounds().Dx() < 400 {
			t.Errorf("%s is %d px wide", files[i], img.Bounds().Dx())
		}
	}
}

func TestReadMetricsNamesBadLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	os.WriteFile(p, []byte("{\"stage\":\"prune\",\"iter\":1}\n{oops\n"), 0o644)
	_, err := ReadMetrics(p)
	if err == nil || !strings.Contains(err.Error(), "metrics.jsonl:2") {
		t.Fatalf("error %v, want one naming line 2", err)
	}
}

// TestStageNamesStayInPlots: a stage name read from a run directory's metrics.jsonl can
// come from anywhere; the figure's file must stay a plain name inside the plots folder.
func TestStageNamesStayInPlots(t *testing.T) {
	for _, stage := range []string{"/../../../tmp/evil", "..", "a/b", "", strings.Repeat("x", 300), "prune"} {
		for _, f := range figures([]rundir.Metric{{Stage: stage, Loss: map[string]float64{"ce": 1}}}) {
			if f.file != filepath.Base(f.file) || strings.Contains(f.file, "..") || len(f.file) > 80 {
				t.Errorf("stage %.20q: figure file %q", stage, f.file)
			}
		}
	}
}
