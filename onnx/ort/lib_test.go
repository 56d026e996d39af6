package ort

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindLibExplicit(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "libonnxruntime.so.1")
	for _, c := range []struct{ path, says string }{
		{missing, "does not exist"},
		{dir, "is a directory"},
	} {
		_, err := FindLib(c.path)
		if !errors.Is(err, ErrLib) || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("FindLib(%s): %v, want ErrLib naming it and saying %q", c.path, err, c.says)
		}
	}
	t.Setenv(LibEnv, missing)
	if _, err := FindLib(""); !errors.Is(err, ErrLib) || !strings.Contains(err.Error(), "$"+LibEnv) {
		t.Errorf("FindLib with $%s missing: %v", LibEnv, err)
	}
}

// One process holds one runtime: Init again with "" or the same library is a no-op, with
// another library an error.
func TestInitOnce(t *testing.T) {
	lib, err := FindLib("")
	if err != nil {
		t.Fatalf("ONNX Runtime library (tools/setup.sh installs it): %v", err)
	}
	got, err := Init("")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Init(lib); err != nil || again != got {
		t.Errorf("Init(%s) after Init(\"\") = %q, %v; want %q", lib, again, err, got)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(other); !errors.Is(err, ErrLib) || !strings.Contains(err.Error(), "already loaded") {
		t.Errorf("Init with another library: %v, want ErrLib saying already loaded", err)
	}
}
