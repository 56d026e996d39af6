package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadersRefuseNonRegular: a run file that is a FIFO (which blocks a plain open until a
// writer comes), a link to /dev/zero (endless) or a directory is refused at once by every
// reader of a run directory, with an error naming the file.
func TestReadersRefuseNonRegular(t *testing.T) {
	readers := []struct {
		file string
		read func(dir string) error
	}{
		{ConfigFile, func(dir string) error { _, err := ReadConfig(dir); return err }},
		{SummaryFile, func(dir string) error { _, err := ReadSummary(dir); return err }},
		{RunFile, func(dir string) error { _, _, err := ReadID(dir); return err }},
		{MetricsFile, func(dir string) error { _, err := ReadMetrics(filepath.Join(dir, MetricsFile)); return err }},
	}
	places := []struct {
		name string
		make func(p string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO"},
		{"/dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "is a character device"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "is a directory"},
	}
	for _, r := range readers {
		for _, pl := range places {
			t.Run(r.file+" "+pl.name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, r.file)
				if err := pl.make(p); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- r.read(dir) }()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), pl.want) {
						t.Fatalf("error %v: want one naming %s and saying %q", err, p, pl.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the reader blocked")
				}
			})
		}
	}
}
