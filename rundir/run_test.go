package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/tensor"
)

// writeRun makes a minimal mlp run whose weights are 0.5 and whose mask keeps even indices.
func writeRun(t *testing.T, dir string) {
	t.Helper()
	cfg := validConfig(t)
	cfg.Variant = Clean
	if err := atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), cfg); err != nil {
		t.Fatal(err)
	}
	a, _ := arch.ForRun("mlp", "cmnist", false)
	params, masks := map[string]tensor.Tensor{}, map[string]tensor.Tensor{}
	for _, p := range a.Params() {
		w := make([]float32, p.Numel())
		for i := range w {
			w[i] = 0.5
		}
		params[p.Name] = tensor.F32(w, p.Shape...)
		if p.Masked {
			m := make([]uint8, p.Numel())
			for i := range m {
				m[i] = uint8(1 - i%2)
			}
			masks[p.Name] = tensor.U8(m, p.Shape...)
		}
	}
	for file, ts := range map[string]map[string]tensor.Tensor{VanillaFile: params, DCWPFile: params, MaskFile: masks} {
		if err := tensor.WriteFile(filepath.Join(dir, file), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNetworkRoundTripAndFold(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Network(DCWP)
	if err != nil {
		t.Fatal(err)
	}
	f := n.Folded()["fc1.weight"].F32
	if f[0] != 0.5 || f[1] != 0 {
		t.Fatalf("folded weight starts %v, want [0.5 0 ...]", f[:2])
	}
	kept, total := n.Kept()
	if total != 248720 || kept != total/2 {
		t.Fatalf("kept %d of %d", kept, total)
	}
	overall, per := KeptRatios(n.Masks)
	if overall != 0.5 || len(per) != 4 || per["fc.weight"] != 0.5 {
		t.Fatalf("KeptRatios = %v, %v; want 0.5 overall and per layer", overall, per)
	}
}

func TestOpenRejectsBadRuns(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string)
		which string
		want  string
	}{
		{"missing dir", func(dir string) { os.RemoveAll(dir) }, Vanilla, "no such file"},
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, ConfigFile)) }, Vanilla, "no config.json"},
		{"bad json", func(dir string) { os.WriteFile(filepath.Join(dir, ConfigFile), []byte("{"), 0o644) }, Vanilla, "not valid JSON"},
		{"unknown model", func(dir string) {
			c := validConfig(t)
			c.Model = "vgg"
			atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), c)
		}, Vanilla, `unknown model "vgg"`},
		{"model mismatch", func(dir string) {
			c := validConfig(t)
			c.Model, c.Variant = "cnn", Clean
			atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), c)
		}, Vanilla, "does not match model cnn"},
		{"missing mask", func(dir string) { os.Remove(filepath.Join(dir, MaskFile)) }, DCWP, "mask.safetensors is missing"},
		{"truncated", func(dir string) {
			p := filepath.Join(dir, VanillaFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, Vanilla, "not a valid safetensors file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			os.Mkdir(dir, 0o755)
			writeRun(t, dir)
			c.setup(dir)
			r, err := Open(dir)
			if err == nil {
				_, err = r.Network(c.which)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
