// Package pyoracle runs Python as a test oracle: Debian's python3-torch,
// python3-torchvision and python3-onnx, which tools/setup.sh installs, or, for
// the engine on another libtorch, that PyTorch version in a venv
// (tools/libtorch.sh oracle) named by DCWP_TORCH_PYTHON.
//
// The interpreter is named by path because the python3 first on PATH may be
// another one without those packages. A missing oracle fails the test: the
// set-up installs it, so its absence is a broken machine, not a reason to skip.
package pyoracle

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// Python is Debian's interpreter, the one with python3-onnx and Debian's PyTorch.
const Python = "/usr/bin/python3"

// TorchEnv names the Python whose PyTorch is the engine's oracle. The engine's
// results are compared with PyTorch of the libtorch it runs on (Adam to the
// last bit), so tools/libtorch.sh run sets it beside the libtorch it picks.
const TorchEnv = "DCWP_TORCH_PYTHON"

// Torch is the Python with the oracle's PyTorch (and torchvision): $DCWP_TORCH_PYTHON,
// else Debian's.
func Torch() string {
	if p := os.Getenv(TorchEnv); p != "" {
		return p
	}
	return Python
}

// JSON runs Torch() with args, writes req to its stdin as JSON and decodes its
// stdout into resp. Starting Python and importing torch is the slow part, so
// callers send all their cases in one request.
func JSON(t testing.TB, req, resp any, args ...string) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("oracle request: %v", err)
	}
	py := Torch()
	cmd := exec.Command(py, args...)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle %s %v (Debian's python3-torch from tools/setup.sh, or $%s from tools/libtorch.sh oracle): %v\n%s", py, args, TorchEnv, err, stderr.String())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("oracle %v output: %v\n%s", args, err, out)
	}
}
