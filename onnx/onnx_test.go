package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// tiny builds Gemm(input, W, b) -> Relu -> logits with W sparse or dense.
func tiny(t *testing.T, sparse bool, mutate func(*Builder)) []byte {
	t.Helper()
	b := NewBuilder("tiny", 13)
	b.Producer("test", "1")
	b.Input("input", Dims("N", 4))
	w := []float32{1, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4} // [3,4]
	if sparse {
		b.Sparse("fc.weight", []int{3, 4}, w)
	} else {
		b.Dense("fc.weight", []int{3, 4}, w)
	}
	b.Dense("fc.bias", []int{3}, []float32{0.5, 0, -1})
	b.Node("Gemm", "fc", []string{"input", "fc.weight", "fc.bias"}, []string{"fc"}, Int("transB", 1), Float("alpha", 1))
	b.ValueInfo("fc", Dims("N", 3))
	b.Node("Relu", "relu", []string{"fc"}, []string{"logits"})
	b.Output("logits", Dims("N", 3))
	b.Meta("format", "x")
	if mutate != nil {
		mutate(b)
	}
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSummaryCountsDenseAndSparse(t *testing.T) {
	cases := []struct {
		name   string
		sparse bool
	}{{"dense", false}, {"sparse", true}}
	var hashes []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(tiny(t, c.sparse, nil), c.name)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Summarize(m)
			if err != nil {
				t.Fatal(err)
			}
			if s.ParamsTotal != 15 || s.ParamsNonZero != 6 {
				t.Errorf("params %d/%d, want 6/15", s.ParamsNonZero, s.ParamsTotal)
			}
			if s.IRVersion != IRVersion || s.Opset != 13 || s.Metadata["format"] != "x" || s.OpCounts["Gemm"] != 1 {
				t.Errorf("summary %+v", s)
			}
			n := s.Nodes[0]
			if n.Attrs["transB"] != "1" || n.Attrs["alpha"] != "1" || n.InputShapes[0].String() != "[N 4]" ||
				n.InputShapes[1].String() != "[3 4]" || n.OutputShapes[0].String() != "[N 3]" {
				t.Errorf("node %+v", n)
			}
			var w InitSummary
			for _, is := range s.Initializers {
				if is.Name == "fc.weight" {
					w = is
				}
			}
			if w.Sparse != c.sparse || w.NonZero != 4 || w.Numel != 12 {
				t.Errorf("weight %+v", w)
			}
			hashes = append(hashes, w.SHA256)
			v, dims, err := Values(m, "fc.weight")
			if err != nil || len(v) != 12 || v[3] != 2 || v[11] != 4 || len(dims) != 2 {
				t.Errorf("Values %v %v %v", v, dims, err)
			}
		})
	}
	if len(hashes) == 2 && hashes[0] != hashes[1] {
		t.Errorf("dense and sparse copies hash differently: %v", hashes)
	}
}

func TestSparseIndicesSortedLinear(t *testing.T) {
	s := SparseTensor("w", []int{2, 3}, []float32{0, 1, 0, 0, 0, 2})
	idx, _ := numericValues(s.Indices)
	if len(idx) != 2 || idx[0] != 1 || idx[1] != 5 || len(s.Indices.Dims) != 1 {
		t.Fatalf("indices %v dims %v", idx, s.Indices.Dims)
	}
	// Coordinate-form indices [NNZ, rank] read too.
	s.Indices = Int64Tensor("w_i", []int{2, 2}, []int64{0, 1, 1, 2})
	v, err := sparseValues(s)
	if err != nil || v[1] != 1 || v[5] != 2 {
		t.Fatalf("coordinate form: %v %v", v, err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	good := tiny(t, false, nil)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	noGraph, _ := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8)})
	cases := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "nope.onnx"), "nope.onnx: no such file"},
		{"empty", write("empty.onnx", nil), "empty.onnx: empty file"},
		{"text", write("text.onnx", []byte("hello, this is not a model")), "text.onnx: not an ONNX model"},
		{"truncated", write("trunc.onnx", good[:len(good)*2/3]), "trunc.onnx: not an ONNX model, or truncated"},
		{"no graph", write("nograph.onnx", noGraph), "no graph"},
		{"undefined input", write("undef.onnx", tiny(t, false, func(b *Builder) {
			b.Node("Relu", "bad", []string{"missing"}, []string{"y"})
		})), `reads "missing"`},
		{"bad initializer size", write("size.onnx", func() []byte {
			m, _ := Parse(good, "x")
			m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:8]
			b, _ := Marshal(m)
			return b
		}()), `initializer "fc.weight": 8 bytes`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFile(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	cases := []struct {
		name string
		do   func(b *Builder)
		want string
	}{
		{"duplicate", func(b *Builder) { b.Dense("a", []int{1}, []float32{1}); b.Dense("a", []int{1}, []float32{1}) }, "defined twice"},
		{"length", func(b *Builder) { b.Dense("a", []int{2, 2}, []float32{1}) }, "1 values for shape [2 2]"},
		{"opset", nil, "opset 12 not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opset := 13
			if c.do == nil {
				opset = 12
			}
			b := NewBuilder("g", opset)
			if c.do != nil {
				c.do(b)
			}
			if _, err := b.Model(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	base := func() *Summary {
		m, _ := Parse(tiny(t, false, nil), "a")
		s, _ := Summarize(m)
		return s
	}
	cases := []struct {
		name   string
		mutate func(s *Summary)
		want   []string // Change.String() prefixes, in order
	}{
		{"equal", func(s *Summary) {}, nil},
		{"attribute", func(s *Summary) { s.Nodes[0].Attrs["transB"] = "0" }, []string{"node fc: attr:transB 1 -> 0"}},
		{"op", func(s *Summary) { s.Nodes[1].Op = "Sigmoid" }, []string{"node relu: op Relu -> Sigmoid"}},
		{"node only in B", func(s *Summary) { s.Nodes = append(s.Nodes, NodeSummary{Name: "extra", Op: "Add"}) }, []string{"node extra: only in B"}},
		{"node only in A", func(s *Summary) { s.Nodes = s.Nodes[:1] }, []string{"node relu: only in A"}},
		{"shape", func(s *Summary) { s.Nodes[0].OutputShapes[0] = Shape{P("N"), D(2)} }, []string{"node fc: output_shapes [N 3] -> [N 2]"}},
		{"weights", func(s *Summary) {
			s.Initializers[0].SHA256 = "x"
			s.Initializers[0].NonZero = 3
			s.ParamsNonZero = 5
		}, []string{"model : params_nonzero 6 -> 5", "initializer fc.weight: nonzero 4 -> 3", "initializer fc.weight: sha256"}},
		{"metadata", func(s *Summary) { s.Metadata["format"] = "y"; s.Metadata["new"] = "1" }, []string{"metadata format: value x -> y", "metadata new: only in B"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := base()
			c.mutate(b)
			got := Diff(base(), b)
			if len(got) != len(c.want) {
				t.Fatalf("changes %v, want %v", got, c.want)
			}
			for i, ch := range got {
				if !strings.HasPrefix(ch.String(), c.want[i]) {
					t.Errorf("change %d: %q, want prefix %q", i, ch.String(), c.want[i])
				}
			}
		})
	}
}
