package xruntime

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// specs are the networks exported: each model with weight-level masks (scattered zeros,
// some whole units and inputs pruned) and with channel-level masks (half the units pruned,
// which the compact export removes).
var specs = []exportfixture.Spec{
	{Model: "mlp", Seed: 41, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.2},
	{Model: "cnn", Seed: 42, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.2},
	{Model: "resnet18", Seed: 43, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.1},
	{Model: "mlp", Seed: 44, DeadRows: 0.5, Granularity: arch.GranChannel},
	{Model: "cnn", Seed: 45, DeadRows: 0.5, Granularity: arch.GranChannel},
	{Model: "resnet18", Seed: 46, DeadRows: 0.4, Granularity: arch.GranChannel},
}

// batch is the number of samples of the fixed batch each model runs.
const batch = 4

// export is one exported model and what ONNX Runtime computes from the batch.
type export struct {
	name   string
	format exporter.Format
	job    job
	want   []float32 // ONNX Runtime's logits, [batch, classes]
	params int64
}

// exports writes every format of every spec into dir and runs each in ONNX Runtime.
func exports(t *testing.T, dir string) []export {
	t.Helper()
	var out []export
	for _, s := range specs {
		net, err := exportfixture.Network(s)
		if err != nil {
			t.Fatal(err)
		}
		in := net.Arch.Input
		x := exportfixture.Input(net.Arch, batch, s.Seed+100)
		for _, f := range exporter.Formats() {
			m, st, err := exporter.ExportNetwork(s.Config(), net, exporter.Options{Format: f, Source: "fixture", ChannelMultiple: exporter.ChannelMultipleOf(f)}) // as dcwp-export writes it
			if err != nil {
				t.Fatalf("%s %s: %v", s.Name(), f, err)
			}
			data, err := exporter.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s-%s-%s", s.Model, granularity(s), f)
			path := filepath.Join(dir, name+".onnx")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			e := export{name: name, format: f, params: st.ParamsTotal,
				job: job{Model: path, Shape: []int{batch, in[0], in[1], in[2]}, Input: x}}
			e.want = runORT(t, data, x, e.job.Shape)
			out = append(out, e)
		}
	}
	return out
}

func granularity(s exportfixture.Spec) arch.Granularity {
	if s.Granularity == "" {
		return arch.GranWeight
	}
	return s.Granularity
}

func runORT(t *testing.T, model []byte, x []float32, shape []int) []float32 {
	t.Helper()
	s, err := ort.New(model, "input", "logits", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sh := make([]int64, len(shape))
	for i, v := range shape {
		sh[i] = int64(v)
	}
	y, _, err := s.Run(x, sh...)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestRuntimesMatchORT exports every spec in every format, runs each export in each
// second runtime and compares its logits and classes with ONNX Runtime's.
func TestRuntimesMatchORT(t *testing.T) {
	es := exports(t, t.TempDir())
	t.Run("structured compact is smaller", func(t *testing.T) { compactShrinks(t, es) })
	jobs := make([]job, len(es))
	for i, e := range es {
		jobs[i] = e.job
	}
	for _, r := range runtimes() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel() // one single-threaded process each
			rep, err := r.runAll(installed, jobs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s", r.name, rep.Version)
			for i, e := range es {
				t.Run(e.name, func(t *testing.T) { check(t, r, e, rep.Results[i]) })
			}
		})
	}
}

// compactShrinks makes sure the compact exports of channel masks checked here really have
// units removed, so the runtimes are shown to load structurally smaller graphs.
func compactShrinks(t *testing.T, es []export) {
	dense := map[string]int64{}
	for _, e := range es {
		if e.format == exporter.Dense {
			dense[strings.TrimSuffix(e.name, string(exporter.Dense))] = e.params
		}
	}
	for _, e := range es {
		if e.format != exporter.Compact || !strings.Contains(e.name, string(arch.GranChannel)) {
			continue
		}
		d := dense[strings.TrimSuffix(e.name, string(exporter.Compact))]
		t.Logf("%s: %d parameters, dense %d", e.name, e.params, d)
		if d == 0 || e.params*10 > d*8 {
			t.Errorf("%s: %d parameters against dense %d: compaction removed under 20 %%", e.name, e.params, d)
		}
	}
}

// TestMissingRuntimeSaysWhatToInstall: a runtime missing from the machine fails the test
// with the set-up step that installs it, never a skip.
func TestMissingRuntimeSaysWhatToInstall(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "absent")
	cases := []struct {
		name string
		m    machine
		want map[string]string // runtime -> what its error must say
	}{
		{"no python3-opencv", machine{python: gone, node: installed.node, ortweb: installed.ortweb},
			map[string]string{"opencv-dnn": "tools/setup.sh apt (Debian python3-opencv)"}},
		{"no onnxruntime-web", machine{python: installed.python, node: installed.node, ortweb: gone},
			map[string]string{"onnxruntime-web": "tools/setup.sh ortweb (npm onnxruntime-web into build/ortweb)"}},
		{"no node", machine{python: installed.python, node: gone, ortweb: installed.ortweb},
			map[string]string{"onnxruntime-web": "install Node.js 20 or newer and npm, then tools/setup.sh ortweb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range runtimes() {
				_, err := r.command(c.m)
				want, missing := c.want[r.name]
				switch {
				case !missing && err != nil:
					t.Errorf("%s: %v, want it found", r.name, err)
				case missing && (err == nil || !strings.Contains(err.Error(), want)):
					t.Errorf("%s: error %v, want one saying %q", r.name, err, want)
				}
			}
		})
	}
}

func check(t *testing.T, r runtime, e export, got result) {
	if want, refused := r.refusal[e.format]; refused {
		if !want.MatchString(got.Error) {
			t.Fatalf("%s was known to refuse %s exports with an error matching %q; now: error %q", r.name, e.format, want, got.Error)
		}
		t.Logf("refused, as known: %.200s", got.Error)
		return
	}
	if got.Error != "" {
		t.Fatalf("%s cannot run it: %s", r.name, got.Error)
	}
	classes := len(e.want) / batch
	if len(got.Logits) != len(e.want) || len(got.Shape) != 2 || got.Shape[0] != batch || got.Shape[1] != classes {
		t.Fatalf("%s gives shape %v (%d values), ONNX Runtime [%d %d]", r.name, got.Shape, len(got.Logits), batch, classes)
	}
	d, rel := 0.0, 0.0
	for i, w := range e.want {
		a := math.Abs(float64(got.Logits[i] - w))
		d, rel = math.Max(d, a), math.Max(rel, a/math.Max(1, math.Abs(float64(w))))
	}
	t.Logf("max |%s - ORT| = %.2e (relative %.2e)", r.name, d, rel)
	if rel > r.tol {
		t.Errorf("%s and ONNX Runtime differ by %.3g (relative %.3g > %.0e)", r.name, d, rel, r.tol)
	}
	for s := 0; s < batch; s++ {
		if g, w := argmax(got.Logits[s*classes:(s+1)*classes]), argmax(e.want[s*classes:(s+1)*classes]); g != w {
			t.Errorf("sample %d: %s picks class %d, ONNX Runtime %d", s, r.name, g, w)
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
