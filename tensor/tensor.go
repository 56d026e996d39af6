package tensor

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/nlpodyssey/safetensors"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// Tensor is a named array as stored in a run directory: float32 values or, for masks and
// flags, bytes. Exactly one of F32 and U8 is set.
type Tensor struct {
	Shape []int
	F32   []float32
	U8    []uint8
}

// Numel is the element count the shape implies.
func (t Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// F32 wraps float32 data.
func F32(data []float32, shape ...int) Tensor { return Tensor{Shape: shape, F32: data} }

// U8 wraps byte data.
func U8(data []uint8, shape ...int) Tensor { return Tensor{Shape: shape, U8: data} }

// WriteFile saves tensors in safetensors format (readable by PyTorch's safetensors), atomically.
func WriteFile(path string, tensors map[string]Tensor, meta map[string]string) error {
	views := make(map[string]safetensors.TensorView, len(tensors))
	for name, t := range tensors {
		v, err := t.view()
		if err != nil {
			return fmt.Errorf("write %s: tensor %s: %w", path, name, err)
		}
		views[name] = v
	}
	return atomicfile.Write(path, func(w *bufio.Writer) error {
		return safetensors.SerializeToWriter(views, meta, w)
	})
}

func (t Tensor) view() (safetensors.TensorView, error) {
	shape := make([]uint64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = uint64(d)
	}
	if t.U8 != nil {
		return safetensors.NewTensorView(safetensors.U8, shape, t.U8)
	}
	buf := make([]byte, 4*len(t.F32))
	for i, v := range t.F32 {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return safetensors.NewTensorView(safetensors.F32, shape, buf)
}

// MaxFile bounds a safetensors file read back: the largest the trainer writes, a checkpoint
// of the largest model arch builds with its optimiser state, is a few gigabytes.
const MaxFile = 16 << 30

// ReadFile loads a safetensors file holding F32 and U8 tensors.
func ReadFile(path string) (map[string]Tensor, map[string]string, error) {
	b, err := readlimit.ReadFile(path, MaxFile)
	if err != nil {
		return nil, nil, err
	}
	ts, meta, err := Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, meta, nil
}

// Decode parses safetensors bytes holding F32 and U8 tensors.
func Decode(b []byte) (map[string]Tensor, map[string]string, error) {
	st, err := deserialize(b)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]Tensor, st.Len())
	for _, nt := range st.Tensors() {
		t, err := fromView(nt.TensorView)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %w", nt.Name, err)
		}
		out[nt.Name] = t
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return nil, nil, err
	}
	return out, md.Metadata(), nil
}

// ReadWeights loads start weights a user gives: a PyTorch state_dict saved with safetensors
// (torchvision names). The int64 BatchNorm counters PyTorch saves with the weights
// (num_batches_tracked) are skipped, since no computation reads them.
func ReadWeights(path string) (map[string]Tensor, error) {
	_, st, err := readSafetensors(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Tensor, st.Len())
	for _, nt := range st.Tensors() {
		if nt.TensorView.DType() == safetensors.I64 && strings.HasSuffix(nt.Name, "num_batches_tracked") {
			continue
		}
		if nt.TensorView.DType() != safetensors.F32 {
			return nil, fmt.Errorf("%s: tensor %s is %s; start weights must be float32 (convert with .float() before saving)", path, nt.Name, nt.TensorView.DType())
		}
		if out[nt.Name], err = fromView(nt.TensorView); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %w", path, nt.Name, err)
		}
	}
	return out, nil
}

func readSafetensors(path string) ([]byte, safetensors.SafeTensors, error) {
	b, err := readlimit.ReadFile(path, MaxFile)
	if err != nil {
		return nil, safetensors.SafeTensors{}, err
	}
	st, err := deserialize(b)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", path, err)
	}
	return b, st, nil
}

func deserialize(b []byte) (safetensors.SafeTensors, error) {
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return st, fmt.Errorf("not a valid safetensors file: %w", err)
	}
	return st, nil
}

func fromView(v safetensors.TensorView) (Tensor, error) {
	shape := make([]int, len(v.Shape()))
	for i, d := range v.Shape() {
		shape[i] = int(d)
	}
	data := v.Data()
	switch v.DType() {
	case safetensors.U8:
		return Tensor{Shape: shape, U8: append([]uint8(nil), data...)}, nil
	case safetensors.F32:
		f := make([]float32, len(data)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return Tensor{Shape: shape, F32: f}, nil
	}
	return Tensor{}, fmt.Errorf("dtype %s not supported (want F32 or U8)", v.DType())
}

// SortedNames returns the map's keys in order, for deterministic iteration.
func SortedNames(m map[string]Tensor) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FirstNonFinite is the index of the first NaN or ±Inf in x, or -1.
func FirstNonFinite(x []float32) int {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}
