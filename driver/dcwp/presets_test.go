package dcwp

import (
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/rundir"
)

// --preset quick fits every model on every dataset (it refused ResNet-18 on folder data and
// suggested --*-iters that were refused next): a valid run with fewer iterations in every
// loop than the paper preset's, and no loop that paper does not train.
func TestPresetQuickEveryModel(t *testing.T) {
	for _, name := range dataset.Names() {
		in, err := dataset.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		share := dataset.Share{}
		if in.HasShares() {
			share = dataset.MustShare("1")
		}
		for _, model := range arch.Models() {
			t.Run(name+"/"+model, func(t *testing.T) {
				paper, err := Preset("paper", name, share, model, rundir.Clean)
				if err != nil {
					t.Fatal(err)
				}
				q, err := Preset("quick", name, share, model, rundir.Clean)
				if err != nil {
					t.Fatalf("--preset quick --dataset %s --model %s: %v", name, model, err)
				}
				if err := q.Check(); err != nil {
					t.Fatalf("quick: %v", err)
				}
				for _, l := range rundir.Loops() {
					po, qo := l.Optim(&paper), l.Optim(&q)
					if (po == nil) != (qo == nil) {
						t.Fatalf("loop %s: paper trains it: %v, quick: %v", l.FlagPrefix(), po != nil, qo != nil)
					}
					if qo != nil && !(qo.Iters >= 1 && qo.Iters < po.Iters) {
						t.Errorf("loop %s: quick %d iterations, paper %d", l.FlagPrefix(), qo.Iters, po.Iters)
					}
				}
			})
		}
	}
}

// The summary's wall time counts from the process's start (Options.Started), not only the
// stages' own time: the report's wall_seconds was the sum of the stages (29 s for runs of
// 38–56 s).
func TestWallSecondsFromStart(t *testing.T) {
	started := time.Now().Add(-time.Hour) // as if loading had taken an hour
	s, err := Run(Options{Config: tinyConfig(t, testData, "clean"), Out: t.TempDir(), Started: started})
	if err != nil {
		t.Fatal(err)
	}
	stages := 0.0
	for _, sec := range s.StageSeconds {
		stages += sec
	}
	if since := time.Since(started).Seconds(); !(s.WallSeconds >= 3600 && s.WallSeconds <= since && s.WallSeconds > stages) {
		t.Fatalf("wall %v s, want from the start an hour ago (at most %v s) and more than the stages' %v s", s.WallSeconds, since, stages)
	}
}
