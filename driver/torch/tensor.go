package torch

import (
	"errors"
	"fmt"
)

// ErrClosed is returned when a closed or nil tensor is used.
var ErrClosed = errors.New("torch: use of closed or nil tensor")

// ErrUnsupported is wrapped by the error of a setting the engine refuses (its message names
// the engine and the reason), e.g. bf16 autocast on the gotch engine.
var ErrUnsupported = errors.New("not supported by this engine")

// TorchError is an error raised inside libtorch; Msg is libtorch's text.
type TorchError struct {
	Op  string
	Msg string
}

func (e *TorchError) Error() string { return "torch: " + e.Op + ": " + e.Msg }

// Tensor owns one libtorch tensor handle. Tensors made by package-level
// constructors belong to the caller; those made by a Scope belong to it.
type Tensor struct {
	h     engineTensor // the binding's handle; nil once closed
	owner *Scope
}

// Valid reports whether t holds a live handle.
func (t *Tensor) Valid() bool { return t != nil && t.h != nil }

// handle is t's engine handle, or ErrClosed.
func (t *Tensor) handle() (engineTensor, error) {
	if !t.Valid() {
		return nil, ErrClosed
	}
	return t.h, nil
}

// Info describes a tensor.
type Info struct {
	Shape        []int64
	DType        DType
	Device       Device
	RequiresGrad bool
}

// Shape is the tensor's shape, nil for an invalid tensor.
func (t *Tensor) Shape() []int64 { i, _ := t.Info(); return i.Shape }

// DType is the element type, Other for an invalid tensor.
func (t *Tensor) DType() DType {
	i, err := t.Info()
	if err != nil {
		return Other
	}
	return i.DType
}

// Device is where the tensor lives.
func (t *Tensor) Device() Device { i, _ := t.Info(); return i.Device }

// Numel is the element count.
func (t *Tensor) Numel() int64 { return numel(t.Shape()) }

// RequiresGrad reports the requires-grad flag.
func (t *Tensor) RequiresGrad() bool { i, _ := t.Info(); return i.RequiresGrad }

func (t *Tensor) String() string {
	i, err := t.Info()
	if err != nil {
		return "Tensor(invalid)"
	}
	return fmt.Sprintf("Tensor(%v %v %v)", i.Shape, i.DType, i.Device)
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// FromFloat32 copies data into a new float32 tensor of the given shape.
func FromFloat32(data []float32, shape []int64, dev Device) (*Tensor, error) {
	return fromData(data, Float32, shape, dev)
}

// FromFloat64 copies data into a new float64 tensor.
func FromFloat64(data []float64, shape []int64, dev Device) (*Tensor, error) {
	return fromData(data, Float64, shape, dev)
}

// FromInt64 copies data into a new int64 tensor.
func FromInt64(data []int64, shape []int64, dev Device) (*Tensor, error) {
	return fromData(data, Int64, shape, dev)
}

// FromUint8 copies data into a new uint8 tensor.
func FromUint8(data []uint8, shape []int64, dev Device) (*Tensor, error) {
	return fromData(data, Uint8, shape, dev)
}

// FromBool copies data into a new bool tensor.
func FromBool(data []bool, shape []int64, dev Device) (*Tensor, error) {
	return fromData(data, Bool, shape, dev)
}

// Float32s copies the tensor to the host as float32 (converting if needed).
func (t *Tensor) Float32s() ([]float32, error) { return readInto[float32](t, Float32) }

// Float64s copies the tensor to the host as float64.
func (t *Tensor) Float64s() ([]float64, error) { return readInto[float64](t, Float64) }

// Int64s copies the tensor to the host as int64.
func (t *Tensor) Int64s() ([]int64, error) { return readInto[int64](t, Int64) }

// Bools copies the tensor to the host as bool.
func (t *Tensor) Bools() ([]bool, error) { return readInto[bool](t, Bool) }

// Item reads a one-element tensor as float64.
func (t *Tensor) Item() (float64, error) {
	v, err := t.Float64s()
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("torch: Item on tensor with %d elements", len(v))
	}
	return v[0], nil
}

// Backward accumulates d(loss)/d(leaf) into every leaf requiring grad.
func Backward(loss *Tensor) error { return backward(loss) }

// To returns a new caller-owned handle to t on dev (sharing storage when t
// is already there, like torch's .to), tracked by autograd.
func (t *Tensor) To(dev Device) (*Tensor, error) {
	s := NewScope()
	defer s.Close()
	out := s.Keep(s.To(t, dev))
	return out, s.Err()
}

// Generator is a seeded CPU random generator; results for a seed are the same
// on every device because samples are drawn on the CPU and then moved.
type Generator struct{ h engineGen }
