package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// MaxElements bounds the elements of one tensor the reader materialises (a
// dense initializer, a densified sparse one, a tensor attribute): 2^25 (33.5M),
// fourteen times the largest layer of any model dcwp-go exports (ResNet-18's
// 512x512x3x3 convolutions; the whole network is 11.7M). A sparse initializer
// declares its dense size without holding it, so without a bound a few bytes
// of file could ask for terabytes.
const MaxElements = 1 << 25

// MaxModelElements bounds the elements of all of a model's initializers together (dense
// and densified sparse; 2^26, over five ResNet-18s), so a small file declaring many
// large sparse tensors cannot make reading it take minutes.
const MaxModelElements = 1 << 26

// numel is the element count of dims, checked before each multiplication so a
// hostile shape can neither overflow nor exceed MaxElements.
func numel(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", dims)
		}
		if d > 0 && n > MaxElements/d {
			return 0, fmt.Errorf("shape %v holds more than %d elements, the reader's limit", dims, MaxElements)
		}
		n *= d
	}
	return n, nil
}

// elemSize is the byte size of the raw data of each data type the reader decodes.
var elemSize = map[onnxpb.TensorProto_DataType]int{
	onnxpb.TensorProto_FLOAT: 4, onnxpb.TensorProto_DOUBLE: 8, onnxpb.TensorProto_INT64: 8,
	onnxpb.TensorProto_INT32: 4, onnxpb.TensorProto_UINT8: 1, onnxpb.TensorProto_INT8: 1,
}

// checkNumeric checks that a dense tensor holds as many values as its shape asks, of a type
// the reader decodes, without decoding them (Validate reads every initializer, and
// ResNet-18's as float64 would be 94 MB); it returns the element count.
func checkNumeric(t *onnxpb.TensorProto) (int64, error) {
	n, err := numel(t.Dims)
	if err != nil {
		return 0, err
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return 0, errors.New("external data is not supported")
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	size := elemSize[dt]
	if size == 0 {
		return 0, fmt.Errorf("data type %s not supported", dt)
	}
	if t.RawData != nil {
		if int64(len(t.RawData)) != n*int64(size) {
			return 0, fmt.Errorf("%d bytes of raw data for shape %v of %s (want %d)", len(t.RawData), t.Dims, dt, n*int64(size))
		}
		return n, nil
	}
	var have int
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		have = len(t.FloatData)
	case onnxpb.TensorProto_DOUBLE:
		have = len(t.DoubleData)
	case onnxpb.TensorProto_INT64:
		have = len(t.Int64Data)
	default:
		have = len(t.Int32Data)
	}
	if int64(have) != n {
		return 0, fmt.Errorf("%d values for shape %v (want %d)", have, t.Dims, n)
	}
	return n, nil
}

// numericValues decodes a dense tensor's values as float64 (float, double and integer types).
func numericValues(t *onnxpb.TensorProto) ([]float64, error) {
	n, err := checkNumeric(t)
	if err != nil {
		return nil, err
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	out := make([]float64, n)
	if raw := t.RawData; raw != nil {
		size := elemSize[dt]
		for i := range out {
			out[i] = rawValue(dt, raw[i*size:])
		}
		return out, nil
	}
	for i := range out {
		switch dt {
		case onnxpb.TensorProto_FLOAT:
			out[i] = float64(t.FloatData[i])
		case onnxpb.TensorProto_DOUBLE:
			out[i] = t.DoubleData[i]
		case onnxpb.TensorProto_INT64:
			out[i] = float64(t.Int64Data[i])
		default:
			out[i] = float64(t.Int32Data[i])
		}
	}
	return out, nil
}

// rawValue decodes the little-endian value of type dt at the start of p.
func rawValue(dt onnxpb.TensorProto_DataType, p []byte) float64 {
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
	case onnxpb.TensorProto_DOUBLE:
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
	case onnxpb.TensorProto_INT64:
		return float64(int64(binary.LittleEndian.Uint64(p)))
	case onnxpb.TensorProto_INT32:
		return float64(int32(binary.LittleEndian.Uint32(p)))
	case onnxpb.TensorProto_UINT8:
		return float64(p[0])
	default: // INT8, the last type elemSize admits
		return float64(int8(p[0]))
	}
}

// sparsePositions checks a COO sparse tensor (linear [NNZ] or coordinate [NNZ, rank]
// indices) and returns the linear position of each of its values, without densifying it.
func sparsePositions(s *onnxpb.SparseTensorProto) ([]int64, error) {
	if s.Values == nil || s.Indices == nil {
		return nil, errors.New("values or indices missing")
	}
	nnz64, err := checkNumeric(s.Values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	idx, err := numericValues(s.Indices)
	if err != nil {
		return nil, fmt.Errorf("indices: %w", err)
	}
	n, err := numel(s.Dims)
	if err != nil {
		return nil, err
	}
	nnz, rank := int(nnz64), len(s.Dims)
	pos := make([]int64, nnz)
	switch {
	case len(s.Indices.Dims) == 1 && len(idx) == nnz:
		for i := range pos {
			if pos[i] = int64(idx[i]); pos[i] < 0 || pos[i] >= n {
				return nil, fmt.Errorf("index %d out of range for shape %v", pos[i], s.Dims)
			}
		}
	case len(s.Indices.Dims) == 2 && len(idx) == nnz*rank:
		for i := range pos {
			for k := 0; k < rank; k++ {
				c := int64(idx[i*rank+k])
				if c < 0 || c >= s.Dims[k] {
					return nil, fmt.Errorf("coordinate %d out of range for shape %v", c, s.Dims)
				}
				pos[i] = pos[i]*s.Dims[k] + c
			}
		}
	default:
		return nil, fmt.Errorf("indices of shape %v do not fit %d values of shape %v", s.Indices.Dims, nnz, s.Dims)
	}
	return pos, nil
}

// sparseValues densifies a COO sparse tensor.
func sparseValues(s *onnxpb.SparseTensorProto) ([]float64, error) {
	pos, err := sparsePositions(s)
	if err != nil {
		return nil, err
	}
	vals, err := numericValues(s.Values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	n, _ := numel(s.Dims) // checked by sparsePositions
	out := make([]float64, n)
	for i, v := range vals {
		out[pos[i]] = v
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
