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

// numericValues decodes a dense tensor's values as float64 (float, double and integer types).
func numericValues(t *onnxpb.TensorProto) ([]float64, error) {
	n, err := numel(t.Dims)
	if err != nil {
		return nil, err
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
	n, err := numel(s.Dims)
	if err != nil {
		return nil, err
	}
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
