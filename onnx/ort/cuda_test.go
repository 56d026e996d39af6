package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// missingNeeded asks the dynamic loader for each library an ELF file needs: none is missing
// for the CPU build (it needs only the C and C++ runtimes), and a file that is no ELF is an
// error naming it. What it finds missing for the CUDA build, and the libraries it finds beside
// the runtime, dcwp-eval's TestCUDAProviderBuilds checks against ldconfig's cache.
func TestMissingNeeded(t *testing.T) {
	cpu, err := FindLib("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "libonnxruntime_providers_cuda.so")
	if err := os.WriteFile(junk, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, dir string
		missing         []string // exactly these; nil: none
		err             string
	}{
		{"CPU build", cpu, filepath.Dir(cpu), nil, ""},
		{"not an ELF file", junk, dir, nil, junk},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			miss, err := missingNeeded(c.file, c.dir)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range miss {
				names = append(names, m.String())
			}
			if strings.Join(names, ",") != strings.Join(c.missing, ",") {
				t.Errorf("missing %q, want %q", names, c.missing)
			}
		})
	}
}
