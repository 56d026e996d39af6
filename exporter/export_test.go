package exporter

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/ort"
	"github.com/dcwp-go/dcwp/rundir"
)

// The fixture networks every test shares: masks keeping ~50 % and ~10 %, with whole
// neurons/channels pruned (dead rows) and whole inputs unused (dead columns) so that
// every compaction rule fires.
var specs = []exportfixture.Spec{
	{Model: "mlp", Seed: 1, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.2},
	{Model: "mlp", Seed: 2, Keep: 0.1},
	{Model: "cnn", Seed: 3, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.2},
	{Model: "resnet18", Seed: 4, Keep: 0.5, DeadRows: 0.3, DeadCols: 0.1},
	{Model: "mlp", Seed: 5, Keep: 0.5, DeadRows: 0.2, AsCoded: true}, // Mul by 1/255
	{Model: "cnn", Seed: 6, Keep: 0.1, Dataset: "cifar10c"},          // Sub/Div normalisation
	{Model: "mlp", Seed: 8, Keep: 0.5, DeadRows: 1},                  // every hidden neuron constant: one kept per layer
	{Model: "cnn", Seed: 9, Keep: 0.5, DeadRows: 0.9},                // mostly constant channels behind zero padding
	// One score per output unit: a pruned unit's bias and BatchNorm affine are gated too.
	{Model: "mlp", Seed: 10, Keep: 0.5, DeadRows: 0.5, Granularity: arch.GranChannel},
	{Model: "cnn", Seed: 11, Keep: 0.5, DeadRows: 0.5, Granularity: arch.GranChannel},
	{Model: "resnet18", Seed: 12, Keep: 0.5, DeadRows: 0.4, Granularity: arch.GranChannel},
}

type built struct {
	spec  exportfixture.Spec
	net   *rundir.Network
	x     []float32
	n     int
	ref   [][]float64
	model map[Format][]byte
	stats map[Format]*Stats
}

var (
	cacheMu sync.Mutex
	cache   = map[exportfixture.Spec]*built{} // the whole spec: every field changes the network
)

// get builds (once per test binary) a fixture network, its reference logits and its three exports.
func get(t testing.TB, s exportfixture.Spec) *built {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if b, ok := cache[s]; ok {
		return b
	}
	net, err := exportfixture.Network(s)
	if err != nil {
		t.Fatal(err)
	}
	b := &built{spec: s, net: net, n: 3, model: map[Format][]byte{}, stats: map[Format]*Stats{}}
	b.x = exportfixture.Input(net.Arch, b.n, s.Seed+100)
	if b.ref, err = exportfixture.Forward(net.Arch, net.Folded(), b.x, b.n); err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		m, st, err := ExportNetwork(s.Config(), net, Options{Format: f, Source: "fixture"})
		if err != nil {
			t.Fatalf("%s %s: %v", s.Name(), f, err)
		}
		if b.model[f], err = Encode(m); err != nil {
			t.Fatal(err)
		}
		b.stats[f] = st
	}
	cache[s] = b
	return b
}

// TestCacheKeysWholeSpec asks for fixtures that differ from specs[0] in one field each;
// each must be built from its own spec, not served from the cache entry of another.
func TestCacheKeysWholeSpec(t *testing.T) {
	base := specs[0]
	variants := map[string]func(*exportfixture.Spec){
		"seed":    func(s *exportfixture.Spec) { s.Seed = 21 },
		"dataset": func(s *exportfixture.Spec) { s.Dataset = "cifar10c" },
		"variant": func(s *exportfixture.Spec) { s.AsCoded = true },
	}
	get(t, base)
	for name, edit := range variants {
		s := base
		edit(&s)
		if s.Name() == base.Name() {
			t.Errorf("%s: specs %+v and %+v share the name %s", name, s, base, s.Name())
		}
		if b := get(t, s); b.spec != s {
			t.Errorf("%s: asked for %+v, got the fixture of %+v", name, s, b.spec)
		}
	}
}

// TestEveryOpExports exports the probe network of every arch op in each format and runs it
// in ONNX Runtime against the reference forward, so an op that the exporter, its
// compaction or the reference forward lacks fails here by name.
func TestEveryOpExports(t *testing.T) {
	for _, op := range arch.Ops() {
		t.Run(string(op), func(t *testing.T) {
			a, err := arch.Probe(op)
			if err != nil {
				t.Fatal(err)
			}
			net := exportfixture.ForArch(a, exportfixture.Spec{Seed: 31, Keep: 0.5, DeadRows: 0.3})
			const n = 2
			x := exportfixture.Input(a, n, 32)
			ref, err := exportfixture.Forward(a, net.Folded(), x, n)
			if err != nil {
				t.Fatalf("reference forward: %v", err)
			}
			for _, f := range Formats() {
				m, _, err := ExportNetwork(rundir.Config{}, net, Options{Format: f})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				data, _ := Encode(m)
				y := runORT(t, data, x, n, int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2]))
				if d := maxDiff(ref, y); d > 1e-4 {
					t.Errorf("%s: max |ORT - reference| = %.3g > 1e-4", f, d)
				}
			}
		})
	}
}

func runORT(t testing.TB, model []byte, x []float32, shape ...int64) []float32 {
	t.Helper()
	s, err := ort.New(model, "input", "logits", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	y, _, err := s.Run(x, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func maxDiff(ref [][]float64, y []float32) float64 {
	d := 0.0
	k := 0
	for _, row := range ref {
		for _, v := range row {
			d = math.Max(d, math.Abs(v-float64(y[k])))
			k++
		}
	}
	return d
}

// TestORTMatchesReference runs every export in ONNX Runtime and compares with the float64
// reference forward pass of the unfolded arch.
func TestORTMatchesReference(t *testing.T) {
	for _, s := range specs {
		b := get(t, s)
		a := b.net.Arch
		outs := map[Format][]float32{}
		for _, f := range Formats() {
			t.Run(s.Name()+"/"+string(f), func(t *testing.T) {
				y := runORT(t, b.model[f], b.x, int64(b.n), int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2]))
				outs[f] = y
				if len(y) != b.n*a.Classes {
					t.Fatalf("%d outputs, want %d", len(y), b.n*a.Classes)
				}
				d := maxDiff(b.ref, y)
				mag := 0.0
				for _, row := range b.ref {
					for _, v := range row {
						mag = math.Max(mag, math.Abs(v))
					}
				}
				t.Logf("max |ORT - reference| = %.2e (logits up to %.2f), %d bytes, params %d/%d",
					d, mag, len(b.model[f]), b.stats[f].ParamsNonZero, b.stats[f].ParamsTotal)
				if d > 1e-4 {
					t.Fatalf("max abs difference %.3g > 1e-4", d)
				}
				if dense := outs[Dense]; f != Dense && dense != nil {
					for i := range y {
						if e := math.Abs(float64(y[i] - dense[i])); e > 1e-4 {
							t.Fatalf("%s differs from dense by %.3g at %d", f, e, i)
						}
					}
				}
			})
		}
	}
	// Every opset the CLI accepts loads and computes the same.
	b := get(t, specs[2])
	for opset := 14; opset <= 17; opset++ {
		m, _, err := ExportNetwork(b.spec.Config(), b.net, Options{Opset: opset})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := Encode(m)
		a := b.net.Arch
		if d := maxDiff(b.ref, runORT(t, data, b.x, int64(b.n), int64(a.Input[0]), int64(a.Input[1]), int64(a.Input[2]))); d > 1e-4 {
			t.Errorf("opset %d: max abs difference %.3g", opset, d)
		}
	}
}

// TestStatsMatchReader checks that the exporter's counts, the metadata and the reader agree.
func TestStatsMatchReader(t *testing.T) {
	for _, s := range specs[:3] {
		b := get(t, s)
		for _, f := range Formats() {
			m, err := onnx.Parse(b.model[f], s.Name())
			if err != nil {
				t.Fatal(err)
			}
			sum, err := onnx.Summarize(m)
			if err != nil {
				t.Fatal(err)
			}
			st := b.stats[f]
			if sum.ParamsTotal != st.ParamsTotal || sum.ParamsNonZero != st.ParamsNonZero {
				t.Errorf("%s %s: reader counts %d/%d, exporter %d/%d", s.Name(), f, sum.ParamsNonZero, sum.ParamsTotal, st.ParamsNonZero, st.ParamsTotal)
			}
			if got := sum.Metadata["params_nonzero"]; got != fmt.Sprint(st.ParamsNonZero) {
				t.Errorf("%s %s: metadata params_nonzero %s", s.Name(), f, got)
			}
			for _, k := range []string{"dataset", "conflict_pct", "model", "variant", "seed", "which", "kept_ratio", "params_total", "params_nonzero", "source_run", "tool_version", "format"} {
				if _, ok := sum.Metadata[k]; !ok {
					t.Errorf("%s %s: metadata %s missing", s.Name(), f, k)
				}
			}
			if sum.IRVersion != 8 || sum.Opset != 13 {
				t.Errorf("ir %d opset %d", sum.IRVersion, sum.Opset)
			}
		}
		// Non-zero counts do not depend on the storage; compact can only lose zeros and
		// fold constants (each folded unit removes weights, may make a bias non-zero).
		if b.stats[Dense].ParamsNonZero != b.stats[Sparse].ParamsNonZero || b.stats[Dense].ParamsTotal != b.stats[Sparse].ParamsTotal {
			t.Errorf("%s: dense and sparse counts differ", s.Name())
		}
		if b.stats[Compact].ParamsTotal > b.stats[Dense].ParamsTotal {
			t.Errorf("%s: compact has more parameters than dense", s.Name())
		}
	}
}

// TestCompactShrinks checks that compaction really removes units where the mask allows.
func TestCompactShrinks(t *testing.T) {
	cases := []struct {
		spec   exportfixture.Spec
		layer  string
		shrink bool
	}{
		{specs[0], "fc1", true},            // dead rows into a Gemm: always removable
		{specs[0], "fc", false},            // the head keeps its classes
		{specs[2], "conv3", true},          // conv3 -> relu -> gap -> fc: constant folds exactly
		{specs[3], "layer1.0.conv1", true}, // inner block channels: dead ones with bias <= 0 go
		{specs[3], "conv1", false},         // the stem feeds the residual stream
		{specs[8], "fc1", true},            // channel masks: pruned neurons go
		{specs[9], "conv1", true},          // pruned channels output 0: they go behind padding too
		{specs[9], "conv2", true},
		{specs[10], "layer1.0.conv1", true},
	}
	for _, c := range cases {
		b := get(t, c.spec)
		var ls *LayerStats
		for i := range b.stats[Compact].Layers {
			if b.stats[Compact].Layers[i].Name == c.layer {
				ls = &b.stats[Compact].Layers[i]
			}
		}
		if ls == nil {
			t.Fatalf("%s: no layer %s in stats", c.spec.Name(), c.layer)
		}
		if got := ls.Units < ls.UnitsOrig; got != c.shrink {
			t.Errorf("%s %s: %d of %d units kept, shrink=%v want %v", c.spec.Name(), c.layer, ls.Units, ls.UnitsOrig, got, c.shrink)
		}
	}
	// The MLP's unused input pixels stay (a Gather selecting the used ones is far slower
	// in ONNX Runtime than the zero columns it saves).
	m, _ := onnx.Parse(get(t, specs[0]).model[Compact], "mlp")
	sum, _ := onnx.Summarize(m)
	if sum.OpCounts["Gather"] != 0 {
		t.Errorf("compact mlp ops %v, want no Gather", sum.OpCounts)
	}
}

// TestDeterministic exports the same network twice and expects identical bytes.
func TestDeterministic(t *testing.T) {
	b := get(t, specs[2])
	for _, f := range Formats() {
		m, _, err := ExportNetwork(b.spec.Config(), b.net, Options{Format: f, Source: "fixture"})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := Encode(m)
		if string(data) != string(b.model[f]) {
			t.Errorf("%s: two exports of one network differ", f)
		}
	}
}

// TestAllDeadKeepsOne: when every hidden neuron is constant, compaction folds all but one
// per layer (no zero-sized tensors) and the logits stay those of the dense export.
func TestAllDeadKeepsOne(t *testing.T) {
	b := get(t, specs[6])
	for _, l := range b.stats[Compact].Layers {
		if l.Name != "fc" && l.Units != 1 {
			t.Errorf("%s keeps %d units, want 1", l.Name, l.Units)
		}
	}
}

// TestCompactRemovesEveryPrunedUnit: under channel granularity, every pruned unit of a
// layer whose output reaches only the next layer (no residual stream) is gone from the
// compact export, and its FLOPs with it.
func TestCompactRemovesEveryPrunedUnit(t *testing.T) {
	for _, s := range []exportfixture.Spec{specs[8], specs[9]} {
		b := get(t, s)
		pruned := map[string]int{}
		for _, p := range b.net.Arch.MaskedParams() {
			m := b.net.Masks[p.Name].U8
			per := len(m) / p.Shape[0]
			for j := 0; j < p.Shape[0]; j++ {
				if m[j*per] == 0 {
					pruned[p.Node]++
				}
			}
		}
		for _, l := range b.stats[Compact].Layers {
			if l.UnitsOrig == 0 || l.Name == b.net.Arch.Output() {
				continue
			}
			if want := l.UnitsOrig - pruned[l.Name]; l.Units != want {
				t.Errorf("%s %s: %d units kept, mask keeps %d", s.Name(), l.Name, l.Units, want)
			}
		}
		if c, d := b.stats[Compact].FLOPs, b.stats[Dense].FLOPs; !(c < d) || d <= 0 {
			t.Errorf("%s: compact %d FLOPs, dense %d", s.Name(), c, d)
		}
	}
}
