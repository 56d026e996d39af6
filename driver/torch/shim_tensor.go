package torch

// #include <stdlib.h>
// #include "shim/shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// DType is a tensor element type.
type DType int

const (
	Float32 DType = C.DT_FLOAT32
	Float64 DType = C.DT_FLOAT64
	Int64   DType = C.DT_INT64
	Bool    DType = C.DT_BOOL
	Int32   DType = C.DT_INT32
	Uint8   DType = C.DT_UINT8
	// BFloat16 is what bf16 autocast computes in; host copies read it as float32.
	BFloat16 DType = C.DT_BFLOAT16
	Other    DType = C.DT_OTHER
)

var dtypeNames = map[DType]string{Float32: "float32", Float64: "float64", Int64: "int64",
	Bool: "bool", Int32: "int32", Uint8: "uint8", BFloat16: "bfloat16", Other: "other"}

func (d DType) String() string { return dtypeNames[d] }

// Size is the element size in bytes.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case BFloat16:
		return 2
	}
	return 1
}

// Tensor owns one libtorch tensor handle. Tensors made by package-level
// constructors belong to the caller; those made by a Scope belong to it.
type Tensor struct {
	h     C.dt_tensor
	owner *Scope
}

// Close frees the handle; it is idempotent and safe on nil.
func (t *Tensor) Close() {
	if t != nil && t.h != nil {
		C.dt_free(t.h)
		t.h = nil
	}
}

// Valid reports whether t holds a live handle.
func (t *Tensor) Valid() bool { return t != nil && t.h != nil }

func (t *Tensor) handle() (C.dt_tensor, error) {
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

// Info reads shape, dtype, device and requires-grad in one call.
func (t *Tensor) Info() (Info, error) {
	h, err := t.handle()
	if err != nil {
		return Info{}, err
	}
	var shape [C.DT_MAX_DIMS]C.int64_t
	var nd, dt, devT, devI, rg C.int
	if err := check("info", C.dt_info(h, &shape[0], &nd, &dt, &devT, &devI, &rg)); err != nil {
		return Info{}, err
	}
	s := make([]int64, int(nd))
	for i := range s {
		s[i] = int64(shape[i])
	}
	return Info{Shape: s, DType: DType(dt), Device: Device{DeviceType(devT), int(devI)}, RequiresGrad: rg != 0}, nil
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

func fromData(data unsafe.Pointer, n int, dt DType, shape []int64, dev Device) (*Tensor, error) {
	if int64(n) != numel(shape) {
		return nil, fmt.Errorf("torch: %d values do not fill shape %v", n, shape)
	}
	if len(shape) > C.DT_MAX_DIMS {
		return nil, fmt.Errorf("torch: shape %v has too many dimensions", shape)
	}
	var dummy [8]byte
	if n == 0 {
		data = unsafe.Pointer(&dummy[0])
	}
	t := &Tensor{}
	var sp *C.int64_t
	if len(shape) > 0 {
		sp = int64Ptr(shape)
	}
	err := check("from_data", C.dt_from_data(data, C.int(dt), sp, C.int(len(shape)),
		C.int(dev.Type), C.int(dev.Index), &t.h))
	if err != nil {
		return nil, err
	}
	return t, nil
}

func ptr[T any](v []T) unsafe.Pointer {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Pointer(&v[0])
}

// FromFloat32 copies data into a new float32 tensor of the given shape.
func FromFloat32(data []float32, shape []int64, dev Device) (*Tensor, error) {
	return fromData(ptr(data), len(data), Float32, shape, dev)
}

// FromFloat64 copies data into a new float64 tensor.
func FromFloat64(data []float64, shape []int64, dev Device) (*Tensor, error) {
	return fromData(ptr(data), len(data), Float64, shape, dev)
}

// FromInt64 copies data into a new int64 tensor.
func FromInt64(data []int64, shape []int64, dev Device) (*Tensor, error) {
	return fromData(ptr(data), len(data), Int64, shape, dev)
}

// FromUint8 copies data into a new uint8 tensor.
func FromUint8(data []uint8, shape []int64, dev Device) (*Tensor, error) {
	return fromData(ptr(data), len(data), Uint8, shape, dev)
}

// FromBool copies data into a new bool tensor.
func FromBool(data []bool, shape []int64, dev Device) (*Tensor, error) {
	return fromData(ptr(data), len(data), Bool, shape, dev)
}

func readInto[T any](t *Tensor, dt DType) ([]T, error) {
	h, err := t.handle()
	if err != nil {
		return nil, err
	}
	out := make([]T, t.Numel())
	var dummy [8]byte
	p := ptr(out)
	if p == nil {
		p = unsafe.Pointer(&dummy[0])
	}
	if err := check("read", C.dt_read(h, C.int(dt), p, C.int64_t(len(out)))); err != nil {
		return nil, err
	}
	return out, nil
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

// SetRequiresGrad marks t as a leaf whose gradient autograd accumulates.
func (t *Tensor) SetRequiresGrad(on bool) error {
	h, err := t.handle()
	if err != nil {
		return err
	}
	return check("set_requires_grad", C.dt_set_requires_grad(h, C.int(b2i(on))))
}

// RequiresGrad reports the requires-grad flag.
func (t *Tensor) RequiresGrad() bool { i, _ := t.Info(); return i.RequiresGrad }

// Grad returns a new caller-owned handle to t's gradient, or nil when none
// has been accumulated. It shares storage with the gradient.
func (t *Tensor) Grad() (*Tensor, error) {
	h, err := t.handle()
	if err != nil {
		return nil, err
	}
	g := &Tensor{}
	if err := check("grad", C.dt_grad(h, &g.h)); err != nil {
		return nil, err
	}
	if g.h == nil {
		return nil, nil
	}
	return g, nil
}

// ZeroGrad drops t's gradient (PyTorch's set_to_none).
func (t *Tensor) ZeroGrad() error {
	h, err := t.handle()
	if err != nil {
		return err
	}
	return check("zero_grad", C.dt_zero_grad(h))
}

// Backward accumulates d(loss)/d(leaf) into every leaf requiring grad.
func Backward(loss *Tensor) error { return backward(loss, false) }

// BackwardRetain is Backward keeping the graph for another backward pass.
func BackwardRetain(loss *Tensor) error { return backward(loss, true) }

func backward(loss *Tensor, retain bool) error {
	h, err := loss.handle()
	if err != nil {
		return err
	}
	return check("backward", C.dt_backward(h, C.int(b2i(retain))))
}

// CopyFrom overwrites t's values with src's in place, outside autograd
// (src is broadcast and converted to t's dtype and device).
func (t *Tensor) CopyFrom(src *Tensor) error {
	h, err := t.handle()
	if err != nil {
		return err
	}
	sh, err := src.handle()
	if err != nil {
		return err
	}
	return check("copy_", C.dt_copy_(h, sh))
}

// To returns a new caller-owned handle to t on dev (sharing storage when t
// is already there, like torch's .to), tracked by autograd.
func (t *Tensor) To(dev Device) (*Tensor, error) {
	s := NewScope()
	defer s.Close()
	out := s.Keep(s.To(t, dev))
	return out, s.Err()
}
