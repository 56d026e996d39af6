package torch

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/nlpodyssey/safetensors"
)

// Named tensors are encoded as safetensors (the format of the run directory) from host
// copies, so the bytes do not depend on the device. The engine does no file handling:
// callers write the bytes atomically (atomicfile.Write).

var stDTypes = map[DType]safetensors.DType{Float32: safetensors.F32, Float64: safetensors.F64,
	Int64: safetensors.I64, Int32: safetensors.I32, Bool: safetensors.BOOL, Uint8: safetensors.U8}

func hostBytes(t *Tensor, dt DType) ([]byte, error) {
	var p unsafe.Pointer
	var n int
	switch dt {
	case Float32:
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Float64:
		v, err := t.Float64s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Int64:
		v, err := t.Int64s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Bool:
		v, err := t.Bools()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	default:
		return nil, fmt.Errorf("torch: cannot encode dtype %v", dt)
	}
	if n == 0 {
		return []byte{}, nil
	}
	// Little-endian hosts only (amd64/arm64), like libtorch's own raw dumps.
	return unsafe.Slice((*byte)(p), n*dt.Size()), nil
}

// Encode writes tensors to w as safetensors (names sorted, so equal tensors give equal bytes).
func Encode(w io.Writer, tensors map[string]*Tensor) error {
	views := make(map[string]safetensors.TensorView, len(tensors))
	for name, t := range tensors {
		info, err := t.Info()
		if err != nil {
			return fmt.Errorf("torch: encode %q: %w", name, err)
		}
		b, err := hostBytes(t, info.DType)
		if err != nil {
			return fmt.Errorf("torch: encode %q: %w", name, err)
		}
		if len(info.Shape) == 0 {
			// nlpodyssey/safetensors counts a 0-d tensor as 0 elements and refuses its data.
			return fmt.Errorf("torch: encode %q: 0-d tensors are not supported; reshape to [1]", name)
		}
		shape := make([]uint64, len(info.Shape))
		for i, d := range info.Shape {
			shape[i] = uint64(d)
		}
		if views[name], err = safetensors.NewTensorView(stDTypes[info.DType], shape, b); err != nil {
			return fmt.Errorf("torch: encode %q: %w", name, err)
		}
	}
	return safetensors.SerializeToWriter(views, nil, w)
}

// Decode reads safetensors bytes into caller-owned tensors on dev.
func Decode(b []byte, dev Device) (map[string]*Tensor, error) {
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("torch: decode: %w", err)
	}
	out := map[string]*Tensor{}
	for _, nt := range st.Tensors() {
		t, err := viewTensor(nt.TensorView, dev)
		if err != nil {
			for _, t := range out {
				t.Close()
			}
			return nil, fmt.Errorf("torch: decode tensor %q: %w", nt.Name, err)
		}
		out[nt.Name] = t
	}
	return out, nil
}

func viewTensor(v safetensors.TensorView, dev Device) (*Tensor, error) {
	dt := Other
	for d, s := range stDTypes {
		if s == v.DType() {
			dt = d
		}
	}
	if dt == Other {
		return nil, fmt.Errorf("unsupported dtype %s", v.DType())
	}
	shape := make([]int64, len(v.Shape()))
	for i, d := range v.Shape() {
		shape[i] = int64(d)
	}
	// Copy to an aligned buffer: offsets in the file need not be aligned.
	data := v.Data()
	buf := make([]uint64, (len(data)+7)/8)
	var p unsafe.Pointer
	if len(buf) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(data)), data)
		p = unsafe.Pointer(&buf[0])
	}
	return fromData(p, int(numel(shape)), dt, shape, dev)
}
