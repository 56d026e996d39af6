package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exportfixture"
)

// TestSparseWarnsWhenLarger exports runs of low and high sparsity with --format sparse: the
// warning, with the dense size beside it, must appear exactly when the sparse file is the
// larger of the two.
func TestSparseWarnsWhenLarger(t *testing.T) {
	cases := []struct {
		name string
		keep float64
		warn bool
	}{
		{"10 % sparsity", 0.9, true},
		{"90 % sparsity", 0.1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := exportfixture.WriteRun(dir, exportfixture.Spec{Model: "mlp", Seed: 3, Keep: c.keep}); err != nil {
				t.Fatal(err)
			}
			size := map[string]int64{}
			var stderr string
			for _, f := range []string{"dense", "sparse"} {
				out := filepath.Join(t.TempDir(), f+".onnx")
				var so, se bytes.Buffer
				if code := run([]string{"dcwp-export", "--run", dir, "--out", out, "--format", f}, &so, &se); code != 0 {
					t.Fatalf("%s: exit %d: %s", f, code, se.String())
				}
				fi, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				size[f] = fi.Size()
				if f == "sparse" {
					stderr = se.String()
				}
			}
			if (size["sparse"] > size["dense"]) != c.warn {
				t.Fatalf("sparse %d bytes, dense %d: the case does not test what it says", size["sparse"], size["dense"])
			}
			warned := strings.Contains(stderr, "warning") && strings.Contains(stderr, strconv.FormatInt(size["dense"], 10)+" bytes of --format dense")
			if warned != c.warn {
				t.Errorf("sparse %d bytes, dense %d: warned %v, want %v; stderr:\n%s", size["sparse"], size["dense"], warned, c.warn, stderr)
			}
		})
	}
}
