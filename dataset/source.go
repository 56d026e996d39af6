package dataset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// source is a list of image files with their labels, read (or cached) as one unit.
type source struct {
	dir      string // for messages and the cache's identity
	cacheID  string // what besides dir identifies the cache ("celeba train"); see Loader.cachePath
	keyExtra string // extra cache key material (e.g. CSV stat)
	paths    []string
	labels   []int32
	bias     []int32       // nil: no bias labels
	infos    []fs.FileInfo // may be nil: then stat lazily for the cache key
	resize   bool          // images of another size are resized to size (folder), not refused
	size     [2]int        // H, W to resize to; zero: the first image's
}

// part is the decoded images of one source.
type part struct {
	c, h, w int
	images  []uint8
	prep    Prep // what loading did: from the cache, resized, converted
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
	src := &source{dir: dir}
	err := walkImages(dir, func(p string, info fs.FileInfo) error {
		l, b, err := ParseName(p)
		if err != nil {
			return err
		}
		if l < 0 || l >= classes || b < 0 || b >= classes {
			return fmt.Errorf("%s: label %d / bias %d outside [0,%d): %w", p, l, b, classes, ErrBadName)
		}
		src.add(p, info, int32(l), int32(b))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("folder %s: %w", dir, ErrNoImages)
	}
	// The cache key and the sample order rely on it; walkImages promises it.
	if !sort.StringsAreSorted(src.paths) {
		return nil, fmt.Errorf("folder %s: internal: walk order not sorted", dir)
	}
	return src, nil
}

func (src *source) add(p string, info fs.FileInfo, label, bias int32) {
	src.paths = append(src.paths, p)
	src.labels = append(src.labels, label)
	src.bias = append(src.bias, bias)
	src.infos = append(src.infos, info)
}

// walkImages calls fn for every PNG/JPEG below dir, in sorted path order, following
// symbolic links (to folders and files). Each real folder (device and inode) is walked once:
// a link back to a folder being walked is a loop, and a folder reached a second time by
// another path is an error too, since a "diamond" of links would otherwise list its images
// once per path (2^k paths from k levels of two links). Names starting with "." are skipped:
// dot folders and the temporary files of tools that write beside images.
func walkImages(dir string, fn func(path string, info fs.FileInfo) error) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("folder %s: not a directory", dir)
	}
	w := &walker{fn: fn, seen: map[folderID]string{}}
	return w.walk(dir, st, map[folderID]bool{})
}

// folderID is what makes a folder the same folder whatever the path to it.
type folderID struct{ dev, ino uint64 }

func idOf(st fs.FileInfo) (folderID, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return folderID{}, false
	}
	return folderID{uint64(sys.Dev), uint64(sys.Ino)}, true
}

// walker is one walkImages: the folders met so far, by the path they were first met at.
type walker struct {
	fn   func(string, fs.FileInfo) error
	seen map[folderID]string
}

func (w *walker) walk(dir string, st fs.FileInfo, parents map[folderID]bool) error {
	if id, ok := idOf(st); ok {
		first, met := w.seen[id]
		switch {
		case parents[id]:
			return fmt.Errorf("folder %s: symbolic link loop (back to %s)", dir, first)
		case met:
			return fmt.Errorf("folder %s is the folder %s again (two paths of symbolic links lead to it): each folder's images are listed once; replace one link with a copy or remove it", dir, first)
		}
		w.seen[id], parents[id] = dir, true
		defer delete(parents, id)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("folder %s: %w", dir, err)
	}
	// Visit the entries in the order of the paths they lead to: a folder's key is its name
	// with a trailing separator, so folder a/ (a/x.png) comes after file a-1.png ('-' sorts
	// before '/'), as in the sorted list of full paths. Without such a prefix the order is
	// ReadDir's (by name).
	type entry struct {
		key, path string
		name      string
		info      fs.FileInfo
	}
	var list []entry
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		info, err := os.Stat(p) // follows links
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		key := e.Name()
		if info.IsDir() {
			key += string(filepath.Separator)
		}
		list = append(list, entry{key: key, path: p, name: e.Name(), info: info})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range list {
		switch {
		case e.info.IsDir():
			if err := w.walk(e.path, e.info, parents); err != nil {
				return err
			}
		case e.info.Mode().IsRegular() && isImage(e.name):
			if err := w.fn(e.path, e.info); err != nil {
				return err
			}
		}
	}
	return nil
}
