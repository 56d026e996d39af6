//go:build !gotch

package torch

// #include <stdlib.h>
// #include "shim/shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// engineTensor is the shim's tensor handle.
type engineTensor = C.dt_tensor

// Close frees the handle; it is idempotent and safe on nil.
func (t *Tensor) Close() {
	if t != nil && t.h != nil {
		C.dt_free(t.h)
		t.h = nil
	}
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
	return Info{Shape: s, DType: goDType(dt), Device: Device{goDeviceType(devT), int(devI)}, RequiresGrad: rg != 0}, nil
}

func fromData[T any](v []T, dt DType, shape []int64, dev Device) (*Tensor, error) {
	n := len(v)
	if int64(n) != numel(shape) {
		return nil, fmt.Errorf("torch: %d values do not fill shape %v", n, shape)
	}
	if len(shape) > C.DT_MAX_DIMS {
		return nil, fmt.Errorf("torch: shape %v has too many dimensions", shape)
	}
	data := ptr(v)
	var dummy [8]byte
	if n == 0 {
		data = unsafe.Pointer(&dummy[0])
	}
	t := &Tensor{}
	var sp *C.int64_t
	if len(shape) > 0 {
		sp = int64Ptr(shape)
	}
	err := check("from_data", C.dt_from_data(data, cDType(dt), sp, C.int(len(shape)),
		cDeviceType(dev.Type), C.int(dev.Index), &t.h))
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
	if err := check("read", C.dt_read(h, cDType(dt), p, C.int64_t(len(out)))); err != nil {
		return nil, err
	}
	return out, nil
}

// SetRequiresGrad marks t as a leaf whose gradient autograd accumulates.
func (t *Tensor) SetRequiresGrad(on bool) error {
	h, err := t.handle()
	if err != nil {
		return err
	}
	return check("set_requires_grad", C.dt_set_requires_grad(h, C.int(b2i(on))))
}

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

func backward(loss *Tensor) error {
	h, err := loss.handle()
	if err != nil {
		return err
	}
	const retainGraph = 0
	return check("backward", C.dt_backward(h, retainGraph))
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
