package dcwp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/rundir"
)

// rewriteFixture writes the fixture's images (testData/cmnist) as a CSV manifest with bias
// (rows in the order the cmnist layout reads them) and as an ImageFolder of symbolic links,
// without bias.
func rewriteFixture(t *testing.T) (manifest, folder string) {
	dir := t.TempDir()
	manifest, folder = filepath.Join(dir, "m.csv"), filepath.Join(dir, "folder")
	rows := []string{"path,label,split,bias"}
	for _, p := range []struct{ sub, split string }{{"1pct/align", "train"}, {"1pct/conflict", "train"}, {"1pct/valid", "valid"}, {"test", "test"}} {
		s, err := dataset.LoadDir(filepath.Join(testData, "cmnist", p.sub), "cmnist")
		if err != nil {
			t.Fatal(err)
		}
		for i, path := range s.Paths {
			rows = append(rows, fmt.Sprintf("%s,%d,%s,%d", path, s.Labels[i], p.split, s.Bias[i]))
			link := filepath.Join(folder, p.split, fmt.Sprint(s.Labels[i]), filepath.Base(path))
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(manifest, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return manifest, folder
}

func folderConfig(t *testing.T, data string) rundir.Config {
	c := tinyConfig(t, data, "clean")
	f, err := Preset("quick", "folder", dataset.Share{}, "mlp", "clean")
	if err != nil {
		t.Fatal(err)
	}
	if f.LambdaUp != c.LambdaUp || f.BatchSize != 256 || f.MiningModel == nil {
		t.Fatalf("folder's quick mlp preset %+v differs from cmnist 1 %%'s", f)
	}
	c.Dataset, c.ConflictPct, c.Miner = "folder", dataset.Share{}, "wrong"
	return c
}

// The fixture as a manifest trains exactly as the cmnist layout does: the same images in the
// same order, the same figures. As an ImageFolder without bias it trains and reports no
// group figures and no mined precision/recall.
func TestFolderDataset(t *testing.T) {
	manifest, folder := rewriteFixture(t)
	ref := tinyConfig(t, testData, "clean")
	ref.Miner = "wrong"
	want, err := Run(Options{Config: ref, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	got, err := Run(Options{Config: folderConfig(t, manifest), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if got.DCWP.Test.ConflictingAccuracy != want.DCWP.Test.ConflictingAccuracy || got.Vanilla.Test.Accuracy != want.Vanilla.Test.Accuracy ||
		got.Mined != want.Mined || got.Mined.Unscored != "" {
		t.Fatalf("manifest run: vanilla %v dcwp %+v mined %+v; cmnist run: vanilla %v dcwp %+v mined %+v",
			got.Vanilla.Test.Accuracy, got.DCWP.Test, got.Mined, want.Vanilla.Test.Accuracy, want.DCWP.Test, want.Mined)
	}
	r, err := rundir.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Config.DataSpec; s == nil || s.Classes != 10 || s.Input != [3]int{3, 28, 28} || len(s.ClassNames) != 10 {
		t.Fatalf("config data_spec %+v", s)
	}

	out = t.TempDir()
	sum, err := Run(Options{Config: folderConfig(t, folder), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name string
		e    rundir.Eval
	}{{"vanilla", sum.Vanilla}, {"dcwp", *sum.DCWP}} {
		if a.e.Test.GroupsUnavailable == "" || a.e.Test.Groups != nil || len(a.e.Test.PerClass) != 10 || a.e.Test.Accuracy <= 0 {
			t.Fatalf("%s test figures without bias labels: %+v", a.name, a.e.Test)
		}
	}
	if sum.Mined.Unscored == "" || sum.Mined.Flagged == 0 {
		t.Fatalf("mined without bias labels: %+v", sum.Mined)
	}
	raw, err := os.ReadFile(filepath.Join(out, rundir.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"aligned_accuracy", "conflicting_accuracy", "worst_group_accuracy", `"precision"`, `"recall"`} {
		if strings.Contains(string(raw), k) {
			t.Fatalf("summary.json without bias labels reports %s:\n%s", k, raw)
		}
	}
}

// Colored MNIST without valid/, read-only, its split folders symbolic links: the run trains
// on a carved validation split and records how it was made. Bad data leaves --out unwritten.
func TestPublishedLayoutWithoutValid(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "cmnist", "1pct"), 0o755)
	for _, p := range []string{"cmnist/test", "cmnist/1pct/align", "cmnist/1pct/conflict"} {
		if err := os.Symlink(filepath.Join(testData, p), filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "cmnist", "1pct"), 0o555)
	defer os.Chmod(filepath.Join(root, "cmnist", "1pct"), 0o755)
	cfg := tinyConfig(t, root, "clean")
	cfg.Stages = []string{rundir.StagePretrain}
	cfg.Mode = rundir.ModeVanilla
	out := t.TempDir()
	if _, err := Run(Options{Config: cfg, Out: out, Data: DataOptions{CacheDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	r, err := rundir.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Config.ValidSplit; v == nil || v.From != dataset.ValidCarve || v.Count == 0 || v.Share != dataset.DefaultValidShare {
		t.Fatalf("config valid_split %+v", v)
	}
	bad := filepath.Join(t.TempDir(), "run")
	cfg.Data = t.TempDir()
	if _, err := Run(Options{Config: cfg, Out: bad}); err == nil {
		t.Fatal("no error on an empty data folder")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatalf("--out written before the data was checked: %v", err)
	}
}

// Colored MNIST without valid/: the carved validation split takes a share of every (label,
// attribute) group, and the fixture's conflicting groups hold one image each, too few to
// carve, so it cannot see the bias. The log says so and gives its group counts; --select
// best-valid is refused as bad input before --out is written, unless --allow-biased-valid
// asks for it, which config.json records.
func TestBiasedValidRefused(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "cmnist", "1pct"), 0o755)
	for _, p := range []string{"cmnist/test", "cmnist/1pct/align", "cmnist/1pct/conflict"} {
		if err := os.Symlink(filepath.Join(testData, p), filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		sel   rundir.Selection
		allow bool
		want  string // the error; "": the run trains
	}{
		{"best-valid", rundir.SelectBestValid, false, "--allow-biased-valid"},
		{"best-valid asked for", rundir.SelectBestValid, true, ""},
		{"last", rundir.SelectLast, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := tinyConfig(t, root, "clean")
			cfg.Select, cfg.AllowBiasedValid = c.sel, c.allow
			cfg.Pretrain.Iters, cfg.Prune.Iters, cfg.Finetune.Iters, cfg.MiningModel.Iters = 2, 2, 2, 2
			out := filepath.Join(t.TempDir(), "run")
			var log strings.Builder
			_, err := Run(Options{Config: cfg, Out: out, Log: &log, Data: DataOptions{CacheDir: t.TempDir()}})
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrBadInput) {
					t.Fatalf("error %v, want bad input naming %s", err, c.want)
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Fatalf("--out written before the refusal: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for want, n := range map[string]int{"of each (label, attribute) group": 1,
				"validation groups (label: attribute value count, * conflicting): ":   10,
				"validation cannot see the bias: it holds no bias-conflicting sample": 1} {
				if got := strings.Count(log.String(), want); got != n {
					t.Fatalf("log says %q %d times, want %d:\n%s", want, got, n, log.String())
				}
			}
			r, err := rundir.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if r.Config.AllowBiasedValid != c.allow || r.Config.ValidSplit.By != dataset.CarveByGroup {
				t.Fatalf("config allow_biased_valid %v valid_split %+v", r.Config.AllowBiasedValid, r.Config.ValidSplit)
			}
		})
	}
}
