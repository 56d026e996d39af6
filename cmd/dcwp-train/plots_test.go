package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// imageFolder lays the Colored MNIST fixture out as an ImageFolder (train, valid, test with
// a folder per class), as --dataset folder reads it.
func imageFolder(t *testing.T) string {
	src := t.TempDir()
	if err := fixture.CMNIST(src); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for split, parts := range map[string][]string{"train": {"1pct/align", "1pct/conflict"}, "valid": {"1pct/valid"}, "test": {"test"}} {
		for _, part := range parts {
			classes, err := os.ReadDir(filepath.Join(src, "cmnist", part))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range classes {
				dir := filepath.Join(root, split, c.Name())
				os.MkdirAll(dir, 0o755)
				imgs, _ := os.ReadDir(filepath.Join(src, "cmnist", part, c.Name()))
				for _, img := range imgs {
					if err := os.Symlink(filepath.Join(src, "cmnist", part, c.Name(), img.Name()), filepath.Join(dir, img.Name())); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	return root
}

// TestPlotsNeverFailARun: plots are a side output. A normalisation that makes the losses
// overflow (std 1e-30), and metrics.jsonl rows no axis can hold, end with summary.json
// written and exit 0: a figure that cannot be drawn is a warning naming it (they crashed
// the run in gonum/plot, exit 70, after summary.json).
func TestPlotsNeverFailARun(t *testing.T) {
	data := imageFolder(t)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"--dataset", "folder", "--data", data, "--out", out, "--normalize", "0,0,0/1e-30,1e-30,1e-30"}, tinyFlags...)
	args = append(args, "--miner", "ensemble") // the folder has no bias labels for the oracle
	code, stderr := runCmd(t, args...)
	checkNoCrash(t, code, stderr)
	if code != 0 {
		t.Fatalf("--normalize …/1e-30: exit %d\n%s", code, tail(stderr))
	}
	if _, err := os.Stat(filepath.Join(out, rundir.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(out, rundir.MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"stage":"x","iter":1,"loss":{"ce":3.4e38}}` + "\n" + `{"stage":"y","iter":1,"loss":{"ce":-1e300}}` + "\n" +
		`{"stage":"z","iter":1,"loss":{"ce":1e308}}` + "\n")
	f.Close()
	code, stderr = runCmd(t, "--out", out, "--stages", "finetune", "--no-progress", "--threads", "1")
	checkNoCrash(t, code, stderr)
	if code != 0 {
		t.Fatalf("--stages finetune with huge losses: exit %d\n%s", code, tail(stderr))
	}
	for _, p := range []string{"loss-x.png", "loss-y.png"} {
		if _, err := os.Stat(filepath.Join(out, rundir.PlotsDir, p)); err != nil {
			t.Errorf("%s not drawn: %v", p, err)
		}
	}
	if !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "loss-z.png") {
		t.Errorf("no warning naming the figure that cannot be drawn:\n%s", tail(stderr))
	}
}
