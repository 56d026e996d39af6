// Package onnx builds and reads the ONNX models dcwp-go ships.
//
// The builder writes exactly what it is told: every attribute explicit, dense initializers
// as raw little-endian data, sparse initializers as COO with sorted linear int64 indices,
// value infos with a named (dynamic) batch dimension. The reader loads and validates a
// model file and summarises its structure (ops, attributes, shapes, initializer hashes,
// parameter counts) so two models can be compared with Diff.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// IRVersion is the ONNX IR version written: 8, the newest onnx 1.12's checker accepts.
const IRVersion = 8

// Opset bounds the builder supports.
const (
	MinOpset = 13
	MaxOpset = 17
)

// Dim is one dimension of a value's shape: a fixed size, or a named symbolic size
// (Param, e.g. "N" for the batch) when Param is not empty.
type Dim struct {
	Value int64
	Param string
}

// D is a fixed dimension.
func D(v int) Dim { return Dim{Value: int64(v)} }

// P is a symbolic dimension.
func P(name string) Dim { return Dim{Param: name} }

// String prints the size or the name.
func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	return fmt.Sprint(d.Value)
}

// Dims is a shape with a symbolic batch first: Dims("N", 3, 28, 28).
func Dims(batch string, dims ...int) []Dim {
	out := []Dim{P(batch)}
	for _, d := range dims {
		out = append(out, D(d))
	}
	return out
}

// Attr is one node attribute. Make them with Int, Ints, Float, String.
type Attr = *onnxpb.AttributeProto

// Int is an integer attribute.
func Int(name string, v int64) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// Ints is an integer list attribute.
func Ints(name string, v ...int64) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: append([]int64{}, v...)}
}

// Float is a float attribute.
func Float(name string, v float32) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// String is a string attribute.
func String(name, v string) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// Builder assembles one model. Methods record errors; Model reports the first.
type Builder struct {
	m     *onnxpb.ModelProto
	names map[string]bool // every initializer name, to catch duplicates
	err   error
}

// NewBuilder starts a model with one graph and the default-domain opset.
func NewBuilder(graphName string, opset int) *Builder {
	b := &Builder{
		m: &onnxpb.ModelProto{
			IrVersion:   proto.Int64(IRVersion),
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(int64(opset))}},
			Graph:       &onnxpb.GraphProto{Name: proto.String(graphName)},
		},
		names: map[string]bool{},
	}
	if opset < MinOpset || opset > MaxOpset {
		b.err = fmt.Errorf("opset %d not supported (want %d..%d)", opset, MinOpset, MaxOpset)
	}
	return b
}

// Producer sets producer name and version.
func (b *Builder) Producer(name, version string) {
	b.m.ProducerName, b.m.ProducerVersion = proto.String(name), proto.String(version)
}

// Doc sets the graph's doc string.
func (b *Builder) Doc(s string) { b.m.Graph.DocString = proto.String(s) }

// Meta adds one metadata_props entry (keys kept in call order; set each key once).
func (b *Builder) Meta(key, value string) {
	for _, e := range b.m.MetadataProps {
		if e.GetKey() == key {
			e.Value = proto.String(value)
			return
		}
	}
	b.m.MetadataProps = append(b.m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

func valueInfo(name string, elem onnxpb.TensorProto_DataType, dims []Dim) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d.Param != "" {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
}

// Input declares a float32 graph input.
func (b *Builder) Input(name string, dims []Dim) {
	b.m.Graph.Input = append(b.m.Graph.Input, valueInfo(name, onnxpb.TensorProto_FLOAT, dims))
}

// Output declares a float32 graph output.
func (b *Builder) Output(name string, dims []Dim) {
	b.m.Graph.Output = append(b.m.Graph.Output, valueInfo(name, onnxpb.TensorProto_FLOAT, dims))
}

// ValueInfo records the type and shape of an intermediate float32 value.
func (b *Builder) ValueInfo(name string, dims []Dim) {
	b.m.Graph.ValueInfo = append(b.m.Graph.ValueInfo, valueInfo(name, onnxpb.TensorProto_FLOAT, dims))
}

// Node appends a node. Attributes are stored sorted by name.
func (b *Builder) Node(op, name string, inputs, outputs []string, attrs ...Attr) {
	as := append([]Attr{}, attrs...)
	sort.Slice(as, func(i, j int) bool { return as[i].GetName() < as[j].GetName() })
	b.m.Graph.Node = append(b.m.Graph.Node, &onnxpb.NodeProto{
		OpType: proto.String(op), Name: proto.String(name), Input: append([]string{}, inputs...), Output: append([]string{}, outputs...), Attribute: as,
	})
}

func (b *Builder) claim(name string) bool {
	if b.names[name] {
		if b.err == nil {
			b.err = fmt.Errorf("initializer %q defined twice", name)
		}
		return false
	}
	b.names[name] = true
	return true
}

func checkLen(name string, shape []int, n int) error {
	want := 1
	for _, d := range shape {
		want *= d
	}
	if want != n {
		return fmt.Errorf("initializer %q: %d values for shape %v", name, n, shape)
	}
	return nil
}

// FloatTensor makes a dense float32 TensorProto with raw little-endian data.
func FloatTensor(name string, shape []int, data []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: int64s(shape), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
}

// Int64Tensor makes a dense int64 TensorProto with raw little-endian data.
func Int64Tensor(name string, shape []int, data []int64) *onnxpb.TensorProto {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: int64s(shape), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), RawData: raw}
}

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

// Dense adds a dense float32 initializer (zeros stored as zeros).
func (b *Builder) Dense(name string, shape []int, data []float32) {
	if err := checkLen(name, shape, len(data)); err != nil && b.err == nil {
		b.err = err
	}
	if b.claim(name) {
		b.m.Graph.Initializer = append(b.m.Graph.Initializer, FloatTensor(name, shape, data))
	}
}

// DenseInt64 adds a dense int64 initializer (indices for Gather, shapes).
func (b *Builder) DenseInt64(name string, shape []int, data []int64) {
	if err := checkLen(name, shape, len(data)); err != nil && b.err == nil {
		b.err = err
	}
	if b.claim(name) {
		b.m.Graph.Initializer = append(b.m.Graph.Initializer, Int64Tensor(name, shape, data))
	}
}

// SparseTensor makes a COO SparseTensorProto of the non-zero entries of data: values
// [NNZ] float32 and linear (row-major) int64 indices [NNZ] in increasing order.
func SparseTensor(name string, shape []int, data []float32) *onnxpb.SparseTensorProto {
	var vals []float32
	var idx []int64
	for i, v := range data {
		if v != 0 {
			vals = append(vals, v)
			idx = append(idx, int64(i))
		}
	}
	return &onnxpb.SparseTensorProto{
		Values:  FloatTensor(name, []int{len(vals)}, vals),
		Indices: Int64Tensor(name+"_indices", []int{len(idx)}, idx),
		Dims:    int64s(shape),
	}
}

// Sparse adds a sparse float32 initializer holding only the non-zero entries of data.
func (b *Builder) Sparse(name string, shape []int, data []float32) {
	if err := checkLen(name, shape, len(data)); err != nil && b.err == nil {
		b.err = err
	}
	if b.claim(name) {
		b.m.Graph.SparseInitializer = append(b.m.Graph.SparseInitializer, SparseTensor(name, shape, data))
	}
}

// Model returns the assembled model, or the first error met while building it.
func (b *Builder) Model() (*onnxpb.ModelProto, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.m, nil
}

// Marshal serialises a model deterministically (same model, same bytes).
func Marshal(m *onnxpb.ModelProto) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
