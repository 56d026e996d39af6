package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// FuzzExportFiles runs dcwp-export on a run whose weights and mask are the fuzzer's bytes
// (seeded with a real run's files and cuts of them): any input ends in an export or a
// clean refusal naming the run, never a crash.
func FuzzExportFiles(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := exportfixture.WriteRun(dir, exportfixture.Spec{Model: "mlp", Seed: 1, Keep: 0.5}); err != nil {
		f.Fatal(err)
	}
	w, _ := os.ReadFile(filepath.Join(dir, rundir.DCWPFile))
	m, _ := os.ReadFile(filepath.Join(dir, rundir.MaskFile))
	f.Add(w, m)
	f.Add(w[:200], m)
	f.Add(w, m[:len(m)/2])
	f.Add(m, w)
	f.Add([]byte{}, []byte{})
	out := filepath.Join(f.TempDir(), "m.onnx")
	f.Fuzz(func(t *testing.T, weights, mask []byte) {
		if err := os.WriteFile(filepath.Join(dir, rundir.DCWPFile), weights, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rundir.MaskFile), mask, 0o644); err != nil {
			t.Fatal(err)
		}
		var so, se bytes.Buffer
		code := run([]string{"dcwp-export", "--run", dir, "--out", out}, &so, &se)
		if code == 70 || strings.Contains(se.String(), "panic") {
			t.Fatalf("crashed: exit %d: %s", code, se.String())
		}
		if code != 0 && !strings.Contains(se.String(), dir) {
			t.Fatalf("exit %d, message does not name the run: %s", code, se.String())
		}
	})
}
