package rundir

import (
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/internal/fixture"
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
	for _, r := range readers {
		for _, pl := range fixture.NonRegulars() {
			t.Run(r.file+" "+pl.Name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, r.file)
				if err := pl.Make(p); err != nil {
					t.Fatal(err)
				}
				fixture.RefusedAtOnce(t, p, pl.Want, func() error { return r.read(dir) })
			})
		}
	}
}
