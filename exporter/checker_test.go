package exporter

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/pyoracle"
	"github.com/dcwp-go/dcwp/onnx"
)

const checkScript = `
import sys, onnx
args = sys.argv[1:]
for path, full in zip(args[0::2], args[1::2]):
    m = onnx.load(path)  # check the loaded ModelProto: check_model(path) rewrites the file in 1.12
    try:
        onnx.checker.check_model(m, full_check=(full == "1"))
        print("ok", path)
    except Exception as e:
        print("FAIL", path, str(e).replace("\n", " ")[:400])
`

// TestONNXChecker runs onnx 1.12's checker on every format: full_check (strict shape
// inference), or the plain check on a model with sparse initializers, which onnx 1.12's
// shape inference does not take.
func TestONNXChecker(t *testing.T) {
	dir := t.TempDir()
	var args []string
	want := map[string]bool{}
	for _, s := range specs {
		b := get(t, s)
		for _, f := range Formats() {
			p := filepath.Join(dir, s.Name()+"-"+string(f)+".onnx")
			if err := os.WriteFile(p, b.model[f], 0o644); err != nil {
				t.Fatal(err)
			}
			full := "1"
			if hasSparse(t, b.model[f]) {
				full = "0"
			}
			args = append(args, p, full)
			want[p] = true
		}
	}
	out, err := exec.Command(pyoracle.Python, append([]string{"-c", checkScript}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("checker: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ok" {
			t.Errorf("%s", line)
			continue
		}
		delete(want, f[1])
	}
	for p := range want {
		t.Errorf("no checker verdict for %s", p)
	}
}

// hasSparse reports whether an exported model stores any initializer as a sparse tensor.
func hasSparse(t *testing.T, model []byte) bool {
	t.Helper()
	m, err := onnx.Parse(model, "export")
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Graph.GetSparseInitializer()) > 0
}
