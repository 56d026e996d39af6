package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets feed untrusted bytes to the dataset's parsers as the loader uses them.
// Their seed corpora (testdata/fuzz/<Fuzz…>/) are real files: the fixture's PNGs and JPEGs,
// a cache file the loader wrote, real manifests and CelebA metadata; `go test` replays them.

// FuzzDecodeImage: no input panics, and none decodes past the size limits.
func FuzzDecodeImage(f *testing.F) {
	f.Add(bombPNG(30000, 30000))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeImage(bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		px, c, h, w := d.px, d.c, d.h, d.w
		if c != 3 || h < 1 || w < 1 || h > MaxSide || w > MaxSide || h*w > MaxPixels || len(px) != 3*h*w {
			t.Fatalf("decoded %dx%dx%d into %d bytes", c, h, w, len(px))
		}
	})
}

// FuzzReadManifest: a manifest parses or is refused; every row kept has a path and label and
// its file line (increasing, past the header), no image is kept twice, and the class names
// train's labels make resolve every label to itself, never to another class.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("path,label,split,bias\na.png,cat,train,dog\nb.png,1,valid,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := readManifest(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		lines := map[int]bool{}
		for sp, rs := range rows {
			if _, err := canonicalSplit(sp); err != nil || len(rs) == 0 {
				t.Fatalf("split %q with %d rows", sp, len(rs))
			}
			for _, r := range rs {
				if r.path == "" || r.label == "" || r.line < 2 || lines[r.line] {
					t.Fatalf("row %+v kept", r)
				}
				lines[r.line] = true
			}
			names, err := manifestClasses(rs)
			if err != nil {
				if !errors.Is(err, ErrBadCSV) {
					t.Fatalf("classes: %v", err)
				}
				continue
			}
			for _, r := range rs {
				k, ok := classIndex(names, r.label)
				if !ok || (names[k] != r.label && !isIndexNames(names)) {
					t.Fatalf("label %q resolves to class %d of %q", r.label, k, names)
				}
			}
		}
	})
}

// FuzzCelebAMetadata: CelebA's metadata CSV as celebASource reads it.
func FuzzCelebAMetadata(f *testing.F) {
	f.Add([]byte("image_id,split,Blond_Hair,Male\n000001.jpg,0,1,0\n000002.jpg,2,-1,1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		col, err := celebAHeader(r)
		if err != nil {
			return
		}
		src := &source{dir: "img"}
		if err := src.readCelebARows(r, "fuzz.csv", col, 0); err != nil {
			return
		}
		for i := range src.labels {
			if src.labels[i] < 0 || src.labels[i] > 1 || src.bias[i] < 0 || src.bias[i] > 1 {
				t.Fatalf("row %d: label %d bias %d", i, src.labels[i], src.bias[i])
			}
		}
	})
}

// FuzzReadCache: a cache file, whatever its bytes, is read, ignored or reported corrupt;
// its header's key and counts are taken as the loader's so that the body is parsed too.
func FuzzReadCache(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "c.bin")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var key [32]byte
		n := 0
		if len(b) >= cacheHeader {
			copy(key[:], b[28:60])
			n = int(binary.LittleEndian.Uint32(b[12:]))
		}
		if n > 1<<16 {
			n = 1 << 16
		}
		labels, bias := make([]int32, n), make([]int32, n)
		if len(b) >= cacheHeader+8*n {
			for i := range n {
				labels[i] = int32(binary.LittleEndian.Uint32(b[cacheHeader+4*i:]))
				bias[i] = int32(binary.LittleEndian.Uint32(b[cacheHeader+4*n+4*i:]))
			}
		}
		part, err := readCache(p, key, labels, bias, 3, nil)
		if err != nil || part == nil {
			return
		}
		if len(part.images) != n*part.c*part.h*part.w || cap(part.images) < (n+3)*part.c*part.h*part.w {
			t.Fatalf("%d images of %dx%dx%d in %d bytes (cap %d)", n, part.c, part.h, part.w, len(part.images), cap(part.images))
		}
	})
}
