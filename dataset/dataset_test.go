package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pixel value encodes (sample, channel, y, x) so order mistakes show up.
func pix(n, c, y, x int) uint8 { return uint8((n*7 + c*50 + y*3 + x) % 256) }

func writeImg(t testing.TB, path string, n, h, w int, jpg bool) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{pix(n, 0, y, x), pix(n, 1, y, x), pix(n, 2, y, x), 255})
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var err error
	if jpg {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type fx struct{ label, bias int }

// writeFolder writes samples as <dir>/<label>/<n>_<label>_<bias>.png (sub=true) or flat.
func writeFolder(t testing.TB, dir string, start int, samples []fx, h, w int, sub bool) {
	for k, s := range samples {
		n := start + k
		name := fmt.Sprintf("%05d_%d_%d.png", n, s.label, s.bias)
		p := filepath.Join(dir, name)
		if sub {
			p = filepath.Join(dir, fmt.Sprint(s.label), name)
		}
		writeImg(t, p, n, h, w, false)
	}
}

func fixtures(t testing.TB) string {
	root := t.TempDir()
	align := []fx{{0, 0}, {1, 1}, {2, 2}, {1, 1}}
	confl := []fx{{0, 3}, {2, 1}}
	unb := []fx{{0, 1}, {1, 0}, {2, 2}}
	for _, ds := range []struct {
		name string
		size int
	}{{"cmnist", 28}, {"cifar10c", 32}} {
		for _, pct := range []string{"0.5pct", "1pct"} {
			writeFolder(t, filepath.Join(root, ds.name, pct, "align"), 0, align, ds.size, ds.size, true)
			writeFolder(t, filepath.Join(root, ds.name, pct, "conflict"), 100, confl, ds.size, ds.size, true)
			writeFolder(t, filepath.Join(root, ds.name, pct, "valid"), 200, unb, ds.size, ds.size, true)
		}
		writeFolder(t, filepath.Join(root, ds.name, "test"), 300, unb, ds.size, ds.size, true)
	}
	b2 := []fx{{0, 0}, {1, 1}, {1, 1}}
	writeFolder(t, filepath.Join(root, "bffhq", "0.5pct", "align"), 0, b2, 128, 128, true)
	writeFolder(t, filepath.Join(root, "bffhq", "0.5pct", "conflict"), 100, []fx{{0, 1}}, 128, 128, true)
	writeFolder(t, filepath.Join(root, "bffhq", "valid"), 200, []fx{{0, 1}, {1, 0}}, 128, 128, false)
	writeFolder(t, filepath.Join(root, "bffhq", "test"), 300, []fx{{0, 1}, {1, 0}, {1, 1}}, 128, 128, false)
	// celeba: 178x218 JPEGs + CSV (with an extra leading column, as pandas writes it).
	cdir := filepath.Join(root, "celebA")
	csv := "idx,image_id,Blond_Hair,Male,split\n"
	rows := []struct{ lab, bias, split int }{{1, 0, 0}, {0, 1, 0}, {0, 0, 0}, {1, 1, 1}, {0, 1, 2}, {1, 0, 2}}
	for i, r := range rows {
		id := fmt.Sprintf("%06d.jpg", i+1)
		writeImg(t, filepath.Join(cdir, CelebAImageDir, id), i, 218, 178, true)
		csv += fmt.Sprintf("%d,%s,%d,%d,%d\n", i, id, r.lab, r.bias, r.split)
	}
	if err := os.WriteFile(filepath.Join(cdir, CelebACSV), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLoadLayouts(t *testing.T) {
	root := fixtures(t)
	cases := []struct {
		ds, pct, split string
		n, conflicts   int
		c, h, w        int
		in             [3]int
		firstLabel     int32
	}{
		{"cmnist", "0.5", "train", 6, 2, 3, 28, 28, [3]int{3, 28, 28}, 0},
		{"cmnist", "1", "valid", 3, 2, 3, 28, 28, [3]int{3, 28, 28}, 0},
		{"cmnist", "5", "test", 3, 2, 3, 28, 28, [3]int{3, 28, 28}, 0},
		{"cifar10c", "1pct", "train", 6, 2, 3, 32, 32, [3]int{3, 32, 32}, 0},
		{"cifar10c", "0.5", "val", 3, 2, 3, 32, 32, [3]int{3, 32, 32}, 0},
		{"bffhq", "0.5", "train", 4, 1, 3, 128, 128, [3]int{3, 128, 128}, 0},
		{"bffhq", "", "valid", 2, 2, 3, 128, 128, [3]int{3, 128, 128}, 0},
		{"bffhq", "", "test", 3, 2, 3, 128, 128, [3]int{3, 128, 128}, 0},
		{"celeba", "", "train", 3, 2, 3, 218, 178, [3]int{3, 224, 224}, 1},
		{"celebA", "", "valid", 1, 0, 3, 218, 178, [3]int{3, 224, 224}, 1},
		{"celeba", "", "test", 2, 2, 3, 218, 178, [3]int{3, 224, 224}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.ds+"/"+tc.pct+"/"+tc.split, func(t *testing.T) {
			for pass := 0; pass < 2; pass++ { // second pass reads the cache
				s, err := Load(root, tc.ds, share(tc.pct), tc.split)
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() != tc.n || s.NumConflicting() != tc.conflicts || s.C != tc.c || s.H != tc.h || s.W != tc.w {
					t.Fatalf("pass %d: got n=%d conflicts=%d %dx%dx%d", pass, s.Len(), s.NumConflicting(), s.C, s.H, s.W)
				}
				if len(s.Images) != s.Len()*s.C*s.H*s.W || len(s.Paths) != s.Len() || len(s.Bias) != s.Len() {
					t.Fatal("inconsistent lengths")
				}
				if s.InputShape() != tc.in {
					t.Fatalf("InputShape %v", s.InputShape())
				}
				if s.Labels[0] != tc.firstLabel {
					t.Fatalf("first label %d", s.Labels[0])
				}
				for i := range s.Len() {
					if s.Conflicting(i) != (s.Labels[i] != s.Bias[i]) {
						t.Fatal("Conflicting")
					}
				}
				if tc.ds == "celeba" || tc.ds == "celebA" {
					continue // JPEG is lossy
				}
				// PNG pixels are exact: check each sample's pixel (c=1,y=2,x=3) against its
				// file's index, so that every joined part of a split is checked.
				for i, path := range s.Paths {
					var n int
					fmt.Sscanf(filepath.Base(path), "%d_", &n)
					if got := s.Image(i)[1*s.H*s.W+2*s.W+3]; got != pix(n, 1, 2, 3) {
						t.Fatalf("pass %d sample %d: pixel %d want %d", pass, i, got, pix(n, 1, 2, 3))
					}
				}
			}
		})
	}
}

func TestCacheInvalidation(t *testing.T) {
	root := fixtures(t)
	dir := filepath.Join(root, "cmnist", "1pct", "valid")
	lc := Loader{CacheDir: t.TempDir()}
	s, err := lc.Load(root, "cmnist", MustShare("1"), "valid")
	if err != nil {
		t.Fatal(err)
	}
	cp := lc.cachePath(&source{dir: dir})
	if _, err := os.Stat(cp); err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	// Add a file: the cache must be rebuilt, not reused.
	writeFolder(t, dir, 500, []fx{{4, 5}}, 28, 28, true)
	s2, err := lc.Load(root, "cmnist", MustShare("1"), "valid")
	if err != nil {
		t.Fatal(err)
	}
	if s2.Len() != s.Len()+1 {
		t.Fatalf("stale cache: %d samples", s2.Len())
	}
	// Corrupt the cache: a warning and a rebuild, same result.
	b, _ := os.ReadFile(cp)
	b[len(b)-10] ^= 0xff
	os.WriteFile(cp, b, 0o644)
	var warned string
	l := Loader{CacheDir: lc.CacheDir, Warnf: func(f string, a ...any) { warned = fmt.Sprintf(f, a...) }}
	s3, err := l.Load(root, "cmnist", MustShare("1"), "valid")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warned, "corrupt") || !bytes.Equal(s3.Images, s2.Images) {
		t.Fatalf("corrupt cache not detected (warning %q)", warned)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(root string) (ds, split, wantInMsg string)
		wantErr error
	}{
		{"missing folder", func(root string) (string, string, string) {
			return "cmnist", "train", filepath.Join(root, "cmnist", "1pct", "align")
		}, fs.ErrNotExist},
		{"name without label and bias", func(root string) (string, string, string) {
			d := filepath.Join(root, "cmnist", "test", "3")
			writeImg(t, filepath.Join(d, "00001_3_3.png"), 1, 28, 28, false)
			p := filepath.Join(d, "digit.png")
			writeImg(t, p, 2, 28, 28, false)
			return "cmnist", "test", p
		}, ErrBadName},
		{"bias out of range", func(root string) (string, string, string) {
			p := filepath.Join(root, "bffhq", "test", "7_1_2.png")
			writeImg(t, p, 2, 128, 128, false)
			return "bffhq", "test", p
		}, ErrBadName},
		{"corrupt png", func(root string) (string, string, string) {
			d := filepath.Join(root, "cmnist", "test", "3")
			writeImg(t, filepath.Join(d, "00001_3_3.png"), 1, 28, 28, false)
			p := filepath.Join(d, "00002_3_4.png")
			os.WriteFile(p, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
			return "cmnist", "test", p
		}, nil},
		{"image size differs", func(root string) (string, string, string) {
			d := filepath.Join(root, "cmnist", "test", "3")
			writeImg(t, filepath.Join(d, "00001_3_3.png"), 1, 28, 28, false)
			p := filepath.Join(d, "00002_3_4.png")
			writeImg(t, p, 1, 20, 28, false)
			return "cmnist", "test", p
		}, ErrImageSize},
		{"empty folder", func(root string) (string, string, string) {
			d := filepath.Join(root, "cmnist", "test")
			os.MkdirAll(d, 0o755)
			return "cmnist", "test", d
		}, ErrNoImages},
		{"csv missing column", func(root string) (string, string, string) {
			d := filepath.Join(root, "celebA")
			os.MkdirAll(d, 0o755)
			p := filepath.Join(d, CelebACSV)
			os.WriteFile(p, []byte("image_id,split,Blond_Hair\n000001.jpg,0,1\n"), 0o644)
			return "celeba", "train", p
		}, ErrBadCSV},
		{"csv bad value", func(root string) (string, string, string) {
			d := filepath.Join(root, "celebA")
			os.MkdirAll(d, 0o755)
			p := filepath.Join(d, CelebACSV)
			os.WriteFile(p, []byte("image_id,split,Blond_Hair,Male\n000001.jpg,0,yes,1\n"), 0o644)
			return "celeba", "train", p
		}, ErrBadCSV},
		{"celeba image missing", func(root string) (string, string, string) {
			d := filepath.Join(root, "celebA")
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, CelebACSV), []byte("image_id,split,Blond_Hair,Male\n000001.jpg,0,1,1\n"), 0o644)
			return "celeba", "train", filepath.Join(d, CelebAImageDir, "000001.jpg")
		}, fs.ErrNotExist},
		{"unknown dataset", func(root string) (string, string, string) { return "imagenet", "train", "imagenet" }, ErrUnknown},
		{"unknown split", func(root string) (string, string, string) { return "cmnist", "dev", "dev" }, ErrUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			ds, split, want := tc.setup(root)
			s, err := Load(root, ds, MustShare("1"), split)
			if err == nil {
				t.Fatalf("no error, got %d samples", s.Len())
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name %q", err, want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %q is not %v", err, tc.wantErr)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	root := fixtures(t)
	cases := []struct {
		ds, split string
		train     bool
	}{
		{"cmnist", "train", true}, {"cmnist", "test", false},
		{"cifar10c", "train", true}, {"cifar10c", "test", false},
		{"bffhq", "train", true}, {"bffhq", "test", false},
		{"celeba", "train", true}, {"celeba", "test", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.ds, "/", tc.split, "/", tc.train), func(t *testing.T) {
			s, err := Load(root, tc.ds, MustShare("0.5"), tc.split)
			if err != nil {
				t.Fatal(err)
			}
			idx := []int{1, 0, 1}
			x, shape := s.Batch(idx, tc.train, rand.New(rand.NewPCG(1, 2)))
			in := s.InputShape()
			if shape != [4]int{3, in[0], in[1], in[2]} || len(x) != 3*in[0]*in[1]*in[2] {
				t.Fatalf("shape %v len %d", shape, len(x))
			}
			for _, v := range x {
				if v < 0 || v > 1 {
					t.Fatalf("value %v outside [0,1]", v)
				}
			}
			x2, _ := s.Batch(idx, tc.train, rand.New(rand.NewPCG(1, 2)))
			if !slices.Equal(x, x2) {
				t.Fatal("same rng state gave a different batch")
			}
			per := len(x) / 3
			if !tc.train {
				if !slices.Equal(x[:per], x[2*per:]) {
					t.Fatal("eval transform is not deterministic")
				}
				if tc.ds == "cmnist" || tc.ds == "cifar10c" || tc.ds == "bffhq" {
					img := s.Image(1)
					for j := range img {
						if x[j] != float32(img[j])/255 {
							t.Fatalf("eval x[%d]=%v want %v", j, x[j], float32(img[j])/255)
						}
					}
				}
			}
			if tc.ds == "cmnist" && !slices.Equal(x[:per], x[2*per:]) {
				t.Fatal("cmnist has no train transform")
			}
			px, rshape, ok := s.RawBatch(idx, tc.train)
			identity := tc.ds == "cmnist" || (!tc.train && (tc.ds == "cifar10c" || tc.ds == "bffhq"))
			if ok != identity {
				t.Fatalf("RawBatch ok %v, want %v", ok, identity)
			}
			if ok {
				if rshape != shape || len(px) != len(x) {
					t.Fatalf("RawBatch shape %v len %d, Batch %v len %d", rshape, len(px), shape, len(x))
				}
				for j, v := range px {
					if float32(v)/255 != x[j] {
						t.Fatalf("RawBatch[%d]=%d, Batch %v", j, v, x[j])
					}
				}
			}
			// BatchInto reuses the buffer.
			buf := make([]float32, 0, len(x))
			y, _ := s.BatchInto(buf, idx, false, nil)
			if &y[0] != &buf[:1][0] {
				t.Fatal("BatchInto did not reuse dst")
			}
		})
	}
}

func TestCropFlip(t *testing.T) {
	// 1 channel 2x3 image, shift right by one (dx=-1) and flip.
	img := []uint8{10, 20, 30, 40, 50, 60}
	out := make([]float32, 6)
	cropPadFlip(out, img, 1, 2, 3, 4, 0, -1, false)
	want := []float32{0, 10, 20, 0, 40, 50}
	for i := range want {
		if out[i] != want[i]/255 {
			t.Fatalf("crop %v", out)
		}
	}
	cropPadFlip(out, img, 1, 2, 3, 4, 0, 0, true)
	want = []float32{30, 20, 10, 60, 50, 40}
	for i := range want {
		if out[i] != want[i]/255 {
			t.Fatalf("flip %v", out)
		}
	}
	if h, w := resizeShorter(218, 178, 256); h != 313 || w != 256 {
		t.Fatalf("resizeShorter %d %d", h, w)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		top, left, h, w := randomResizedCrop(r, 218, 178, 0.7, 1, 3.0/4, 4.0/3)
		if top < 0 || left < 0 || top+h > 218 || left+w > 178 || float64(h*w) < 0.69*218*178 {
			t.Fatalf("crop %d %d %d %d", top, left, h, w)
		}
	}
}
