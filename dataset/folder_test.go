package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// imageFolder writes root/{train,valid,test}/<class>/<n>.png with sizes h×w (odd samples
// of train at 2h×2w when mixed).
func imageFolder(t *testing.T, root string, classes []string, perClass int, h, w int, mixed bool) {
	n := 0
	for _, sp := range []string{Train, Valid, Test} {
		for _, c := range classes {
			for k := range perClass {
				hh, ww := h, w
				if mixed && sp == Train && k%2 == 1 {
					hh, ww = 2*h, 2*w
				}
				writeImg(t, filepath.Join(root, sp, c, fmt.Sprintf("%03d.png", n)), n, hh, ww, k%3 == 2)
				n++
			}
		}
	}
}

func quietLoader(t *testing.T) (Loader, *[]string) {
	var warned []string
	return Loader{CacheDir: t.TempDir(), Warnf: func(f string, a ...any) { warned = append(warned, fmt.Sprintf(f, a...)) }}, &warned
}

func TestImageFolder(t *testing.T) {
	root := t.TempDir()
	imageFolder(t, root, []string{"dog", "cat", "bird"}, 3, 12, 10, true)
	l, warned := quietLoader(t)
	d, err := l.Open(Request{Root: root, Name: "folder"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bird", "cat", "dog"}; !slices.Equal(d.Spec.ClassNames, want) || d.Spec.Classes != 3 {
		t.Fatalf("classes %v, want %v", d.Spec.ClassNames, want)
	}
	if d.Spec.Input != [3]int{3, 12, 10} || d.Train.H != 12 || d.Test.W != 10 {
		t.Fatalf("input %v, train %dx%d", d.Spec.Input, d.Train.H, d.Train.W)
	}
	if d.Train.HasBias() || d.Test.HasBias() || d.Train.Len() != 9 || d.Valid.Len() != 9 || d.ValidFrom.From != "layout" {
		t.Fatalf("bias %v, train %d, valid %d from %q", d.Train.HasBias(), d.Train.Len(), d.Valid.Len(), d.ValidFrom.From)
	}
	if len(*warned) == 0 || !strings.Contains((*warned)[0], "resized") {
		t.Fatalf("mixed sizes: warnings %q, want one saying images were resized", *warned)
	}
	// Label k is the k-th sorted class: bird's images are the third folder written.
	if d.Train.Labels[0] != 0 || !strings.Contains(d.Train.Paths[0], "bird") {
		t.Fatalf("first sample %s label %d", d.Train.Paths[0], d.Train.Labels[0])
	}
	x, shape := d.Test.Batch([]int{0, 1}, true, nil)
	if shape != [4]int{2, 3, 12, 10} || len(x) != 2*3*12*10 {
		t.Fatalf("batch %v", shape)
	}
	// --image-size resizes everything; a second load reads the cache.
	for range 2 {
		d2, err := l.Open(Request{Root: root, Name: "imagefolder", ImageSize: [2]int{8, 8}, Mean: ImageNetMean, Std: ImageNetStd})
		if err != nil {
			t.Fatal(err)
		}
		if d2.Spec.Input != [3]int{3, 8, 8} || d2.Valid.H != 8 || !slices.Equal(d2.Spec.Mean, ImageNetMean) {
			t.Fatalf("resized spec %+v", d2.Spec)
		}
	}
}

// Colored MNIST without valid/, read-only, with symlinked split folders: train and test
// load, valid is carved from train by a fixed seed, and nothing is written to the data.
func TestPublishedLayoutReadOnly(t *testing.T) {
	real := fixtures(t)
	root := t.TempDir()
	os.RemoveAll(filepath.Join(real, "cmnist", "1pct", "valid"))
	os.MkdirAll(filepath.Join(root, "cmnist", "1pct"), 0o755)
	for _, p := range []string{"cmnist/test", "cmnist/1pct/align", "cmnist/1pct/conflict"} {
		if err := os.Symlink(filepath.Join(real, p), filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	before := treeList(t, real)
	chmodTree(t, real, false)
	t.Cleanup(func() { chmodTree(t, real, true) })
	l, _ := quietLoader(t)
	var got [2]*Data
	for k := range got {
		d, err := l.Open(Request{Root: root, Name: "cmnist", Share: MustShare("1")})
		if err != nil {
			t.Fatal(err)
		}
		got[k] = d
	}
	d := got[0]
	if d.ValidFrom.From != ValidCarve || d.ValidFrom.Count != d.Valid.Len() || d.Valid.Len() == 0 || d.Train.Len()+d.Valid.Len() != 6 {
		t.Fatalf("valid from %+v: %d, train %d", d.ValidFrom, d.Valid.Len(), d.Train.Len())
	}
	if !slices.Equal(got[0].Valid.Paths, got[1].Valid.Paths) {
		t.Fatal("the carve-out differs between loads")
	}
	if !strings.Contains(d.ValidFrom.String(), "carved from train") {
		t.Fatalf("ValidFrom says %q", d.ValidFrom)
	}
	if after := treeList(t, real); !slices.Equal(before, after) {
		t.Fatalf("data folder changed: %v -> %v", before, after)
	}
	if _, err := l.Open(Request{Root: root, Name: "cmnist", Share: MustShare("1"), Valid: filepath.Join(real, "cmnist", "test")}); err != nil {
		t.Fatalf("--valid DIR: %v", err)
	}
}

func treeList(t *testing.T, root string) []string {
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		out = append(out, p)
		return nil
	})
	return out
}

func chmodTree(t *testing.T, root string, writable bool) {
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			m := info.Mode().Perm() &^ 0o222
			if writable {
				m |= 0o200
			}
			os.Chmod(p, m)
		}
		return nil
	})
}

func TestManifest(t *testing.T) {
	root := t.TempDir()
	var rows []string
	n := 0
	for _, sp := range []string{"train", "val", "test"} {
		for k := range 6 {
			p := fmt.Sprintf("img/%s_%d.png", sp, k)
			writeImg(t, filepath.Join(root, p), n, 9, 9, false)
			n++
			bias := fmt.Sprint(k % 2)
			if sp == "test" {
				bias = ""
			}
			rows = append(rows, fmt.Sprintf("%s,%d,%s,%s", p, k%3, sp, bias))
		}
	}
	csv := filepath.Join(root, "m.csv")
	os.WriteFile(csv, []byte("\ufeffPath,Label,Split,Bias,extra\n"+strings.Join(rows, ",x\n")+",x\n"), 0o644)
	l, _ := quietLoader(t)
	d, err := l.Open(Request{Root: csv, Name: "folder"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Classes != 3 || !slices.Equal(d.Spec.ClassNames, []string{"0", "1", "2"}) {
		t.Fatalf("classes %v", d.Spec.ClassNames)
	}
	// bias is an attribute of its own: every class meets "0" and "1" once, the tie goes to
	// "0", so the three rows with "1" conflict (not the four where bias != label).
	if !d.Train.HasBias() || !d.Valid.HasBias() || d.Test.HasBias() || d.Train.NumConflicting() != 3 {
		t.Fatalf("bias: train %v (%d conflicting) valid %v test %v", d.Train.HasBias(), d.Train.NumConflicting(), d.Valid.HasBias(), d.Test.HasBias())
	}
	if d.Train.Labels[4] != 1 || d.Train.Bias[4] != 0 {
		t.Fatalf("row 5: label %d bias %d", d.Train.Labels[4], d.Train.Bias[4])
	}
}

func TestFolderBadInput(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, root string) string // returns --data
		want  []string
		is    error
	}{
		{"empty class folder", func(t *testing.T, root string) string {
			imageFolder(t, root, []string{"a", "b"}, 2, 8, 8, false)
			os.MkdirAll(filepath.Join(root, "test", "b2"), 0o755)
			return root
		}, []string{"b2", "not one of train's"}, nil},
		{"empty train class", func(t *testing.T, root string) string {
			imageFolder(t, root, []string{"a", "b"}, 2, 8, 8, false)
			os.MkdirAll(filepath.Join(root, "train", "c"), 0o755)
			return root
		}, []string{filepath.Join("train", "c"), "no PNG or JPEG"}, ErrNoImages},
		{"unreadable image", func(t *testing.T, root string) string {
			imageFolder(t, root, []string{"a", "b"}, 2, 8, 8, false)
			os.WriteFile(filepath.Join(root, "train", "b", "zz.png"), []byte("not a png"), 0o644)
			return root
		}, []string{"zz.png"}, ErrBadImage},
		{"no train", func(t *testing.T, root string) string { return root }, []string{"train"}, nil},
		{"missing file", manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\ngone.png,a,test\n"), []string{"line 4", "gone.png"}, os.ErrNotExist},
		{"unknown class", manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\nok3.png,c,test\n"), []string{"line 4", `label "c"`}, ErrBadCSV},
		{"duplicate path", manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\n./ok.png,a,test\n"), []string{"line 4", "first on line 2"}, ErrBadCSV},
		{"no label column", manifestWith("path,class,split\nok.png,a,train\n"), []string{`no column "label"`}, ErrBadCSV},
		{"bad split", manifestWith("path,label,split\nok.png,a,training\n"), []string{"line 2", "training"}, ErrBadCSV},
		{"bias on some rows", manifestWith("path,label,split,bias\nok.png,a,train,a\nok2.png,b,train,\n"), []string{"line 3", "bias is empty"}, ErrBadCSV},
		// Issue 26's hostile manifests: each was read as something else without a word.
		{"label column twice", manifestWith("path,label,split,label\nok.png,a,train,b\nok2.png,b,train,a\n"), []string{`column "label" is given twice (columns 2 and 4)`}, ErrBadCSV},
		{"same image relative and absolute", func(t *testing.T, root string) string {
			return manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\n"+filepath.Join(root, "ok.png")+",a,test\n")(t, root)
		}, []string{"line 4", "listed again (first on line 2 as ok.png)"}, ErrBadCSV},
		{"same image through ..", manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\nsub/../ok.png,a,test\n"), []string{"line 4", "line 2"}, ErrBadCSV},
		{"label -1 among indices", manifestWith("path,label,split\nok.png,0,train\nok2.png,-1,train\nok3.png,2,test\n"), []string{"line 3", "label -1", "class indices, 0 to 65535"}, ErrBadCSV},
		{"label 65536 among indices", manifestWith("path,label,split\nok.png,0,train\nok2.png,65536,train\n"), []string{"label 65536", "0 to 65535"}, ErrBadCSV},
		{"index label where classes are names", manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\nok3.png,1,test\n"), []string{"line 4", `label "1"`, "classes are names"}, ErrBadCSV},
		{"misspelt bias column", manifestWith("path,label,split,bais\nok.png,a,train,a\nok2.png,b,train,a\n"), []string{`column "bais"`, `did you mean "bias"`}, ErrBadCSV},
		{"bias column with a suffix", manifestWith("path,label,split,bias_label\nok.png,a,train,a\nok2.png,b,train,a\n"), []string{`column "bias_label"`, `did you mean "bias"`}, ErrBadCSV},
		{"misspelt label column", manifestWith("path,lable,split\nok.png,a,train\n"), []string{`column "lable"`, `did you mean "label"`}, ErrBadCSV},
		{"line after a quoted newline", manifestWith("path,label,split,note\nok.png,a,train,\"two\nlines\"\nok2.png,b,train,\ngone.png,a,test,\n"), []string{"line 5", "gone.png"}, os.ErrNotExist},
		{"CR-only line ends", manifestWith("path,label,split\rok.png,a,train\rok2.png,b,train\r" + strings.Repeat("x.png,a,train\r", 100)), []string{"lone CR"}, ErrBadCSV},
		{"manifest not named .csv", func(t *testing.T, root string) string {
			p := manifestWith("path,label,split\nok.png,a,train\nok2.png,b,train\n")(t, root)
			q := filepath.Join(root, "m.txt")
			if err := os.Rename(p, q); err != nil {
				t.Fatal(err)
			}
			return q
		}, []string{"m.txt is a file, not a folder", "*.csv"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			data := c.setup(t, root)
			l, _ := quietLoader(t)
			_, err := l.Open(Request{Root: data, Name: "folder"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %q is not %v", err, c.is)
			}
		})
	}
}

func manifestWith(text string) func(t *testing.T, root string) string {
	return func(t *testing.T, root string) string {
		for k, p := range []string{"ok.png", "ok2.png", "ok3.png"} {
			writeImg(t, filepath.Join(root, p), k, 8, 8, false)
		}
		p := filepath.Join(root, "m.csv")
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
}

// A decompression bomb (a tiny PNG declaring 30000×30000 pixels) is refused from its header.
func TestDecompressionBomb(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(p, bombPNG(30000, 30000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := decodeFile(p, nil)
	if err == nil || !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "30000x30000") || !strings.Contains(err.Error(), "bomb.png") {
		t.Fatalf("error %v, want the file, its size and ErrBadImage", err)
	}
}

// TestWalkSymlinkShapes: a "diamond" of folder links (21 levels of two links to the level
// below: 2^21 paths to one image, no loop) ends at once with an error naming both paths,
// where the walk listed every path; a loop is refused too, and one link to a folder (no
// second path) is followed.
func TestWalkSymlinkShapes(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T, root string) string // the folder to walk
		want  string                                 // error text; "": the walk lists one image
	}{
		{"diamond", func(t *testing.T, root string) string {
			writeImg(t, filepath.Join(root, "l0", "img.png"), 0, 4, 4, false)
			for k := 1; k <= 21; k++ {
				for _, side := range []string{"a", "b"} {
					mustDo(t, os.MkdirAll(filepath.Join(root, fmt.Sprintf("l%d", k)), 0o755))
					mustDo(t, os.Symlink(filepath.Join(root, fmt.Sprintf("l%d", k-1)), filepath.Join(root, fmt.Sprintf("l%d", k), side)))
				}
			}
			return filepath.Join(root, "l21")
		}, "again (two paths of symbolic links lead to it)"},
		{"loop", func(t *testing.T, root string) string {
			writeImg(t, filepath.Join(root, "top", "img.png"), 0, 4, 4, false)
			mustDo(t, os.Symlink(filepath.Join(root, "top"), filepath.Join(root, "top", "back")))
			return filepath.Join(root, "top")
		}, "symbolic link loop"},
		{"one link", func(t *testing.T, root string) string {
			writeImg(t, filepath.Join(root, "real", "img.png"), 0, 4, 4, false)
			mustDo(t, os.MkdirAll(filepath.Join(root, "top"), 0o755))
			mustDo(t, os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "top", "link")))
			return filepath.Join(root, "top")
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.build(t, t.TempDir())
			done := make(chan error, 1)
			n := 0
			go func() { done <- walkImages(dir, func(string, fs.FileInfo) error { n++; return nil }) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("walk still going after 20 s")
			}
			if c.want == "" {
				if err != nil || n != 1 {
					t.Fatalf("listed %d images, %v; want 1", n, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v: want one naming %s and saying %q", err, dir, c.want)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDatasetMemoryBound: the decoded images of all splits together are bounded before any
// buffer is allocated, from the images or from the cache, and the error says what to change.
// 40 hard links to one image count as 40 images.
func TestDatasetMemoryBound(t *testing.T) {
	root := t.TempDir()
	imageFolder(t, root, []string{"a", "b"}, 4, 16, 16, false) // 8 images a split, 768 bytes each
	for k := range 40 {
		mustDo(t, os.Link(filepath.Join(root, "train", "a", "000.png"), filepath.Join(root, "train", "a", fmt.Sprintf("link%02d.png", k))))
	}
	const img = 3 * 16 * 16
	cache := t.TempDir()
	for _, c := range []struct {
		name  string
		max   int64
		size  [2]int
		want  []string // error text; nil: loads
		cache bool
	}{
		{"train over the limit", 47 * img, [2]int{}, []string{"train", "48 images of 3x16x16", "--image-size", "fit at 15x15 at most"}, false},
		{"train fits, test does not", 50 * img, [2]int{}, []string{"test", "8 images of 3x16x16", "more than the 1.5 KiB left of 37.5 KiB"}, false},
		{"smaller --image-size fits", 64 * img / 4, [2]int{8, 8}, nil, false},
		{"all fits, cache written", 64 * img, [2]int{}, nil, true},
		{"the cache is bounded too", 47 * img, [2]int{}, []string{"train", "48 images", "--image-size"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := Loader{NoCache: !c.cache, CacheDir: cache, MaxBytes: c.max, Warnf: func(string, ...any) {}}
			_, err := l.Open(Request{Root: root, Name: "folder", ImageSize: c.size})
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrTooMuchData) {
				t.Fatalf("error %v, want ErrTooMuchData", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestImageSizeLimit: a size to resize to is bounded like an image (64 Mpx), before loading.
func TestImageSizeLimit(t *testing.T) {
	for _, c := range []struct {
		size [2]int
		want string
	}{
		{[2]int{16384, 16384}, "256 Mpx, over the limit of 64 Mpx"},
		{[2]int{16385, 1}, "1 to 16384 pixels a side"},
		{[2]int{0, 5}, "1 to 16384 pixels a side"},
		{[2]int{8192, 8192}, ""},
		{[2]int{}, ""},
	} {
		err := CheckImageSize(c.size)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: %v, want %q", c.size, err, c.want)
		}
	}
	_, err := Loader{NoCache: true}.Open(Request{Root: t.TempDir(), Name: "folder", ImageSize: [2]int{16384, 16384}})
	if err == nil || !strings.Contains(err.Error(), "over the limit of 64 Mpx") {
		t.Fatalf("Open: %v", err)
	}
}
