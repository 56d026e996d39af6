package dataset

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTrimRemovesOnlyUnusedCacheFiles(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		age  time.Duration
		gone bool
	}{
		{"0123456789abcdef01234567.bin", time.Hour, false},
		{"1123456789abcdef01234567.bin", cacheMaxAge - time.Hour, false},
		{"2123456789abcdef01234567.bin", cacheMaxAge + time.Hour, true},
		{"3123456789abcdef01234567.bin", 400 * 24 * time.Hour, true},
		{"notes.txt", 400 * 24 * time.Hour, false},                        // not a cache file
		{"4123456789abcdef01234567.bin.tmp", 400 * 24 * time.Hour, false}, // nor a half-written one
	}
	dir := t.TempDir()
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-c.age), now.Add(-c.age)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := trim(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range cases {
		_, err := os.Stat(filepath.Join(dir, c.name))
		if gone := os.IsNotExist(err); gone != c.gone {
			t.Errorf("%s, unused for %v: removed %v, want %v", c.name, c.age, gone, c.gone)
		}
		if c.gone {
			want++
		}
	}
	if n != want {
		t.Errorf("trim reported %d removed, want %d", n, want)
	}
}

// TestCacheUseKeepsItAndWriteTrims: loading from a cache file refreshes its time, so a used
// file is never trimmed; writing a new cache file removes one unused for longer than
// cacheMaxAge from the same directory.
func TestCacheUseKeepsItAndWriteTrims(t *testing.T) {
	root := fixtures(t)
	l := Loader{CacheDir: t.TempDir()}
	if _, err := l.Load(root, "cmnist", MustShare("1"), "valid"); err != nil {
		t.Fatal(err)
	}
	used := l.cachePath(&source{dir: filepath.Join(root, "cmnist", "1pct", "valid")})
	old := time.Now().Add(-cacheMaxAge - 24*time.Hour)
	if err := os.Chtimes(used, old, old); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(l.CacheDir, "ffffffffffffffffffffffff.bin")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(root, "cmnist", MustShare("1"), "valid"); err != nil { // a read
		t.Fatal(err)
	}
	fi, err := os.Stat(used)
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(fi.ModTime()); age > time.Minute {
		t.Fatalf("the cache file read was not marked used: last modified %v ago", age.Round(time.Hour))
	}
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("a read trimmed the cache: %v", err)
	}
	if _, err := l.Load(root, "cmnist", MustShare("1"), "test"); err != nil { // a write
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale cache file survived a write: %v", err)
	}
	if _, err := os.Stat(used); err != nil {
		t.Errorf("the used cache file was trimmed: %v", err)
	}
}
