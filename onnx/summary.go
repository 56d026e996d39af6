package onnx

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// Value is a graph input or output.
type Value struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape Shape  `json:"shape"`
}

// NodeSummary is one node, its attributes canonicalised ("kernel_shape" -> "[4 4]").
type NodeSummary struct {
	Name         string            `json:"name"`
	Op           string            `json:"op"`
	Inputs       []string          `json:"inputs"`
	Outputs      []string          `json:"outputs"`
	Attrs        map[string]string `json:"attrs,omitempty"`
	InputShapes  []Shape           `json:"input_shapes"`
	OutputShapes []Shape           `json:"output_shapes"`
}

// InitSummary is one initializer. SHA256 hashes the densified values as little-endian
// float32 (float tensors) or int64 (others), so a dense and a sparse copy hash alike.
type InitSummary struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	Shape   []int64 `json:"shape"`
	Sparse  bool    `json:"sparse,omitempty"`
	Numel   int64   `json:"numel"`
	NonZero int64   `json:"nonzero"`
	SHA256  string  `json:"sha256"`
}

// IsFloat reports whether the initializer holds parameters (float values) rather than indices.
func (s InitSummary) IsFloat() bool {
	return s.Type == "FLOAT" || s.Type == "DOUBLE" || s.Type == "FLOAT16" || s.Type == "BFLOAT16"
}

// Summary is the structure of a model: what dcwp-eval compares and counts.
type Summary struct {
	IRVersion     int64             `json:"ir_version"`
	Opset         int64             `json:"opset"` // default domain
	Producer      string            `json:"producer"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Inputs        []Value           `json:"inputs"`
	Outputs       []Value           `json:"outputs"`
	Nodes         []NodeSummary     `json:"nodes"`
	Initializers  []InitSummary     `json:"initializers"` // dense then sparse, each in file order
	OpCounts      map[string]int    `json:"op_counts"`
	ParamsTotal   int64             `json:"params_total"`   // elements of every float initializer, dense and sparse
	ParamsNonZero int64             `json:"params_nonzero"` // non-zero elements of the same (index tensors are not parameters)
}

// Ops lists the distinct op types, sorted.
func (s *Summary) Ops() []string {
	ops := make([]string, 0, len(s.OpCounts))
	for op := range s.OpCounts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// CanonicalAttr prints an attribute's value in a stable form.
func CanonicalAttr(a *onnxpb.AttributeProto) string {
	switch a.GetType() {
	case onnxpb.AttributeProto_INT:
		return strconv.FormatInt(a.GetI(), 10)
	case onnxpb.AttributeProto_FLOAT:
		return strconv.FormatFloat(float64(a.GetF()), 'g', -1, 32)
	case onnxpb.AttributeProto_STRING:
		return strconv.Quote(string(a.S))
	case onnxpb.AttributeProto_INTS:
		parts := make([]string, len(a.Ints))
		for i, v := range a.Ints {
			parts[i] = strconv.FormatInt(v, 10)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case onnxpb.AttributeProto_FLOATS:
		parts := make([]string, len(a.Floats))
		for i, v := range a.Floats {
			parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case onnxpb.AttributeProto_TENSOR:
		if a.T != nil {
			v, err := numericValues(a.T)
			if err == nil {
				return fmt.Sprintf("tensor%v sha256:%s", a.T.Dims, hashValues(v, onnxpb.TensorProto_DataType(a.T.GetDataType()))[:16])
			}
		}
	}
	return a.GetType().String()
}

func hashValues(v []float64, dt onnxpb.TensorProto_DataType) string {
	h := sha256.New()
	var buf [8]byte
	for _, x := range v {
		if dt == onnxpb.TensorProto_FLOAT || dt == onnxpb.TensorProto_DOUBLE {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(float32(x)))
			h.Write(buf[:4])
		} else {
			binary.LittleEndian.PutUint64(buf[:], uint64(int64(x)))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func initSummary(name string, dims []int64, dt onnxpb.TensorProto_DataType, v []float64, sparse bool) InitSummary {
	s := InitSummary{Name: name, Type: dt.String(), Shape: append([]int64{}, dims...), Sparse: sparse, Numel: int64(len(v)), SHA256: hashValues(v, dt)}
	if s.Shape == nil {
		s.Shape = []int64{}
	}
	for _, x := range v {
		if x != 0 {
			s.NonZero++
		}
	}
	return s
}

// Summarize describes a validated model.
func Summarize(m *onnxpb.ModelProto) (*Summary, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	g := m.Graph
	s := &Summary{IRVersion: m.GetIrVersion(), Producer: strings.TrimSpace(m.GetProducerName() + " " + m.GetProducerVersion()), OpCounts: map[string]int{}}
	for _, o := range m.OpsetImport {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			s.Opset = o.GetVersion()
		}
	}
	if len(m.MetadataProps) > 0 {
		s.Metadata = map[string]string{}
		for _, e := range m.MetadataProps {
			s.Metadata[e.GetKey()] = e.GetValue()
		}
	}
	shapes := map[string]Shape{}
	for _, list := range [][]*onnxpb.ValueInfoProto{g.Input, g.ValueInfo, g.Output} {
		for _, v := range list {
			_, sh := shapeOf(v)
			shapes[v.GetName()] = sh
		}
	}
	for _, v := range g.Input {
		typ, sh := shapeOf(v)
		s.Inputs = append(s.Inputs, Value{v.GetName(), typ, sh})
	}
	for _, v := range g.Output {
		typ, sh := shapeOf(v)
		s.Outputs = append(s.Outputs, Value{v.GetName(), typ, sh})
	}
	for _, t := range g.Initializer {
		v, _ := numericValues(t)
		is := initSummary(t.GetName(), t.Dims, onnxpb.TensorProto_DataType(t.GetDataType()), v, false)
		s.Initializers = append(s.Initializers, is)
		shapes[t.GetName()] = fixedShape(t.Dims)
	}
	for _, sp := range g.SparseInitializer {
		v, _ := sparseValues(sp)
		is := initSummary(sparseName(sp), sp.Dims, onnxpb.TensorProto_DataType(sp.Values.GetDataType()), v, true)
		s.Initializers = append(s.Initializers, is)
		shapes[is.Name] = fixedShape(sp.Dims)
	}
	for _, is := range s.Initializers {
		if is.IsFloat() {
			s.ParamsTotal += is.Numel
			s.ParamsNonZero += is.NonZero
		}
	}
	for _, n := range g.Node {
		ns := NodeSummary{Name: n.GetName(), Op: n.GetOpType(), Inputs: append([]string{}, n.Input...), Outputs: append([]string{}, n.Output...)}
		if len(n.Attribute) > 0 {
			ns.Attrs = map[string]string{}
			for _, a := range n.Attribute {
				ns.Attrs[a.GetName()] = CanonicalAttr(a)
			}
		}
		for _, in := range n.Input {
			ns.InputShapes = append(ns.InputShapes, shapes[in])
		}
		for _, out := range n.Output {
			ns.OutputShapes = append(ns.OutputShapes, shapes[out])
		}
		s.Nodes = append(s.Nodes, ns)
		s.OpCounts[n.GetOpType()]++
	}
	return s, nil
}

// SummarizeFile reads, validates and summarises a model file.
func SummarizeFile(path string) (*Summary, error) {
	m, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Summarize(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
