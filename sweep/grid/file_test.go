package grid

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/internal/fixture"
)

// TestReadFileRefusesNonRegular: a grid file that is a FIFO (a plain open waits for a
// writer forever), a link to /dev/zero or a folder is refused at once, naming it.
func TestReadFileRefusesNonRegular(t *testing.T) {
	tooLarge := fixture.NonRegular{Name: "too large", Want: "larger than 1.0 MiB",
		Make: func(p string) error { return os.WriteFile(p, make([]byte, maxFile+1), 0o644) }}
	for _, c := range append(fixture.NonRegulars(), tooLarge) {
		t.Run(c.Name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "grid.yaml")
			if err := c.Make(p); err != nil {
				t.Fatal(err)
			}
			fixture.RefusedAtOnce(t, p, c.Want, func() error { _, err := testSpec.ReadFile(p); return err })
		})
	}
}
