package main

import (
	"os/exec"
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
}
