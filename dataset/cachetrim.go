package dataset

// The cache keeps a file per data folder (its absolute path is in the name), so folders that
// come and go (a sweep's data in /tmp, a test's fixtures) would leave their files behind for
// good. As Go's build cache does, a file lives as long as it is used: reading it refreshes
// its modification time (at most once an hour, so that reads stay reads), and writing a new
// one removes the files nothing has used for cacheMaxAge.

import (
	"os"
	"path/filepath"
	"regexp"
	"time"
)

const (
	cacheMaxAge = 30 * 24 * time.Hour
	touchEvery  = time.Hour
)

// cacheName is what cachePath names a file; trim removes nothing else from the directory.
var cacheName = regexp.MustCompile(`^[0-9a-f]{24}\.bin$`)

// touch marks a cache file used now, when its time is older than touchEvery. A cache that
// cannot be written (read-only) is still a cache: the error is dropped.
func touch(path string, now time.Time) {
	if fi, err := os.Stat(path); err == nil && now.Sub(fi.ModTime()) > touchEvery {
		_ = os.Chtimes(path, now, now)
	}
}

// trim removes the cache files of dir unused for cacheMaxAge and returns how many it removed.
func trim(dir string, now time.Time) (int, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es {
		if !e.Type().IsRegular() || !cacheName.MatchString(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) <= cacheMaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}
