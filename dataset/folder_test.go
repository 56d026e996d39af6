package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
	if !d.Train.HasBias() || !d.Valid.HasBias() || d.Test.HasBias() || d.Train.NumConflicting() != 4 {
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
	_, _, _, _, err := decodeFile(p, nil)
	if err == nil || !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "30000x30000") || !strings.Contains(err.Error(), "bomb.png") {
		t.Fatalf("error %v, want the file, its size and ErrBadImage", err)
	}
}
