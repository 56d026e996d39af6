package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exit"
)

// Exit codes through run: rejected input is told from a run that failed.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	noData := filepath.Join(dir, "nodata")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown flag", []string{"--frobnicate"}, exit.Usage, "frobnicate"},
		{"invalid value", []string{"--seed", "x", "--out", out}, exit.Usage, "invalid value"},
		{"no --out", []string{"--data", noData}, exit.Usage, "--out RUN_DIR is required"},
		{"stray argument", []string{"--out", out, "train"}, exit.Usage, "unexpected arguments: train"},
		{"unknown model", []string{"--model", "vgg", "--data", noData, "--out", out}, exit.Usage, `"vgg"`},
		{"missing data", []string{"--dataset", "cmnist", "--model", "mlp", "--preset", "quick", "--data", noData, "--out", out, "--no-progress"}, exit.Usage, "nodata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr strings.Builder
			code := run(append([]string{"dcwp-train"}, c.args...), &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), c.code, c.stderr)
			}
		})
	}
}
