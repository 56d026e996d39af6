package dataset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

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

// part is the decoded images of one source.
type part struct {
	c, h, w int
	images  []uint8
}

func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	default:
		return false
	}
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
		return src.visit(p, d, classes)
	})
	if err != nil {
		return nil, err
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("folder %s: %w", dir, ErrNoImages)
	}
	// The cache key and the sample order rely on it; WalkDir promises it.
	if !sort.StringsAreSorted(src.paths) {
		return nil, fmt.Errorf("folder %s: internal: walk order not sorted", dir)
	}
	return src, nil
}

// visit adds one walked entry if it is an image. Names starting with "." are
// skipped: the cache and the temporary files of atomic writes live beside the images.
func (src *source) visit(p string, d fs.DirEntry, classes int) error {
	if p != src.dir && strings.HasPrefix(d.Name(), ".") {
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
}
