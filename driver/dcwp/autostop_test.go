package dcwp

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// autoConfig is the tiny run with --pretrain-iters auto at fit share fit: the wrong miner
// over the separate mining model, as the rule needs, and an ERM network slow enough to fit
// the mined samples over several checks (at 0.5 it stops after about 30 of 60 iterations).
func autoConfig(data string, fit float64) (rundir.Config, error) {
	c, err := tinyConfigErr(data, "clean")
	c.Miner = rundir.MinerWrong
	c.Pretrain.Iters, c.Pretrain.LR, c.EvalEvery = 60, 3e-4, 5
	c.PretrainAuto = &rundir.PretrainAuto{Rule: rundir.StopMinedFit, Fit: fit}
	return c, err
}

func mustAuto(t *testing.T, data string, fit float64) rundir.Config {
	t.Helper()
	c, err := autoConfig(data, fit)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPretrainAutoStops: the rule ends pre-training at a check once the ERM network fits
// the share of the mined samples, or runs the cap when it never does; either way the
// vanilla network is the one a run given that number of iterations trains, and
// summary.json and the log say what the rule chose.
func TestPretrainAutoStops(t *testing.T) {
	cases := []struct {
		fit     float64
		early   bool
		wantLog string
	}{
		{0.5, true, "pretrain: stopped after %d of at most 60 iterations (--pretrain-iters auto, rule mined-fit)"},
		{1, false, "pretrain: ran all %d iterations (--pretrain-iters auto, rule mined-fit)"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.fit), func(t *testing.T) {
			cfg := mustAuto(t, testData, c.fit)
			cfg.Mode = rundir.ModeVanilla
			auto, fixed := t.TempDir(), t.TempDir()
			var log bytes.Buffer
			sum, err := Run(Options{Config: cfg, Out: auto, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			ch := sum.PretrainAuto
			if ch == nil || ch.Rule != rundir.StopMinedFit || ch.Max != 60 || (ch.Iters < 60) != c.early || ch.Iters%cfg.EvalEvery != 0 {
				t.Fatalf("summary's pretrain_auto %+v, want mined-fit stopping at a check, early %v", ch, c.early)
			}
			if want := fmt.Sprintf(c.wantLog, ch.Iters); !strings.Contains(log.String(), want) {
				t.Fatalf("log lacks %q:\n%s", want, log.String())
			}
			if got := readSummary(t, auto).PretrainAuto; !reflect.DeepEqual(got, ch) {
				t.Fatalf("summary.json's pretrain_auto %+v, want %+v", got, ch)
			}
			saved, err := rundir.ReadConfig(auto)
			if err != nil || !reflect.DeepEqual(saved.PretrainAuto, cfg.PretrainAuto) {
				t.Fatalf("config.json's pretrain_auto %+v (%v), want %+v", saved.PretrainAuto, err, cfg.PretrainAuto)
			}
			cfg.PretrainAuto, cfg.Pretrain.Iters = nil, ch.Iters
			sumFixed, err := Run(Options{Config: cfg, Out: fixed})
			if err != nil {
				t.Fatal(err)
			}
			if sumFixed.PretrainAuto != nil {
				t.Fatalf("a run of a given length records a rule: %+v", sumFixed.PretrainAuto)
			}
			if !sameFile(t, auto, fixed, rundir.VanillaFile) {
				t.Fatalf("the vanilla network after the rule's %d iterations differs from a run given %d", ch.Iters, ch.Iters)
			}
		})
	}
}

// TestPretrainAutoReadsNoBiasLabel: the rule's decisions (the length it picks, the mined
// set) are the same when every bias label of train and valid is scrambled.
func TestPretrainAutoReadsNoBiasLabel(t *testing.T) {
	scrambled := t.TempDir()
	if err := scrambleBias(testData, scrambled); err != nil {
		t.Fatal(err)
	}
	var choices []*rundir.AutoChoice
	var flags, conflict []tensor.Tensor
	var fits [][]float64 // the share of every check: what the rule decided on
	for _, data := range []string{testData, scrambled} {
		cfg := mustAuto(t, data, 0.5)
		cfg.Stages = []string{rundir.StagePretrain, rundir.StageMine}
		out := t.TempDir()
		sum, err := Run(Options{Config: cfg, Out: out, Data: DataOptions{NoCache: true}})
		if err != nil {
			t.Fatal(err)
		}
		ts, _, err := tensor.ReadFile(filepath.Join(out, rundir.MinedFile))
		if err != nil {
			t.Fatal(err)
		}
		choices = append(choices, sum.PretrainAuto)
		ms, err := rundir.ReadMetrics(filepath.Join(out, rundir.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		var fit []float64
		for _, m := range ms {
			if m.MinedFit != nil {
				fit = append(fit, *m.MinedFit)
			}
		}
		fits = append(fits, fit)
		flags, conflict = append(flags, ts["flags"]), append(conflict, ts["conflict"])
	}
	if reflect.DeepEqual(conflict[0], conflict[1]) {
		t.Fatal("scrambling left the conflict labels as they were: the test tests nothing")
	}
	if choices[0] == nil || !reflect.DeepEqual(choices[0], choices[1]) {
		t.Fatalf("the rule chose %+v with the bias labels, %+v with them scrambled", choices[0], choices[1])
	}
	if len(fits[0]) == 0 || !reflect.DeepEqual(fits[0], fits[1]) {
		t.Fatalf("the rule's checks saw shares %v with the bias labels, %v with them scrambled", fits[0], fits[1])
	}
	if !reflect.DeepEqual(flags[0], flags[1]) {
		t.Fatal("the mined set differs when the bias labels are scrambled")
	}
}

// scrambleBias copies the Colored MNIST fixture in root to dst with every training and
// validation image's bias (the last number of its name, <idx>_<label>_<bias>.png) drawn
// at random.
func scrambleBias(root, dst string) error {
	rng := rand.New(rand.NewPCG(7, 7))
	src := filepath.Join(root, "cmnist")
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, filepath.Join("cmnist", "1pct")) {
			parts := strings.Split(strings.TrimSuffix(filepath.Base(rel), ".png"), "_")
			if len(parts) != 3 {
				return fmt.Errorf("%s: not <idx>_<label>_<bias>.png", path)
			}
			rel = filepath.Join(filepath.Dir(rel), fmt.Sprintf("%s_%s_%d.png", parts[0], parts[1], rng.IntN(10)))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// TestResumeAfterKillUnderAuto kills a run inside pre-training before the rule stops it
// and requires the resumed run to end where the uninterrupted one did, with the same files.
func TestResumeAfterKillUnderAuto(t *testing.T) {
	cfg := mustAuto(t, testData, 0.5)
	cfg.Stages = []string{rundir.StagePretrain, rundir.StageMine}
	ref := t.TempDir()
	if _, err := Run(Options{Config: cfg, Out: ref}); err != nil {
		t.Fatal(err)
	}
	_, out, cmd := startChild(t, "DCWP_TEST_CHILD_AUTO=1")
	killedAt := killAtCheckpoint(t, cmd, out, rundir.StagePretrain, 5)
	if _, err := os.Stat(filepath.Join(out, rundir.VanillaFile)); err == nil {
		t.Fatal("the child finished pre-training before it was killed")
	}
	sum, err := Run(Options{Config: cfg, Out: out, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := readSummary(t, ref).PretrainAuto; want == nil || !reflect.DeepEqual(sum.PretrainAuto, want) || killedAt >= want.Iters {
		t.Fatalf("resumed from iteration %d, the rule chose %+v; uninterrupted %+v", killedAt, sum.PretrainAuto, want)
	}
	for _, f := range []string{rundir.VanillaFile, rundir.BiasedFile, rundir.MinedFile} {
		if !sameFile(t, ref, out, f) {
			t.Fatalf("%s differs after kill at pre-training iteration %d and resume", f, killedAt)
		}
	}
	ma, _ := os.ReadFile(filepath.Join(ref, rundir.MetricsFile))
	mb, _ := os.ReadFile(filepath.Join(out, rundir.MetricsFile))
	if !bytes.Equal(ma, mb) {
		t.Fatalf("metrics.jsonl differs after resume:\n%s\n---\n%s", ma, mb)
	}
}
