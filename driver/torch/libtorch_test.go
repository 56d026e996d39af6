//go:build !gotch

package torch

import (
	"os"
	"regexp"
	"testing"

	"github.com/dcwp-go/dcwp/internal/pyoracle"
)

// TestLibtorchIsTheOneAsked guards the engine matrix (tools/libtorch.sh run NAME): the shim
// the process loaded is built on the libtorch asked for, not whichever libdcwptorch.so the
// loader found first, and the Python oracle runs the same PyTorch version, since the
// oracle tests (Adam to the last bit) compare the engine with PyTorch of its own libtorch.
func TestLibtorchIsTheOneAsked(t *testing.T) {
	if want := os.Getenv("DCWP_LIBTORCH_VERSION"); want != "" && Version() != want {
		t.Fatalf("the shim loaded runs libtorch %s, DCWP_LIBTORCH_VERSION asks for %s (LD_LIBRARY_PATH=%q)",
			Version(), want, os.Getenv("LD_LIBRARY_PATH"))
	}
	var got struct {
		Version string `json:"version"`
	}
	pyoracle.JSON(t, struct{}{}, &got, "-c", "import json, torch; print(json.dumps({'version': torch.__version__}))")
	// A wheel's version carries its build ("2.11.0+cu130"), Debian's a pre-release tag its
	// headers lack ("1.13.0a0" beside "1.13.0"): the release numbers are what must agree.
	if r := release(Version()); r == "" || r != release(got.Version) {
		t.Fatalf("the oracle %s runs PyTorch %s, the engine libtorch %s: point %s at that version's Python (tools/libtorch.sh oracle)",
			pyoracle.Torch(), got.Version, Version(), pyoracle.TorchEnv)
	}
}

// release is the leading major.minor.patch of a PyTorch version string.
func release(v string) string { return regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+`).FindString(v) }
