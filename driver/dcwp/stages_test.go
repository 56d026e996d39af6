package dcwp

import (
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
)

// TestEveryStageHasADriver: the driver's table covers the run directory's stage table, in
// its order, each stage with something to run and to summarise.
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
		if s.Name != want[i] || s.run == nil || s.summarize == nil {
			t.Errorf("stage %d: %q (run %v, summarize %v), want %q with both", i, s.Name, s.run != nil, s.summarize != nil, want[i])
		}
	}
}
