package enginecheck

import (
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestEvalCountsWhatTheTrainerCounted: a short real run on Colored MNIST digits; dcwp-eval's
// accuracy for each export equals, to the sample, what the trainer measured on the same split.
// A bf16 run too: the exports are float32, so the summary must score the float32 network, not
// the bf16 forward it trained with.
func TestEvalCountsWhatTheTrainerCounted(t *testing.T) {
	root, test := colouredTest(t)
	for _, tc := range []struct {
		model, precision string
		format           torch.MemoryFormat
	}{
		{"mlp", "fp32", torch.Contiguous},
		{"cnn", "fp32", torch.Contiguous},
		{"cnn", "bf16", torch.ChannelsLast},
	} {
		t.Run(tc.model+"/"+tc.precision, func(t *testing.T) {
			cfg, err := dcwp.Preset("quick", "cmnist", dataset.MustShare("1"), tc.model, "")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Data, cfg.Threads, cfg.BatchSize, cfg.Precision = root, 2, 32, tc.precision
			cfg.MiningModel.Iters, cfg.MiningModel.StepSize = 20, 10
			cfg.Pretrain.Iters, cfg.Prune.Iters, cfg.Finetune.Iters = 30, 30, 20
			cfg.EvalEvery, cfg.CheckpointEvery = 10, 10
			run := t.TempDir()
			sum, err := dcwp.Run(dcwp.Options{Config: cfg, Out: run, MemoryFormat: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			r, err := rundir.Open(run)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				which  string
				format exporter.Format
				want   metrics.Accuracy
			}{
				{rundir.Vanilla, exporter.Dense, sum.Vanilla.Test},
				{rundir.DCWP, exporter.Dense, sum.DCWP.Test},
				{rundir.DCWP, exporter.Compact, sum.DCWP.Test},
			} {
				m, _, err := exporter.Export(r, exporter.Options{Which: c.which, Format: c.format})
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(run, c.which+"."+string(c.format)+".onnx")
				if _, err := exporter.WriteFile(path, m); err != nil {
					t.Fatal(err)
				}
				rep, err := eval.Evaluate(eval.Options{Model: path, SplitData: test, Batches: []int{128}})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Accuracy.Correct != c.want.Correct || rep.Accuracy.Samples != c.want.Samples {
					t.Errorf("%s %s: dcwp-eval counts %d/%d correct, the trainer %d/%d",
						c.which, c.format, rep.Accuracy.Correct, rep.Accuracy.Samples, c.want.Correct, c.want.Samples)
				}
				if rep.Accuracy.ConflictingAccuracy != c.want.ConflictingAccuracy {
					t.Errorf("%s %s: conflicting accuracy %v, trainer %v", c.which, c.format, rep.Accuracy.ConflictingAccuracy, c.want.ConflictingAccuracy)
				}
			}
		})
	}
}
