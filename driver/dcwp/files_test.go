package dcwp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// rewriteMask replaces the run's mask file with edit's version of it, metadata kept.
func rewriteMask(t *testing.T, out string, edit func(ms map[string]tensor.Tensor)) {
	t.Helper()
	path := filepath.Join(out, rundir.MaskFile)
	ms, meta, err := tensor.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(ms)
	if err := tensor.WriteFile(path, ms, meta); err != nil {
		t.Fatal(err)
	}
}

// badMasks are mask files a finished run cannot use, whoever damaged them.
var badMasks = []struct {
	name string
	edit func(ms map[string]tensor.Tensor)
	want string // the problem, after the file's name
}{
	{"a layer missing", func(ms map[string]tensor.Tensor) { delete(ms, "fc1.weight") }, "mask for fc1.weight missing"},
	{"a layer cut short", func(ms map[string]tensor.Tensor) {
		m := ms["fc1.weight"]
		ms["fc1.weight"] = tensor.U8(m.U8[:len(m.U8)-1], len(m.U8)-1)
	}, "mask for fc1.weight missing or of the wrong size"},
	{"float32 instead of uint8", func(ms map[string]tensor.Tensor) {
		m := ms["fc1.weight"]
		ms["fc1.weight"] = tensor.F32(make([]float32, len(m.U8)), m.Shape...)
	}, "mask for fc1.weight is not uint8"},
}

// TestMaskFileErrorsNameTheFile: a damaged mask.safetensors stops the fine-tuning stage (a
// rerun) and the summary (a finished run resumed) with an error naming the file.
func TestMaskFileErrorsNameTheFile(t *testing.T) {
	for _, m := range badMasks {
		for _, step := range []struct {
			name   string
			resume bool
			stages []string
		}{{"fine-tuning", false, []string{rundir.StageFinetune}}, {"summary", true, nil}} {
			t.Run(step.name+"/"+m.name, func(t *testing.T) {
				out := copyRun(t)
				rewriteMask(t, out, m.edit)
				cfg := tinyConfig(t, testData, "clean")
				if step.stages != nil {
					cfg.Stages = step.stages
				}
				_, err := Run(Options{Config: cfg, Out: out, Resume: step.resume})
				if want := filepath.Join(out, rundir.MaskFile) + ": " + m.want; err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want one saying %q", err, want)
				}
			})
		}
	}
}

// TestPretrainedErrorsNameTheFile: start weights that cannot start the network are refused
// as bad input, naming the --pretrained file, before anything is written (they used to be
// read after the mining network had trained into the run directory).
func TestPretrainedErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		write func(path string) error
	}{
		{"missing", func(string) error { return nil }},
		{"not safetensors", func(p string) error { return os.WriteFile(p, []byte("not weights"), 0o644) }},
		{"a weight of another shape", func(p string) error {
			return tensor.WriteFile(p, map[string]tensor.Tensor{"conv1.weight": tensor.F32(make([]float32, 6), 1, 6)}, nil)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".safetensors")
			if err := c.write(path); err != nil {
				t.Fatal(err)
			}
			cfg := tinyConfig(t, testData, "clean")
			cfg.Model, cfg.Pretrained = "resnet18", path
			out := filepath.Join(t.TempDir(), "run")
			_, err := Run(Options{Config: cfg, Out: out})
			if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v, want bad input naming %s", err, path)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the run directory was made (%v)", err)
			}
		})
	}
}

// A resnet18 run without --pretrained says that it starts from random weights, once; the
// log's line on the images says where they came from and what was converted. A cnn run
// says nothing of start weights.
func TestStartWeightsAndImagesLogged(t *testing.T) {
	for _, c := range []struct {
		model string
		n     int
	}{{"resnet18", 1}, {"cnn", 0}} {
		t.Run(c.model, func(t *testing.T) {
			cfg := tinyConfig(t, testData, "clean")
			cfg.Model, cfg.Mode, cfg.Stages = c.model, rundir.ModeVanilla, []string{rundir.StagePretrain}
			cfg.Pretrain.Iters, cfg.EvalEvery = 1, 1
			var log strings.Builder
			if _, err := Run(Options{Config: cfg, Out: t.TempDir(), Log: &log, Data: DataOptions{NoCache: true}}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(log.String(), "starts from random weights"); got != c.n {
				t.Fatalf("log says random weights %d times, want %d:\n%s", got, c.n, log.String())
			}
			if !strings.Contains(log.String(), "images: 242 (242 decoded): none converted") {
				t.Fatalf("log lacks the images line:\n%s", log.String())
			}
		})
	}
}
