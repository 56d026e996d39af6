package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestEngineRecorded: a short mlp run on the fixture trains end to end with the engine the
// binary was built with (`go test -tags gotch` runs it on gotch) and records that engine
// and its libtorch in config.json and --version.
func TestEngineRecorded(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if code, stderr := runCmd(t, append([]string{"--data", data, "--out", out}, tinyFlags...)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	cfg, err := rundir.ReadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Engine != torch.Engine || cfg.Libtorch != torch.Version() || cfg.Libtorch == "" {
		t.Errorf("config.json records engine %q libtorch %q, want %q %q", cfg.Engine, cfg.Libtorch, torch.Engine, torch.Version())
	}
	sum, err := rundir.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.DCWP == nil {
		t.Fatal("the run reported no DCWP network")
	}
	t.Logf("%s engine, libtorch %s: test accuracy vanilla %.3f, dcwp %.3f; mined %+v", torch.Engine, torch.Version(), sum.Vanilla.Test.Accuracy, sum.DCWP.Test.Accuracy, sum.Mined)
	for _, want := range []string{"engine " + torch.Engine, "libtorch " + torch.Version()} {
		if v := versionText(); !strings.Contains(v, want) {
			t.Errorf("--version says %q, want it to say %q", v, want)
		}
	}
}
