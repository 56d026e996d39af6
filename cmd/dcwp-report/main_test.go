package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dcwp-report reads run directories only: it must build and run without libtorch.
func TestNoLibtorch(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/dcwp-go/dcwp/driver") {
			t.Errorf("dcwp-report depends on %s (libtorch)", p)
		}
	}
}

func TestBadInput(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"dcwp-report", t.TempDir()}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "no run directory") {
		t.Fatalf("empty folder: exit %d\n%s", code, stderr.String())
	}
	if code := run([]string{"dcwp-report", "--format", "xls", "x"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--format") {
		t.Fatalf("bad format: exit %d\n%s", code, stderr.String())
	}
	// a flag after the folders was read as a folder ("stat --out: no such file or directory")
	stderr.Reset()
	dir := t.TempDir()
	out := filepath.Join(dir, "table.md")
	code := run([]string{"dcwp-report", dir, "--out", out}, &stdout, &stderr)
	if want := fmt.Sprintf("put the flags first, as in %q", "dcwp-report --out "+out+" "+dir); code != 2 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("flag after a folder: exit %d, want 2 and %s\n%s", code, want, stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("%s was written", out)
	}
}
