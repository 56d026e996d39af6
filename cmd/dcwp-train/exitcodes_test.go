package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
	"github.com/dcwp-go/dcwp/internal/exit"
)

// buildCommand builds ../name (dcwp-export, dcwp-eval: commands without libtorch).
func buildCommand(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "../"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// One exit code per kind of mistake, whichever of the three commands makes it: bad input is
// exit.Usage everywhere (a missing data folder was 1 from dcwp-train, 2 from dcwp-eval; a
// missing run directory 1 from dcwp-export). A command a kind does not apply to has no row.
func TestExitCodeAcrossCommands(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	out := filepath.Join(dir, "run")
	model := evaltest.WriteLinear(t, dir, "model.onnx", evaltest.LinearSpec{})
	bins := map[string]string{"dcwp-export": buildCommand(t, "dcwp-export"), "dcwp-eval": buildCommand(t, "dcwp-eval")}
	train := []string{"--model", "mlp", "--preset", "quick", "--no-progress", "--out", out}
	kinds := []struct {
		kind string
		args map[string][]string // command: its arguments for this mistake
		want string              // in stderr
	}{
		{"missing data folder", map[string][]string{
			"dcwp-train": append([]string{"--dataset", "folder", "--data", missing}, train...),
			"dcwp-eval":  {"--model", model, "--dataset", "folder", "--data", missing},
		}, missing},
		{"unknown dataset", map[string][]string{
			"dcwp-train": append([]string{"--dataset", "nosuch", "--data", dir}, train...),
			"dcwp-eval":  {"--model", model, "--dataset", "nosuch", "--data", dir},
		}, "nosuch"},
		{"bad flag value", map[string][]string{
			"dcwp-train":  append([]string{"--seed", "x"}, train...),
			"dcwp-export": {"--opset", "x", "--run", dir, "--out", filepath.Join(dir, "m.onnx")},
			"dcwp-eval":   {"--model", model, "--threads", "x"},
		}, "invalid value"},
		{"missing run directory", map[string][]string{
			"dcwp-train":  {"--out", missing, "--resume", "--no-progress"},
			"dcwp-export": {"--run", missing, "--out", filepath.Join(dir, "m.onnx")},
			"dcwp-eval":   {"--model", filepath.Join(missing, "model.onnx"), "--dataset", "folder", "--data", dir},
		}, missing},
	}
	for _, k := range kinds {
		for _, cmd := range []string{"dcwp-train", "dcwp-export", "dcwp-eval"} {
			args, ok := k.args[cmd]
			if !ok {
				continue
			}
			t.Run(k.kind+"/"+cmd, func(t *testing.T) {
				code, stderr := runCommand(t, bins[cmd], cmd, args)
				if code != exit.Usage || !strings.Contains(stderr, k.want) {
					t.Errorf("%s %s: exit %d, want %d and %q in:\n%s", cmd, strings.Join(args, " "), code, exit.Usage, k.want, stderr)
				}
			})
		}
	}
}

// runCommand runs dcwp-train in this process, or another command's binary bin.
func runCommand(t *testing.T, bin, cmd string, args []string) (int, string) {
	t.Helper()
	var stderr strings.Builder
	if cmd == "dcwp-train" {
		return run(append([]string{cmd}, args...), &stderr), stderr.String()
	}
	c := exec.Command(bin, args...)
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return c.ProcessState.ExitCode(), stderr.String()
}
