package dataset

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// CelebA metadata, relative to <root>/celebA.
const (
	CelebAImageDir = "celeba/img_align_celeba"
	CelebACSV      = "metadata_blonde_subsampled.csv"
)

// DirName is the folder name of a dataset under the data root.
func DirName(name string) string {
	if canonical(name) == CelebA {
		return "celebA"
	}
	return canonical(name)
}

// Load reads <root>/<dataset>/... for the given conflict pct ("0.5","1","2","5";
// ignored for test and for celeba) and split ("train", "valid", "test").
// train = {pct}pct/align + {pct}pct/conflict; valid = {pct}pct/valid
// (bffhq: <root>/bffhq/valid); test = test/. Decoded folders are cached in
// <folder>/.dcwp-cache.bin (celeba: <root>/celebA/.dcwp-cache-<split>.bin) and
// reread from there while the folder's file names, sizes and mtimes are
// unchanged.
func Load(root, name, pct, split string) (*Split, error) {
	return Loader{}.Load(root, name, pct, split)
}

// Load is the package-level Load with the loader's settings.
func (l Loader) Load(root, name, pct, split string) (*Split, error) {
	ds := canonical(name)
	classes, err := NumClasses(ds)
	if err != nil {
		return nil, err
	}
	sp := canonicalSplit(split)
	if sp != Train && sp != Valid && sp != Test {
		return nil, fmt.Errorf("dataset: split %q: %w (want train, valid or test)", split, ErrUnknown)
	}
	s := &Split{Dataset: ds, Name: sp, Classes: classes}
	var srcs []*source
	switch ds {
	case CelebA:
		src, err := celebASource(root, sp)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, src)
	default:
		base := filepath.Join(root, DirName(ds))
		var dirs []string
		if sp == Test {
			dirs = []string{filepath.Join(base, "test")}
		} else if ds == BFFHQ && sp == Valid {
			dirs = []string{filepath.Join(base, "valid")} // bffhq's valid does not depend on the pct
		} else {
			pd, err := PctDir(pct)
			if err != nil {
				return nil, fmt.Errorf("dataset %s: %w", ds, err)
			}
			s.Pct = strings.TrimSuffix(pd, "pct")
			switch {
			case sp == Train:
				dirs = []string{filepath.Join(base, pd, "align"), filepath.Join(base, pd, "conflict")}
			default:
				dirs = []string{filepath.Join(base, pd, "valid")}
			}
		}
		for _, d := range dirs {
			src, err := folderSource(d, classes)
			if err != nil {
				return nil, fmt.Errorf("dataset %s %s: %w", ds, sp, err)
			}
			srcs = append(srcs, src)
		}
	}
	parts := make([]*part, len(srcs))
	for k, src := range srcs {
		spare := 0
		if k == 0 {
			for _, later := range srcs[1:] {
				spare += len(later.labels)
			}
		}
		p, err := src.load(ds, l, spare)
		if err != nil {
			return nil, fmt.Errorf("dataset %s %s: %w", ds, sp, err)
		}
		if k == 0 {
			s.C, s.H, s.W = p.c, p.h, p.w
		} else if p.c != s.C || p.h != s.H || p.w != s.W {
			return nil, fmt.Errorf("dataset %s %s: %s holds %dx%dx%d images, %s holds %dx%dx%d: %w",
				ds, sp, src.dir, p.c, p.h, p.w, srcs[0].dir, s.C, s.H, s.W, ErrImageSize)
		}
		parts[k] = p
		s.Labels = append(s.Labels, src.labels...)
		s.Bias = append(s.Bias, src.bias...)
		s.Paths = append(s.Paths, src.paths...)
	}
	// The first part has room for the others (load's spare): the split's images are never
	// held twice, which for a 55,000-image train split would be the run's peak memory.
	s.Images = parts[0].images
	for _, p := range parts[1:] {
		s.Images = append(s.Images, p.images...)
	}
	s.Images = slices.Clip(s.Images)
	return s, nil
}

// LoadDir reads every image below dir whose name ends in _<label>_<bias>.<ext>,
// without cache, as a split of the given dataset. Useful for ad-hoc folders.
func LoadDir(dir, name string) (*Split, error) { return Loader{}.LoadDir(dir, name) }

// LoadDir is the package-level LoadDir with the loader's settings.
func (l Loader) LoadDir(dir, name string) (*Split, error) {
	ds := canonical(name)
	classes, err := NumClasses(ds)
	if err != nil {
		return nil, err
	}
	src, err := folderSource(dir, classes)
	if err != nil {
		return nil, err
	}
	src.cachePath = ""
	p, err := src.load(ds, l, 0)
	if err != nil {
		return nil, err
	}
	return &Split{Dataset: ds, Name: filepath.Base(dir), Classes: classes, C: p.c, H: p.h, W: p.w,
		Images: p.images, Labels: src.labels, Bias: src.bias, Paths: src.paths}, nil
}

// source is a list of image files with their labels, read (or cached) as one unit.
type source struct {
	dir       string // for messages
	cachePath string // "" = no cache
	keyExtra  string // extra cache key material (e.g. CSV stat)
	paths     []string
	labels    []int32
	bias      []int32
	infos     []fs.FileInfo // may be nil: then stat lazily for the cache key
}

type part struct {
	c, h, w int
	images  []uint8
}

func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// ParseName returns the label and bias of a file named ..._<label>_<bias>.<ext>.
func ParseName(path string) (label, bias int, err error) {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	tok := strings.Split(base, "_")
	if len(tok) < 2 {
		return 0, 0, fmt.Errorf("%s: %w", path, ErrBadName)
	}
	l, err1 := strconv.Atoi(tok[len(tok)-2])
	b, err2 := strconv.Atoi(tok[len(tok)-1])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, ErrBadName)
	}
	return l, b, nil
}

// folderSource lists the images below dir (recursively, sorted by path) and
// parses label and bias from their names.
func folderSource(dir string, classes int) (*source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("folder %s: not a directory", dir)
	}
	src := &source{dir: dir, cachePath: filepath.Join(dir, cacheName)}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isImage(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		l, b, err := ParseName(p)
		if err != nil {
			return err
		}
		if l < 0 || l >= classes || b < 0 || b >= classes {
			return fmt.Errorf("%s: label %d / bias %d outside [0,%d): %w", p, l, b, classes, ErrBadName)
		}
		src.paths = append(src.paths, p)
		src.labels = append(src.labels, int32(l))
		src.bias = append(src.bias, int32(b))
		src.infos = append(src.infos, info)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("folder %s: %w", dir, ErrNoImages)
	}
	// WalkDir visits in lexical order already; keep it explicit.
	if !sort.StringsAreSorted(src.paths) {
		return nil, fmt.Errorf("folder %s: internal: walk order not sorted", dir)
	}
	return src, nil
}

// celebASource reads the metadata CSV and selects the rows of one split.
func celebASource(root, split string) (*source, error) {
	base := filepath.Join(root, "celebA")
	if _, err := os.Stat(base); err != nil {
		if alt := filepath.Join(root, "celeba"); dirExists(alt) {
			base = alt
		}
	}
	csvPath := filepath.Join(base, CelebACSV)
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, fmt.Errorf("dataset celeba: metadata %s: %w", csvPath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dataset celeba: metadata %s: %w", csvPath, err)
	}
	want := map[string]int{Train: 0, Valid: 1, Test: 2}[split]
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("dataset celeba: metadata %s: header: %w: %w", csvPath, ErrBadCSV, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := []string{"image_id", "split", "Blond_Hair", "Male"}
	idx := make([]int, len(need))
	for k, n := range need {
		i, ok := col[n]
		if !ok {
			return nil, fmt.Errorf("dataset celeba: metadata %s: missing column %q (have %s): %w",
				csvPath, n, strings.Join(header, ","), ErrBadCSV)
		}
		idx[k] = i
	}
	imgDir := filepath.Join(base, CelebAImageDir)
	src := &source{dir: imgDir, cachePath: filepath.Join(base, ".dcwp-cache-"+split+".bin"),
		keyExtra: fmt.Sprintf("csv %s %d %d", csvPath, st.Size(), st.ModTime().UnixNano())}
	line := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("dataset celeba: metadata %s: %w: %w", csvPath, ErrBadCSV, err)
		}
		var v [3]int
		for k := 1; k < 4; k++ {
			if idx[k] >= len(rec) {
				return nil, fmt.Errorf("dataset celeba: metadata %s line %d: no %s value: %w", csvPath, line, need[k], ErrBadCSV)
			}
			x, err := strconv.ParseFloat(strings.TrimSpace(rec[idx[k]]), 64)
			if err != nil || x != float64(int(x)) {
				return nil, fmt.Errorf("dataset celeba: metadata %s line %d: %s=%q is not an integer: %w",
					csvPath, line, need[k], rec[idx[k]], ErrBadCSV)
			}
			v[k-1] = int(x)
		}
		if v[0] != want {
			continue
		}
		if idx[0] >= len(rec) || strings.TrimSpace(rec[idx[0]]) == "" {
			return nil, fmt.Errorf("dataset celeba: metadata %s line %d: empty image_id: %w", csvPath, line, ErrBadCSV)
		}
		lab, bia := attr01(v[1]), attr01(v[2])
		if lab < 0 || bia < 0 {
			return nil, fmt.Errorf("dataset celeba: metadata %s line %d: Blond_Hair=%d Male=%d, want 0/1 (or -1/1): %w",
				csvPath, line, v[1], v[2], ErrBadCSV)
		}
		src.paths = append(src.paths, filepath.Join(imgDir, strings.TrimSpace(rec[idx[0]])))
		src.labels = append(src.labels, int32(lab))
		src.bias = append(src.bias, int32(bia))
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("dataset celeba: metadata %s: no rows with split=%d (%s): %w", csvPath, want, split, ErrNoImages)
	}
	return src, nil
}

func attr01(v int) int {
	switch v {
	case 0, -1:
		return 0
	case 1:
		return 1
	}
	return -1
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// load returns the decoded images of src, from the cache when valid, with room for spare
// more images of the same size.
func (src *source) load(ds string, l Loader, spare int) (*part, error) {
	var key [32]byte
	useCache := src.cachePath != "" && !l.NoCache
	if useCache {
		k, err := src.key(ds)
		if err != nil {
			return nil, err
		}
		key = k
		if p, err := readCache(src.cachePath, key, src.labels, src.bias, spare); err == nil && p != nil {
			return p, nil
		} else if err != nil {
			l.warnf("dataset: ignoring cache %s: %v", src.cachePath, err)
		}
	}
	p, err := decodeAll(src.paths, spare)
	if err != nil {
		return nil, err
	}
	if useCache {
		if err := writeCache(src.cachePath, key, p, src.labels, src.bias); err != nil {
			l.warnf("dataset: could not write cache %s: %v", src.cachePath, err)
		}
	}
	return p, nil
}

// decodeAll decodes every file into one CHW uint8 buffer, in parallel.
func decodeAll(paths []string, spare int) (*part, error) {
	first, c, h, w, err := decodeFile(paths[0], nil)
	if err != nil {
		return nil, err
	}
	n := c * h * w
	images := make([]uint8, len(paths)*n, (len(paths)+spare)*n)
	copy(images, first)
	workers := min(runtime.GOMAXPROCS(0), len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int, 256)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, c2, h2, w2, err := decodeFile(paths[i], images[i*n:(i+1)*n])
				if err == nil && (c2 != c || h2 != h || w2 != w) {
					err = fmt.Errorf("%s is %dx%dx%d, %s is %dx%dx%d: %w", paths[i], c2, h2, w2, paths[0], c, h, w, ErrImageSize)
				}
				errs[i] = err
			}
		}()
	}
	for i := 1; i < len(paths); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &part{c: c, h: h, w: w, images: images}, nil
}

// decodeFile decodes one PNG/JPEG into 3-channel CHW bytes. If dst is non-nil
// and large enough it is filled (when the size matches), else a new slice is returned.
func decodeFile(path string, dst []uint8) ([]uint8, int, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h == 0 || w == 0 {
		return nil, 0, 0, 0, fmt.Errorf("image %s: empty image: %w", path, ErrImageSize)
	}
	if len(dst) != 3*h*w {
		if dst != nil {
			return nil, 3, h, w, nil // size mismatch is reported by the caller
		}
		dst = make([]uint8, 3*h*w)
	}
	toCHW(img, dst)
	return dst, 3, h, w, nil
}

// toCHW writes img as RGB planes into dst (len 3*H*W).
func toCHW(img image.Image, dst []uint8) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	hw := h * w
	r, g, bl := dst[:hw], dst[hw:2*hw], dst[2*hw:3*hw]
	switch m := img.(type) {
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				r[y*w+x], g[y*w+x], bl[y*w+x] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.NRGBA: // alpha is dropped, like PIL's convert("RGB")
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				r[y*w+x], g[y*w+x], bl[y*w+x] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r[y*w+x], g[y*w+x], bl[y*w+x] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			copy(r[y*w:], row)
			copy(g[y*w:], row)
			copy(bl[y*w:], row)
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := img.At(b.Min.X+x, b.Min.Y+y)
				cr, cg, cb, _ := c.RGBA()
				r[y*w+x], g[y*w+x], bl[y*w+x] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
			}
		}
	}
}
