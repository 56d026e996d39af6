package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/tensor"
)

// writeIDRun makes a run like writeRun whose run.json holds id (none when "") and whose
// files carry id and their role, as dcwp-train writes them.
func writeIDRun(t *testing.T, dir, id string) {
	t.Helper()
	writeRun(t, dir)
	if id != "" {
		if _, err := WriteID(dir, id); err != nil {
			t.Fatal(err)
		}
	}
	for file, role := range map[string]string{VanillaFile: RoleVanilla, DCWPFile: RoleDCWP, MaskFile: RoleMask} {
		setMeta(t, filepath.Join(dir, file), FileMeta(id, role, nil))
	}
}

func setMeta(t *testing.T, path string, meta map[string]string) {
	t.Helper()
	ts, _, err := tensor.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tensor.WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNetworkIdentity requires files of another run, or another network of the same run,
// to be refused with a message naming the file, and runs older than ids to load with a
// warning unless their files disagree with each other.
func TestNetworkIdentity(t *testing.T) {
	cases := []struct {
		name  string
		which string
		setup func(t *testing.T, run, other string)
		want  string // error; "" = loads
		warn  string // a warning that must be given; "" = none
	}{
		{"own files", DCWP, func(t *testing.T, run, other string) {}, "", ""},
		{"mask of another run", DCWP, func(t *testing.T, run, other string) {
			copyFile(t, filepath.Join(other, MaskFile), filepath.Join(run, MaskFile))
		}, "mask.safetensors comes from run RUN-B, but " + "%RUN%/run.json says this is run RUN-A: files of two runs are mixed", ""},
		{"weights of another run", Vanilla, func(t *testing.T, run, other string) {
			copyFile(t, filepath.Join(other, VanillaFile), filepath.Join(run, VanillaFile))
		}, "vanilla.safetensors comes from run RUN-B", ""},
		{"mining network as vanilla", Vanilla, func(t *testing.T, run, other string) {
			setMeta(t, filepath.Join(run, VanillaFile), FileMeta("RUN-A", RoleBiased, map[string]string{"loss": "gce"}))
		}, "vanilla.safetensors holds the biased network (safetensors metadata role \"biased\"), not the vanilla one", ""},
		{"old trainer's mining network as vanilla", Vanilla, func(t *testing.T, run, other string) {
			setMeta(t, filepath.Join(run, VanillaFile), map[string]string{"network": "miner", "loss": "gce"})
		}, "holds the biased network", ""},
		{"dcwp weights as the mask's partner swapped", DCWP, func(t *testing.T, run, other string) {
			setMeta(t, filepath.Join(run, DCWPFile), FileMeta("RUN-A", RoleVanilla, nil))
		}, "dcwp.safetensors holds the vanilla network", ""},
		{"file without id in a run with one", DCWP, func(t *testing.T, run, other string) {
			setMeta(t, filepath.Join(run, MaskFile), nil)
		}, "", "mask.safetensors carries no run id"},
		{"run older than ids", DCWP, func(t *testing.T, run, other string) {
			os.Remove(filepath.Join(run, RunFile))
			setMeta(t, filepath.Join(run, DCWPFile), map[string]string{"network": "dcwp"})
			setMeta(t, filepath.Join(run, MaskFile), nil)
		}, "", "has no run.json"},
		{"run older than ids, files of two runs", DCWP, func(t *testing.T, run, other string) {
			os.Remove(filepath.Join(run, RunFile))
			copyFile(t, filepath.Join(other, MaskFile), filepath.Join(run, MaskFile))
		}, "mask.safetensors comes from run RUN-B, but %RUN%/dcwp.safetensors from run RUN-A", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, other := t.TempDir(), t.TempDir()
			writeIDRun(t, run, "RUN-A")
			writeIDRun(t, other, "RUN-B")
			c.setup(t, run, other)
			r, err := Open(run)
			if err != nil {
				t.Fatal(err)
			}
			n, err := r.Network(c.which)
			want := strings.ReplaceAll(c.want, "%RUN%", run)
			switch {
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Fatalf("error %v, want one saying %q", err, want)
			case want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case want == "" && c.warn == "" && len(n.Warnings) > 0:
				t.Fatalf("warnings %q, want none", n.Warnings)
			case want == "" && c.warn != "" && !strings.Contains(strings.Join(n.Warnings, "\n"), c.warn):
				t.Fatalf("warnings %q, want one saying %q", n.Warnings, c.warn)
			case want == "" && n.RunID != "RUN-A" && !strings.Contains(c.warn, "no run.json"):
				t.Fatalf("network's run id %q, want RUN-A", n.RunID)
			}
		})
	}
}

func TestEnsureID(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := ReadID(dir); ok || err != nil {
		t.Fatalf("empty directory: ok %v err %v", ok, err)
	}
	a, err := EnsureID(dir, false)
	if err != nil || len(a) < 20 {
		t.Fatalf("new id %q, %v", a, err)
	}
	if b, err := EnsureID(dir, false); err != nil || b != a {
		t.Fatalf("rerun changed the id: %q -> %q (%v)", a, b, err)
	}
	if c, err := EnsureID(dir, true); err != nil || c == a {
		t.Fatalf("a fresh run kept the id %q (%v)", c, err)
	}
	for _, bad := range []string{`{`, `{"run_id": ""}`, `{"run_id": "a/b"}`, `[]`, `{"run_id": "` + strings.Repeat("x", 65) + `"}`} {
		if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadID(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, RunFile)) {
			t.Errorf("run.json %s: error %v, want one naming the file", bad, err)
		}
	}
}

// FuzzParseRunFile: any bytes give an id that passes checkRunID or an error, never a panic.
func FuzzParseRunFile(f *testing.F) {
	for _, s := range []string{`{"run_id": "Q3ZJ4LBVJ5XKHW2PG6ETYS7NAM"}`, `{"run_id": ""}`, `{}`, `null`, `{"run_id": 5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := parseRunFile(b)
		if err == nil && checkRunID(id) != nil {
			t.Fatalf("accepted bad id %q", id)
		}
	})
}

// TestHalfIdentityRefused: a file with a role but no run id, or a run id but no role, was
// not written so by dcwp-train (which writes both, and older versions neither).
func TestHalfIdentityRefused(t *testing.T) {
	for name, meta := range map[string]map[string]string{
		"role, no run id": {MetaRole: RoleDCWP},
		"run id, no role": {MetaRunID: "RUN-A"},
		"bad run id":      {MetaRunID: "RUN A", MetaRole: RoleDCWP},
	} {
		t.Run(name, func(t *testing.T) {
			run := t.TempDir()
			writeIDRun(t, run, "RUN-A")
			setMeta(t, filepath.Join(run, DCWPFile), meta)
			r, err := Open(run)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Network(DCWP); err == nil || !strings.Contains(err.Error(), filepath.Join(run, DCWPFile)+": safetensors metadata has run id") {
				t.Fatalf("error %v, want the half identity refused", err)
			}
		})
	}
}
