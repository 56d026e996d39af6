package dcwp

import (
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
)

// TestEveryStageHasADriver: the driver's table covers the run directory's stage table, in
// its order, each stage with something to run.
func TestEveryStageHasADriver(t *testing.T) {
	stages, err := (&runner{}).pipeline()
	if err != nil {
		t.Fatal(err)
	}
	want := rundir.StageNames()
	if len(stages) != len(want) {
		t.Fatalf("%d stages, want %d", len(stages), len(want))
	}
	for i, s := range stages {
		if s.Name != want[i] || s.run == nil {
			t.Errorf("stage %d: %q (run %v), want %q with a run", i, s.Name, s.run != nil, want[i])
		}
	}
}
