package exporter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// The child process of TestKillBetweenRenames: it exports specs[1] over the pair at
// DCWP_EXPORT_CHILD_OUT and kills itself with SIGKILL at DCWP_EXPORT_CHILD_KILL.
func TestMain(m *testing.M) {
	if out := os.Getenv("DCWP_EXPORT_CHILD_OUT"); out != "" {
		os.Exit(childExport(out, os.Getenv("DCWP_EXPORT_CHILD_KILL")))
	}
	os.Exit(m.Run())
}

func childExport(out, at string) int {
	net, err := exportfixture.Network(specs[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, st, err := ExportNetwork(specs[1].Config(), net, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kill := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	step := func(s string) {
		if s == at {
			kill()
		}
	}
	if _, err := writeOutputs(out, m, out+".params.json", st, step); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if at == "after" {
		kill()
	}
	return 0
}

// TestKillBetweenRenames kills a real export process at each step of writing the pair
// (pending params written; model renamed; both done): the files at the final paths are
// always whole, and once recovered the pair is both old or both new, never mixed.
func TestKillBetweenRenames(t *testing.T) {
	for _, c := range []struct {
		at       string
		newModel bool // the model at the final path is the child's
		newPair  bool // after recovery the params describe the child's model
	}{
		{"pending", false, false},
		{"model", true, true},
		{"after", true, true},
		{"never", true, true},
	} {
		t.Run(c.at, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.onnx")
			pj := out + ".params.json"
			old := get(t, specs[0])
			m0, err := parseModel(old.model[Dense])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := WriteOutputs(out, m0, pj, &Stats{Model: "old"}); err != nil {
				t.Fatal(err)
			}
			oldParams, _ := os.ReadFile(pj)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "DCWP_EXPORT_CHILD_OUT="+out, "DCWP_EXPORT_CHILD_KILL="+c.at)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			signaled := false
			if ee, ok := err.(*exec.ExitError); ok {
				signaled = ee.Sys().(syscall.WaitStatus).Signaled()
			}
			if c.at == "never" && err != nil || c.at != "never" && !signaled {
				t.Fatalf("child: %v (killed: %v); stderr:\n%s", err, signaled, stderr.String())
			}
			model, _ := os.ReadFile(out)
			if gotNew := !bytes.Equal(model, old.model[Dense]); gotNew != c.newModel {
				t.Fatalf("model at %s is the new one: %v, want %v", out, gotNew, c.newModel)
			}
			if _, err := parseModel(model); err != nil {
				t.Fatalf("model at the final path is not whole: %v", err)
			}
			st, err := ReadParams(pj, out)
			params, _ := os.ReadFile(pj)
			switch {
			case err != nil:
				t.Fatalf("ReadParams after kill at %s: %v; want a whole pair", c.at, err)
			case c.newPair && st.Model != specs[1].Model:
				t.Fatalf("after kill at %s the params describe %q, want the child's %q", c.at, st.Model, specs[1].Model)
			case !c.newPair && !bytes.Equal(params, oldParams):
				t.Fatalf("after kill at %s the old params file changed", c.at)
			}
			if _, err := os.Stat(pj + pendingSuffix); !os.IsNotExist(err) {
				t.Fatalf("pending params file left after recovery: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp*")); c.at == "never" && len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

func TestReadParamsRefuses(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.onnx")
	m0, err := parseModel(get(t, specs[0]).model[Dense])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteOutputs(out, m0, out+".params.json", &Stats{Model: "mlp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadParams(out+".params.json", out); err != nil {
		t.Fatalf("a whole pair: %v", err)
	}
	for _, c := range []struct{ name, body, want string }{
		{"empty", "", "not a dcwp-export params file"},
		{"truncated", `{"model": "mlp", "model_sha2`, "not a dcwp-export params file"},
		{"unknown field", `{"model": "mlp", "colour": 1}`, `unknown field "colour"`},
		{"two objects", `{"model": "mlp"} {}`, "data after the JSON object"},
		{"no hash (older export)", `{"model": "mlp"}`, "no model_sha256"},
		{"another model's hash", `{"model": "mlp", "model_sha256": "` + strings.Repeat("ab", 32) + `"}`, "the model was replaced without its params file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pj := filepath.Join(dir, c.name+".json")
			if err := os.WriteFile(pj, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadParams(pj, out)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), pj) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, pj, c.want)
			}
		})
	}
}

func parseModel(b []byte) (*onnxpb.ModelProto, error) { return onnx.Parse(b, "model") }

// FuzzParseParams: any bytes give a Stats or an error, never a panic.
func FuzzParseParams(f *testing.F) {
	f.Add([]byte(`{"model": "mlp", "which": "dcwp", "format": "dense", "opset": 13, "layers": [{"name": "fc1", "op": "Gemm", "weight_shape": [100, 784], "params": 78500, "nonzero": 100}], "model_sha256": "` + strings.Repeat("0f", 32) + `"}`))
	f.Add([]byte(`{"model_sha256": 5}`))
	f.Add([]byte(`{"layers": [{"weight_shape": [-1]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := parseParams(b); err == nil && len(st.ModelSHA256) != 64 {
			t.Fatalf("accepted a params file without a whole hash: %q", st.ModelSHA256)
		}
	})
}
