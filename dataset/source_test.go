package dataset

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestWalkOrder: LoadDir lists the images below a folder in the sorted order of their full
// paths, also where a folder's name is a prefix of a sibling's whose next byte sorts before
// the separator (a/ beside a-1_0_0.png: "a-1…" < "a/…"), which os.ReadDir's order by name
// alone gets wrong.
func TestWalkOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string // written in this order; "/" separates folders
		want  []string // the order LoadDir returns
	}{
		{"flat", []string{"b_1_1.png", "a_0_0.png", "c_2_2.png"},
			[]string{"a_0_0.png", "b_1_1.png", "c_2_2.png"}},
		{"nested, no prefix", []string{"c/d/2_2_2.png", "b_1_1.png", "a/0_0_0.png"},
			[]string{"a/0_0_0.png", "b_1_1.png", "c/d/2_2_2.png"}},
		{"folder beside file with dash", []string{"a/x_0_0.png", "a-1_0_0.png"},
			[]string{"a-1_0_0.png", "a/x_0_0.png"}},
		{"folder beside folder with dash", []string{"a/x_0_0.png", "a-b/y_1_1.png"},
			[]string{"a-b/y_1_1.png", "a/x_0_0.png"}},
		{"folder beside file with space", []string{"a/x_0_0.png", "a 1_1_1.png"},
			[]string{"a 1_1_1.png", "a/x_0_0.png"}},
		{"folder beside file with underscore", []string{"a/x_1_1.png", "a_0_0.png"},
			[]string{"a/x_1_1.png", "a_0_0.png"}},
		{"deeper", []string{"d/a/x_0_0.png", "d/a-1_1_1.png", "d/a.b/z_2_2.png", "c_3_3.png"},
			[]string{"c_3_3.png", "d/a-1_1_1.png", "d/a.b/z_2_2.png", "d/a/x_0_0.png"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, f := range tc.files {
				writeImg(t, filepath.Join(dir, filepath.FromSlash(f)), i, 28, 28, false)
			}
			s, err := LoadDir(dir, CMNIST)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range s.Paths {
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.ToSlash(rel))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSourcesUseInfo: a layout's readers take the dataset from the *Info their caller
// passes, not from Request.Name (left empty here: once a panic, as it names no dataset).
func TestSourcesUseInfo(t *testing.T) {
	root := fixtures(t)
	for _, tc := range []struct {
		ds, split, pct string
		dir            string // non-empty: dirSrc of root/dir (--valid DIR) instead of sources
		wantSrcs       int
		wantN          int // images over all sources
		wantPct        string
	}{
		{ds: CMNIST, split: Train, pct: "1", wantSrcs: 2, wantN: 6, wantPct: "1"},
		{ds: CIFAR10C, split: Valid, pct: "0.5", wantSrcs: 1, wantN: 3, wantPct: "0.5"},
		{ds: BFFHQ, split: Valid, pct: "0.5", wantSrcs: 1, wantN: 2},
		{ds: BFFHQ, split: Test, wantSrcs: 1, wantN: 3},
		{ds: CMNIST, dir: "cmnist/test", wantSrcs: 1, wantN: 3},
		{ds: CelebA, dir: "bffhq/test", wantSrcs: 1, wantN: 3},
	} {
		t.Run(tc.ds+" "+tc.split+tc.dir, func(t *testing.T) {
			in, err := Lookup(tc.ds)
			if err != nil {
				t.Fatal(err)
			}
			req := &Request{Root: root, Share: share(tc.pct)} // no Name
			var srcs []*source
			var pct Share
			if tc.dir != "" {
				var src *source
				src, err = in.dirSrc(in, req, filepath.Join(root, filepath.FromSlash(tc.dir)))
				srcs = []*source{src}
			} else {
				srcs, pct, err = in.sources(in, req, tc.split)
			}
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range srcs {
				n += len(s.paths)
			}
			if len(srcs) != tc.wantSrcs || n != tc.wantN || pct != share(tc.wantPct) {
				t.Errorf("%d sources, %d images, pct %q; want %d, %d, %q", len(srcs), n, pct, tc.wantSrcs, tc.wantN, tc.wantPct)
			}
		})
	}
}
