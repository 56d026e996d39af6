package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/evaltest"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
)

// badCase is one hostile invocation. ok lists the exit codes that are a clean outcome
// (a bit flip in a weight leaves a valid model, so 0 is clean there); names must all
// appear on stderr when the exit is not 0.
type badCase struct {
	cmd   string
	name  string
	args  []string
	ok    []int
	names []string
}

// snapshot hashes every file under root (and records what each non-regular entry is),
// so a test can show that no good file changed and nothing new was written.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		} else {
			out[p] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// nnModel writes a model whose output is [N, N] (x·xᵀ over the flattened input).
func nnModel(t *testing.T, dir string) string {
	b := onnx.NewBuilder("nn", 13)
	b.Input("x", []onnx.Dim{onnx.P("N"), onnx.D(3), onnx.D(4), onnx.D(4)})
	b.Node("Flatten", "flatten", []string{"x"}, []string{"flat"}, onnx.Int("axis", 1))
	b.Node("Transpose", "t", []string{"flat"}, []string{"flatT"})
	b.Node("MatMul", "mm", []string{"flat", "flatT"}, []string{"logits"})
	b.Output("logits", []onnx.Dim{onnx.P("N"), onnx.P("N")})
	return evaltest.WriteModel(t, b, filepath.Join(dir, "nn.onnx"))
}

// hugeInput writes a linear model that declares a [N, 3, 100000, 100000] input.
func hugeInput(t *testing.T, dir string) string {
	b := onnx.NewBuilder("huge", 13)
	b.Input("x", []onnx.Dim{onnx.P("N"), onnx.D(3), onnx.D(100000), onnx.D(100000)})
	b.Node("ReduceMean", "mean", []string{"x"}, []string{"logits"}, onnx.Ints("axes", 2, 3), onnx.Int("keepdims", 0))
	b.Output("logits", []onnx.Dim{onnx.P("N"), onnx.D(3)})
	return evaltest.WriteModel(t, b, filepath.Join(dir, "huge-input.onnx"))
}

// TestHostileInputs runs dcwp-eval, compare and bench on generated bad inputs: each must
// end with a clean exit (never 70, never a panic or a runtime fatal error), say which
// file is at fault, and leave every file as it was.
func TestHostileInputs(t *testing.T) {
	root, _ := evaltest.WriteFixture(t, 4)
	dir := t.TempDir()
	good := evaltest.WriteLinear(t, dir, "good.onnx", evaltest.LinearSpec{})
	goodBytes, _ := os.ReadFile(good)
	net, err := exportfixture.Network(exportfixture.Spec{Model: "mlp", Seed: 9, Keep: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := exporter.ExportNetwork(exportfixture.Spec{Model: "mlp"}.Config(), net, exporter.Options{Format: exporter.Sparse})
	if err != nil {
		t.Fatal(err)
	}
	exportBytes, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	export := writeFile(t, filepath.Join(dir, "export.onnx"), exportBytes)
	bad := filepath.Join(dir, "bad")
	os.Mkdir(bad, 0o755)

	empty := writeFile(t, filepath.Join(bad, "empty.onnx"), nil)
	loop := filepath.Join(bad, "loop.onnx")
	os.Symlink(loop, loop)
	fifo := filepath.Join(bad, "fifo.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(bad, "hardlink.onnx")
	if err := os.Link(good, link); err != nil {
		t.Fatal(err)
	}
	notDir := writeFile(t, filepath.Join(bad, "data-file"), []byte("x"))
	wrongHW := evaltest.WriteLinear(t, bad, "hw5.onnx", evaltest.LinearSpec{HW: 5})
	wrongClasses := evaltest.WriteLinear(t, bad, "classes7.onnx", evaltest.LinearSpec{Classes: 7})
	fixedHuge := evaltest.WriteLinear(t, bad, "batch1e8.onnx", evaltest.LinearSpec{Batch: 100000000})
	allNaN := evaltest.WriteLinear(t, bad, "nan.onnx", evaltest.LinearSpec{Perturb: float32(math.NaN())})
	nn := nnModel(t, bad)
	huge := hugeInput(t, bad)
	data := []string{"--dataset", "cmnist", "--data", root}

	var cases []badCase
	evalCase := func(name string, model string, extra ...string) {
		args := append([]string{"--model", model, "--threads", "1", "-q"}, data...)
		cases = append(cases, badCase{"eval", name, append(args, extra...), []int{exit.Usage, exit.Failure}, []string{model}})
	}
	flagCase := func(cmd, name, flag string, args ...string) {
		// the flag's name without dashes: cli's own parse errors spell it "-threads"
		cases = append(cases, badCase{cmd, name, args, []int{exit.Usage}, []string{strings.TrimLeft(flag, "-")}})
	}
	// Truncations of the linear model at many offsets and of a real export.
	for off := 0; off < len(goodBytes); off += 1 + len(goodBytes)/40 {
		p := writeFile(t, filepath.Join(bad, fmt.Sprintf("trunc-%d.onnx", off)), goodBytes[:off])
		evalCase(fmt.Sprintf("truncated at %d", off), p)
	}
	for off := 0; off < len(exportBytes); off += 1 + len(exportBytes)/25 {
		p := writeFile(t, filepath.Join(bad, fmt.Sprintf("export-trunc-%d.onnx", off)), exportBytes[:off])
		cases = append(cases,
			badCase{"compare", fmt.Sprintf("candidate truncated at %d", off), []string{"compare", "-a", export, "-b", p}, []int{exit.Usage}, []string{p}},
			badCase{"bench", fmt.Sprintf("truncated at %d", off), []string{"bench", "-m", p, "--runs", "1", "--batch", "1"}, []int{exit.Usage}, []string{p}})
	}
	// Bit flips: a flip in a weight leaves a valid model (exit 0, or 1 when compare sees
	// the outputs move); anything else must be refused naming the file.
	rng := rand.New(rand.NewPCG(18, 1))
	for i := 0; i < 30; i++ {
		b := append([]byte{}, goodBytes...)
		pos := rng.IntN(len(b))
		b[pos] ^= 1 << rng.IntN(8)
		p := writeFile(t, filepath.Join(bad, fmt.Sprintf("flip-%d.onnx", i)), b)
		cases = append(cases, badCase{"eval", fmt.Sprintf("bit flip at %d", pos), append([]string{"--model", p, "--threads", "1", "-q"}, data...),
			[]int{0, exit.Usage, exit.Failure}, []string{p}})
		e := append([]byte{}, exportBytes...)
		pos = rng.IntN(len(e))
		e[pos] ^= 1 << rng.IntN(8)
		q := writeFile(t, filepath.Join(bad, fmt.Sprintf("export-flip-%d.onnx", i)), e)
		cases = append(cases, badCase{"compare", fmt.Sprintf("bit flip at %d", pos), []string{"compare", "-a", export, "-b", q, "--samples", "16"},
			[]int{0, exit.Failure, exit.Usage}, []string{q}})
	}
	// Wrong kinds of file and wrong shapes.
	for _, c := range []struct {
		name, model string
		timeable    bool // bench times any model its inputs fit: only eval scores classes
	}{
		{"empty file", empty, false}, {"directory", bad, false}, {"symlink loop", loop, false}, {"FIFO", fifo, false},
		{"device", "/dev/zero", false}, {"missing", filepath.Join(bad, "missing.onnx"), false}, {"input 5x5", wrongHW, true},
		{"7 classes", wrongClasses, true}, {"fixed batch 1e8", fixedHuge, false}, {"NaN logits", allNaN, true},
		{"output [N,N]", nn, true}, {"huge declared input", huge, false},
	} {
		evalCase(c.name, c.model)
		cases = append(cases, badCase{"compare", c.name, []string{"compare", "-a", good, "-b", c.model, "--threads", "1"}, []int{exit.Usage, exit.Failure}, []string{c.model}})
		ok := []int{exit.Usage}
		if c.timeable {
			ok = append(ok, 0)
		}
		cases = append(cases, badCase{"bench", c.name, []string{"bench", "-m", c.model, "--runs", "1", "--batch", "2"}, ok, []string{c.model}})
	}
	evalCase("output [N,N] at batch 10", nn, "--batch", "10")
	cases = append(cases, badCase{"bench", "huge declared input, no --data", []string{"bench", "-m", huge, "--runs", "1", "--batch", "1"}, []int{exit.Usage}, []string{huge}})
	// Bad data arguments.
	for _, c := range []struct{ name, flag string }{{"data is a file", "--data"}, {"data missing", "--data"}} {
		d := notDir
		if c.name == "data missing" {
			d = filepath.Join(bad, "nodata")
		}
		cases = append(cases, badCase{"eval", c.name, []string{"--model", good, "--dataset", "cmnist", "--data", d}, []int{exit.Usage}, []string{d}})
	}
	flagCase("eval", "unknown dataset", "nosuchset", "--model", good, "--dataset", "nosuchset", "--data", root)
	// Numeric flags.
	for _, v := range []string{"0", "-1", "50000000", "1e3", "NaN", "", ",", "9223372036854775808"} {
		flagCase("eval", "--batch "+v, "--batch", append([]string{"--model", good, "--batch", v}, data...)...)
		flagCase("bench", "--batch "+v, "--batch", "bench", "-m", good, "--batch", v)
	}
	for _, f := range []struct{ flag, v string }{{"--threads", "-1"}, {"--threads", "100000"}, {"--device", "-1"}, {"--bench-samples", "-5"}, {"--threads", "NaN"}} {
		flagCase("eval", f.flag+" "+f.v, f.flag, append([]string{"--model", good, f.flag, f.v}, data...)...)
	}
	for _, f := range []struct{ flag, v string }{{"--atol", "NaN"}, {"--atol", "Inf"}, {"--rtol", "+Inf"}, {"--atol", "-1"}, {"--samples", "0"}, {"--samples", "-3"}, {"--samples", "100000000"}, {"--seed", "-1"}} {
		flagCase("compare", f.flag+" "+f.v, f.flag, "compare", "-a", good, "-b", good, f.flag, f.v)
	}
	flagCase("compare", "--atol 0 --rtol 0", "--atol", "compare", "-a", good, "-b", good, "--atol", "0", "--rtol", "0")
	for _, f := range []struct{ flag, v string }{{"--runs", "0"}, {"--runs", "-1"}, {"--runs", "99999999999"}, {"--warmup", "-2"}, {"--threads", "-4"}} {
		flagCase("bench", f.flag+" "+f.v, f.flag, "bench", "-m", good, f.flag, f.v)
	}
	// Outputs that are not regular files or are inputs.
	for _, out := range []string{good, link, "/dev/null", fifo, bad, loop, filepath.Join(bad, "no", "r.json"), notDir + "/r.json"} {
		cases = append(cases,
			badCase{"eval", "--json " + out, append([]string{"--model", good, "--json", out}, data...), []int{exit.Usage}, []string{"--json", out}},
			badCase{"compare", "--json " + out, []string{"compare", "-a", good, "-b", export, "--json", out}, []int{exit.Usage}, []string{"--json", out}},
			badCase{"bench", "--json " + out, []string{"bench", "-m", good, "--json", out}, []int{exit.Usage}, []string{"--json", out}})
	}

	before := snapshot(t, dir)
	beforeData := snapshot(t, root)
	tried, clean := map[string]int{}, map[string]int{}
	for _, c := range cases {
		var stdout, stderr strings.Builder
		code := run(append([]string{"dcwp-eval"}, c.args...), &stdout, &stderr)
		tried[c.cmd]++
		msg := stderr.String()
		switch {
		case code == exit.Internal || strings.Contains(msg, "panic") || strings.Contains(msg, "fatal error") || strings.Contains(msg, "goroutine "):
			t.Errorf("%s %s: crashed (exit %d):\n%s", c.cmd, c.name, code, msg)
		case !slices.Contains(c.ok, code):
			t.Errorf("%s %s: exit %d, want one of %v\n%s", c.cmd, c.name, code, c.ok, msg)
		case code != 0 && !containsAll(msg, c.names):
			t.Errorf("%s %s: message does not name %q:\n%s", c.cmd, c.name, c.names, msg)
		default:
			clean[c.cmd]++
		}
	}
	damaged := diffSnapshots(before, snapshot(t, dir)) + diffSnapshots(beforeData, snapshot(t, root))
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/null is no longer a character device")
		damaged++
	}
	for _, cmd := range []string{"eval", "compare", "bench"} {
		t.Logf("%-8s %4d cases, %4d clean", cmd, tried[cmd], clean[cmd])
	}
	if damaged > 0 {
		t.Errorf("%d files changed, appeared or vanished", damaged)
	}
}

func diffSnapshots(a, b map[string]string) int {
	n := 0
	for p, h := range a {
		if b[p] != h {
			n++
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			n++
		}
	}
	return n
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
