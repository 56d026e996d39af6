// Package pyoracle runs Debian's Python as a test oracle: python3-torch,
// python3-torchvision and python3-onnx, which tools/setup.sh installs.
//
// The interpreter is named by path because the python3 first on PATH may be
// another one without those packages. A missing oracle fails the test: the
// set-up installs it, so its absence is a broken machine, not a reason to skip.
package pyoracle

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// Python is Debian's interpreter, the one with the oracle packages.
const Python = "/usr/bin/python3"

// JSON runs Python with args, writes req to its stdin as JSON and decodes its
// stdout into resp. Starting Python and importing torch is the slow part, so
// callers send all their cases in one request.
func JSON(t testing.TB, req, resp any, args ...string) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("oracle request: %v", err)
	}
	cmd := exec.Command(Python, args...)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle %s %v (Debian's python3-torch and python3-onnx, installed by tools/setup.sh): %v\n%s", Python, args, err, stderr.String())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("oracle %v output: %v\n%s", args, err, out)
	}
}
