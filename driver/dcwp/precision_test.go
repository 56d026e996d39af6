package dcwp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// tinyCNN is tinyConfig's run on the cnn, whose convolutions bf16 and channels-last change.
func tinyCNN(t *testing.T, precision string) rundir.Config {
	c, err := Preset("quick", "cmnist", dataset.MustShare("1"), "cnn", rundir.Clean)
	if err != nil {
		t.Fatal(err)
	}
	c.Data, c.Threads, c.Seed, c.BatchSize, c.Precision = testData, 1, 3, 16, precision
	c.MiningModel.Iters, c.MiningModel.StepSize = 10, 10
	c.Pretrain.Iters, c.Prune.Iters, c.Finetune.Iters = 10, 20, 10
	c.EvalEvery, c.CheckpointEvery = 10, 5
	c.Miner = rundir.MinerOracle
	return c
}

// TestBF16RunResumes trains the fixture end to end in bf16 on channels-last tensors, then
// stops a second run inside pruning and resumes it: every file it writes must equal the
// uninterrupted run's bit for bit, the config must say bf16, and the networks stay float32.
func TestBF16RunResumes(t *testing.T) {
	ref, out := t.TempDir(), t.TempDir()
	o := Options{Config: tinyCNN(t, "bf16"), MemoryFormat: torch.ChannelsLast}
	o.Out = ref
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	o.Out, o.StopLoop, o.StopAfter = out, rundir.StagePrune, 10
	if _, err := Run(o); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopped run: %v, want ErrStopped", err)
	}
	o.StopLoop, o.Resume = "", true
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rundir.VanillaFile, rundir.BiasedFile, rundir.ScoresFile, rundir.MaskFile, rundir.DCWPFile, rundir.MinedFile} {
		if !sameFile(t, ref, out, f) {
			t.Fatalf("%s differs after a stop in pruning and resume", f)
		}
	}
	cfg, err := rundir.ReadConfig(out)
	if err != nil || cfg.Precision != "bf16" {
		t.Fatalf("config.json precision %q (%v), want bf16", cfg.Precision, err)
	}
	ts, _, err := tensor.ReadFile(filepath.Join(out, rundir.DCWPFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range ts {
		if v.F32 == nil {
			t.Fatalf("%s of %s is not float32", name, rundir.DCWPFile)
		}
	}
}

func TestPrecisionRefused(t *testing.T) {
	c := tinyCNN(t, "fp16")
	err := c.Check()
	if err == nil || !strings.Contains(err.Error(), `unknown precision "fp16"`) {
		t.Fatalf("Check: %v, want the unknown precision named", err)
	}
}
