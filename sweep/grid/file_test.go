package grid

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFileRefusesNonRegular: a grid file that is a FIFO (a plain open waits for a
// writer forever), a link to /dev/zero or a folder is refused at once, naming it.
func TestReadFileRefusesNonRegular(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(p string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO"},
		{"/dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "is a character device"},
		{"folder", func(p string) error { return os.Mkdir(p, 0o755) }, "is a directory"},
		{"too large", func(p string) error { return os.WriteFile(p, make([]byte, maxFile+1), 0o644) }, "larger than 1.0 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "grid.yaml")
			if err := c.make(p); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := testSpec.ReadFile(p); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v: want one naming %s and saying %q", err, p, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked")
			}
		})
	}
}
