package readlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFile: every kind of path a hostile user can put where a small file is read ends
// at once with an error naming it, or with the file's bytes.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(at("small"), []byte("hello"), 0o644))
	must(os.WriteFile(at("empty"), nil, 0o644))
	must(os.WriteFile(at("big"), make([]byte, 100<<10), 0o644))
	must(syscall.Mkfifo(at("fifo"), 0o644))
	must(os.Symlink("/dev/zero", at("zero")))
	must(os.Symlink(at("loop"), at("loop")))
	must(os.Mkdir(at("dir"), 0o755))
	cases := []struct {
		name string
		want string // the content (ok), or the error's text
		ok   bool
		err  error
	}{
		{"small", "hello", true, nil},
		{"empty", "", true, nil},
		{"big", "larger than 64.0 KiB", false, ErrTooLarge},
		{"fifo", "is a FIFO", false, ErrNotRegular},
		{"zero", "is a character device", false, ErrNotRegular},
		{"dir", "is a directory", false, ErrNotRegular},
		{"loop", "too many levels of symbolic links", false, nil},
		{"missing", "no such file", false, fs.ErrNotExist},
		{"/proc/self/status", "Name:", true, nil}, // says size 0: read up to the limit
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.name
			if !filepath.IsAbs(p) {
				p = at(p)
			}
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadFile(p, 64<<10); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if c.ok {
				if err != nil || !strings.HasPrefix(string(b), c.want) {
					t.Fatalf("got %q, %v; want %q", b, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v: want one naming %s and saying %q", err, p, c.want)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("error %v does not wrap %v", err, c.err)
			}
		})
	}
}

// TestReadPastLimit: a file that says it is small but reads longer (a /proc file, one that
// grows) is cut at the limit with ErrTooLarge, not read to its end.
func TestReadPastLimit(t *testing.T) {
	_, err := ReadFile("/proc/self/maps", 8)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func ExampleBytes() {
	fmt.Println(Bytes(300), Bytes(64<<20), Bytes(3<<30/2))
	// Output: 300 bytes 64.0 MiB 1.5 GiB
}
