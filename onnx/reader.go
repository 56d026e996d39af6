package onnx

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ReadFile loads and validates an ONNX model, naming the file in every error.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		return nil, err
	}
	return Parse(b, path)
}

// Parse decodes and validates a serialised model; name labels errors (a file path).
func Parse(b []byte, name string) (*onnxpb.ModelProto, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file, not an ONNX model", name)
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model, or truncated: %v", name, err)
	}
	if err := Validate(m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// Validate checks what a model needs to be usable: IR version and opset set, a graph
// with inputs and outputs, initializers whose data match their shapes, and every node
// input defined before use (graph input, initializer or an earlier node's output).
func Validate(m *onnxpb.ModelProto) error {
	if m.GetIrVersion() == 0 || m.Graph == nil {
		return errors.New("not an ONNX model (no IR version or no graph), or truncated")
	}
	if len(m.OpsetImport) == 0 {
		return errors.New("no opset_import")
	}
	g := m.Graph
	if len(g.Input) == 0 || len(g.Output) == 0 {
		return errors.New("graph has no inputs or no outputs")
	}
	defined := map[string]bool{"": true}
	for _, v := range g.Input {
		defined[v.GetName()] = true
	}
	for _, t := range g.Initializer {
		if _, err := numericValues(t); err != nil {
			return fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		defined[t.GetName()] = true
	}
	for _, s := range g.SparseInitializer {
		if _, err := sparseValues(s); err != nil {
			return fmt.Errorf("sparse initializer %q: %w", sparseName(s), err)
		}
		defined[sparseName(s)] = true
	}
	for i, n := range g.Node {
		for _, in := range n.Input {
			if !defined[in] {
				return fmt.Errorf("node %d (%s %q) reads %q, which nothing defines before it", i, n.GetOpType(), n.GetName(), in)
			}
		}
		for _, out := range n.Output {
			defined[out] = true
		}
	}
	for _, v := range g.Output {
		if !defined[v.GetName()] {
			return fmt.Errorf("graph output %q is never computed", v.GetName())
		}
	}
	return nil
}

func sparseName(s *onnxpb.SparseTensorProto) string {
	if s.Values == nil {
		return ""
	}
	return s.Values.GetName()
}

func numel(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// numericValues decodes a dense tensor's values as float64 (float, double and integer types).
func numericValues(t *onnxpb.TensorProto) ([]float64, error) {
	n := numel(t.Dims)
	if n < 0 {
		return nil, fmt.Errorf("negative dimension in %v", t.Dims)
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, errors.New("external data is not supported")
	}
	var out []float64
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	raw := t.RawData
	size := map[onnxpb.TensorProto_DataType]int{
		onnxpb.TensorProto_FLOAT: 4, onnxpb.TensorProto_DOUBLE: 8, onnxpb.TensorProto_INT64: 8,
		onnxpb.TensorProto_INT32: 4, onnxpb.TensorProto_UINT8: 1, onnxpb.TensorProto_INT8: 1,
	}[dt]
	if size == 0 {
		return nil, fmt.Errorf("data type %s not supported", dt)
	}
	if raw != nil {
		if int64(len(raw)) != n*int64(size) {
			return nil, fmt.Errorf("%d bytes of raw data for shape %v of %s (want %d)", len(raw), t.Dims, dt, n*int64(size))
		}
		out = make([]float64, n)
		for i := range out {
			p := raw[i*size:]
			switch dt {
			case onnxpb.TensorProto_FLOAT:
				out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
			case onnxpb.TensorProto_DOUBLE:
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
			case onnxpb.TensorProto_INT64:
				out[i] = float64(int64(binary.LittleEndian.Uint64(p)))
			case onnxpb.TensorProto_INT32:
				out[i] = float64(int32(binary.LittleEndian.Uint32(p)))
			case onnxpb.TensorProto_UINT8:
				out[i] = float64(p[0])
			case onnxpb.TensorProto_INT8:
				out[i] = float64(int8(p[0]))
			}
		}
		return out, nil
	}
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		for _, v := range t.FloatData {
			out = append(out, float64(v))
		}
	case onnxpb.TensorProto_DOUBLE:
		out = append(out, t.DoubleData...)
	case onnxpb.TensorProto_INT64:
		for _, v := range t.Int64Data {
			out = append(out, float64(v))
		}
	default:
		for _, v := range t.Int32Data {
			out = append(out, float64(v))
		}
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("%d values for shape %v (want %d)", len(out), t.Dims, n)
	}
	return out, nil
}

// sparseValues densifies a COO sparse tensor (linear [NNZ] or coordinate [NNZ, rank] indices).
func sparseValues(s *onnxpb.SparseTensorProto) ([]float64, error) {
	if s.Values == nil || s.Indices == nil {
		return nil, errors.New("values or indices missing")
	}
	vals, err := numericValues(s.Values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	idx, err := numericValues(s.Indices)
	if err != nil {
		return nil, fmt.Errorf("indices: %w", err)
	}
	n := numel(s.Dims)
	out := make([]float64, n)
	nnz := len(vals)
	rank := len(s.Dims)
	switch {
	case len(s.Indices.Dims) == 1 && len(idx) == nnz:
		for i, v := range vals {
			j := int64(idx[i])
			if j < 0 || j >= n {
				return nil, fmt.Errorf("index %d out of range for shape %v", j, s.Dims)
			}
			out[j] = v
		}
	case len(s.Indices.Dims) == 2 && len(idx) == nnz*rank:
		for i, v := range vals {
			j := int64(0)
			for k := 0; k < rank; k++ {
				c := int64(idx[i*rank+k])
				if c < 0 || c >= s.Dims[k] {
					return nil, fmt.Errorf("coordinate %d out of range for shape %v", c, s.Dims)
				}
				j = j*s.Dims[k] + c
			}
			out[j] = v
		}
	default:
		return nil, fmt.Errorf("indices of shape %v do not fit %d values of shape %v", s.Indices.Dims, nnz, s.Dims)
	}
	return out, nil
}

// Values returns the values of the named dense or sparse initializer, densified, as float64.
func Values(m *onnxpb.ModelProto, name string) ([]float64, []int64, error) {
	for _, t := range m.Graph.Initializer {
		if t.GetName() == name {
			v, err := numericValues(t)
			return v, t.Dims, err
		}
	}
	for _, s := range m.Graph.SparseInitializer {
		if sparseName(s) == name {
			v, err := sparseValues(s)
			return v, s.Dims, err
		}
	}
	return nil, nil, fmt.Errorf("no initializer %q", name)
}

// Shape is a value's shape as the model declares it; nil when unknown.
type Shape []Dim

// String prints [N 3 28 28]; "?" when unknown.
func (s Shape) String() string {
	if s == nil {
		return "?"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// MarshalText writes the String form, so JSON shows "[N 3 28 28]".
func (s Shape) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the String form back.
func (s *Shape) UnmarshalText(b []byte) error {
	str := string(b)
	if str == "?" {
		*s = nil
		return nil
	}
	if !strings.HasPrefix(str, "[") || !strings.HasSuffix(str, "]") {
		return fmt.Errorf("bad shape %q", str)
	}
	out := Shape{}
	for _, f := range strings.Fields(str[1 : len(str)-1]) {
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, Dim{Value: v})
		} else {
			out = append(out, Dim{Param: f})
		}
	}
	*s = out
	return nil
}

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

func shapeOf(v *onnxpb.ValueInfoProto) (string, Shape) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return "", nil
	}
	typ := onnxpb.TensorProto_DataType(tt.GetElemType()).String()
	if tt.Shape == nil {
		return typ, nil
	}
	s := Shape{}
	for _, d := range tt.Shape.Dim {
		if p := d.GetDimParam(); p != "" {
			s = append(s, Dim{Param: p})
		} else {
			s = append(s, Dim{Value: d.GetDimValue()})
		}
	}
	return typ, s
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

func fixedShape(dims []int64) Shape {
	s := Shape{}
	for _, d := range dims {
		s = append(s, Dim{Value: d})
	}
	return s
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
