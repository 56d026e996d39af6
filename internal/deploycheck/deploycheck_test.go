package deploycheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dcwp-go/dcwp"

// goList runs `go list` with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to check imports: %v", err)
	}
	out, err := exec.Command(goTool, append([]string{"list"}, args...)...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// The deployable commands must not depend on the training engine (libtorch, through driver/...).
func TestDeployableCommandsHaveNoLibtorch(t *testing.T) {
	for _, cmd := range []string{"cmd/dcwp-export", "cmd/dcwp-eval"} {
		t.Run(cmd, func(t *testing.T) {
			deps := goList(t, "-deps", module+"/"+cmd)
			if len(deps) < 2 {
				t.Fatalf("go list -deps %s listed %v", cmd, deps)
			}
			for _, d := range deps {
				if d == module+"/driver" || strings.HasPrefix(d, module+"/driver/") {
					t.Errorf("%s depends on %s: it would need libtorch to build and run", cmd, d)
				}
			}
		})
	}
}

// Only onnx/ort imports the ONNX Runtime binding: sessions, options and the library have one home.
func TestOneHomeForONNXRuntime(t *testing.T) {
	const binding = "github.com/yalue/onnxruntime_go"
	var importers []string
	for _, line := range goList(t, "-e", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, module+"/...") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == binding {
				importers = append(importers, f[0])
				break
			}
		}
	}
	if len(importers) != 1 || importers[0] != module+"/onnx/ort" {
		t.Errorf("packages importing %s: %v, want only %s/onnx/ort", binding, importers, module)
	}
}
