package dcwp

import (
	"fmt"

	"github.com/dcwp-go/dcwp/rundir"
)

// stage is a stage of the run directory's table (rundir.Stages: its name, files and loops)
// with what the driver does for it. The guards, the checkpoint, the pipeline and the summary
// loop over the table; each stage's file holds its functions.
type stage struct {
	rundir.StageInfo
	run func() error // trains or computes the stage and writes its Files
	// load, when the stage is not run, reads back what the later stages take from its
	// Files other than the networks they load themselves; nil for nothing.
	load func() error
	// summarize adds the stage's figures to summary.json when the run goes as far as it;
	// nil for none.
	summarize func() error
}

// pipeline is rundir.Stages, in order, joined with what the driver does for each.
func (r *runner) pipeline() ([]stage, error) {
	do := map[string]stage{
		rundir.StagePretrain: {run: r.pretrain, summarize: r.summarizeVanilla},
		rundir.StageMine:     {run: r.mine, load: r.loadMined, summarize: r.summarizeMined},
		rundir.StagePrune:    {run: r.prune, summarize: r.summarizeKept},
		rundir.StageFinetune: {run: r.finetune, summarize: r.summarizeDCWP},
	}
	var out []stage
	for _, info := range rundir.Stages() {
		s, ok := do[info.Name]
		if !ok {
			return nil, fmt.Errorf("stage %s of the run directory's table has no driver", info.Name)
		}
		s.StageInfo = info
		out = append(out, s)
		delete(do, info.Name)
	}
	for name := range do {
		return nil, fmt.Errorf("stage %s of the driver is not in the run directory's table", name)
	}
	return out, nil
}

// upTo is the stages of the pipeline up to and including name.
func upTo(stages []stage, name string) []stage { return stages[:rundir.StageIndex(name)+1] }
