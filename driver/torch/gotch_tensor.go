//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// engineTensor is libtch's tensor handle (a torch::Tensor*). Nothing of gotch's Go tensor
// type is used: it allocates a 100 KB Go-heap ballast, a finalizer and a global map entry
// per tensor.
type engineTensor = C.tensor

// maxDims bounds the dimensions Info reads.
const maxDims = 16

// Close frees the handle; it is idempotent and safe on nil.
func (t *Tensor) Close() {
	if t != nil && t.h != nil {
		C.at_free(t.h)
		t.h = nil
	}
}

// pinned runs f on one OS thread: libtch's error is per thread.
func pinned(op string, f func() *C.char) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(op, f())
}

// Info reads shape, dtype, device and requires-grad in one call.
func (t *Tensor) Info() (Info, error) {
	h, err := t.handle()
	if err != nil {
		return Info{}, err
	}
	var shape [maxDims]C.int64_t
	var nd, dt, dev, rg C.int
	if err := pinned("info", func() *C.char { return C.dcg_info(h, &shape[0], maxDims, &nd, &dt, &dev, &rg) }); err != nil {
		return Info{}, err
	}
	s := make([]int64, int(nd))
	for i := range s {
		s[i] = int64(shape[i])
	}
	return Info{Shape: s, DType: goDType(dt), Device: goDevice(dev), RequiresGrad: rg != 0}, nil
}

func fromData[T any](v []T, dt DType, shape []int64, dev Device) (*Tensor, error) {
	n := len(v)
	if int64(n) != numel(shape) {
		return nil, fmt.Errorf("torch: %d values do not fill shape %v", n, shape)
	}
	if len(shape) > maxDims {
		return nil, fmt.Errorf("torch: shape %v has too many dimensions", shape)
	}
	kind, err := cDType(dt)
	if err != nil {
		return nil, err
	}
	var dummy [8]byte
	data := unsafe.Pointer(&dummy[0])
	if n > 0 {
		data = unsafe.Pointer(&v[0])
	}
	t := &Tensor{}
	err = pinned("from_data", func() *C.char {
		return C.dcg_from_data(data, int64Ptr(shape), C.int(len(shape)), C.size_t(dt.Size()), kind, cDevice(dev), &t.h)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func readInto[T any](t *Tensor, dt DType) ([]T, error) {
	h, err := t.handle()
	if err != nil {
		return nil, err
	}
	kind, err := cDType(dt)
	if err != nil {
		return nil, err
	}
	out := make([]T, t.Numel())
	if len(out) == 0 {
		return out, nil
	}
	err = pinned("read", func() *C.char {
		return C.dcg_read(h, kind, unsafe.Pointer(&out[0]), C.int64_t(len(out)), C.size_t(dt.Size()))
	})
	if err != nil {
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
	return pinned("set_requires_grad", func() *C.char {
		var out [1]C.tensor
		C.atg_requires_grad_(&out[0], h, C.int(b2i(on)))
		freeAll(out[:])
		return C.get_and_reset_last_err()
	})
}

// Grad returns a new caller-owned handle to t's gradient, or nil when none
// has been accumulated. It shares storage with the gradient.
func (t *Tensor) Grad() (*Tensor, error) {
	h, err := t.handle()
	if err != nil {
		return nil, err
	}
	var out [1]C.tensor
	if err := pinned("grad", func() *C.char { C.atg_grad(&out[0], h); return C.get_and_reset_last_err() }); err != nil {
		return nil, err
	}
	if out[0] == nil {
		return nil, nil
	}
	if C.at_defined(out[0]) == 0 {
		C.at_free(out[0])
		return nil, nil
	}
	return &Tensor{h: out[0]}, nil
}

// ZeroGrad drops t's gradient (PyTorch's set_to_none).
func (t *Tensor) ZeroGrad() error {
	h, err := t.handle()
	if err != nil {
		return err
	}
	return pinned("zero_grad", func() *C.char { return C.dcg_zero_grad(h) })
}

func backward(loss *Tensor) error {
	h, err := loss.handle()
	if err != nil {
		return err
	}
	return pinned("backward", func() *C.char {
		C.at_grad_set_enabled(1)
		C.at_backward(h, 0, 0)
		return C.get_and_reset_last_err()
	})
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
	return pinned("copy_", func() *C.char {
		C.at_grad_set_enabled(0)
		C.at_copy_(h, sh)
		return C.get_and_reset_last_err()
	})
}
