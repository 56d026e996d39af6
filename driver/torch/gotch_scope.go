//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import "runtime"

// kernel runs one libtch call with the op's input handles, grad mode and output array,
// returning libtch's error.
type kernel func(in []C.tensor, grad C.int, out *C.tensor) *C.char

// call runs one op. Nil entries of in are passed as absent optional inputs (a NULL
// handle, which libtch reads as an undefined tensor) only where optional allows (bit i for
// input i). The goroutine stays on one OS thread for the call: libtorch's grad mode and
// libtch's last error are per thread.
func (s *Scope) call(name string, in []*Tensor, optional uint, k kernel) *Tensor {
	if s.err != nil {
		return nil
	}
	var buf [maxInputs]engineTensor
	hs, err := inputHandles(name, in, optional, buf[:0])
	if err != nil {
		s.err = err
		return nil
	}
	// libtch writes every output of a multi-output op; the ops here use the first.
	if s.autocast && onCUDA(hs) {
		s.err = errUnsupported("bf16 autocast on a GPU ("+name+")", "libtch's autocast is CUDA float16 only, and the engine casts as CPU autocast does")
		return nil
	}
	var out [4]C.tensor
	grad := C.int(0)
	if !s.noGrad {
		grad = 1
	}
	runtime.LockOSThread()
	var casts []C.tensor
	var msg *C.char
	if s.autocast {
		casts, msg = autocast(name, hs, grad)
	}
	if msg == nil {
		msg = k(hs, grad, &out[0])
	}
	freeAll(casts)
	runtime.UnlockOSThread()
	if err := check(name, msg); err != nil {
		s.err = err
		return nil
	}
	for _, o := range out[1:] {
		if o != nil {
			C.at_free(o)
		}
	}
	t := &Tensor{h: out[0], owner: s}
	s.owned = append(s.owned, t)
	return t
}

// castPolicy is what bf16 autocast does to an op's floating-point inputs (float64 excepted).
type castPolicy int

const (
	toBF16    castPolicy = iota + 1 // libtorch's lower-precision list
	toFloat32                       // its float32 list
	toWidest                        // its promote list: the widest floating type among them
)

// autocastOps are the API's ops in libtorch's CPU autocast lists, by the name call gets;
// the others run in their inputs' types, as under autocast. libtch sets CUDA autocast
// only, in float16, so the engine casts as CPU autocast would, with no cast cache.
var autocastOps = map[string]castPolicy{
	"linear": toBF16, "conv2d": toBF16, "matmul": toBF16,
	"cross_entropy": toFloat32, "nll_loss": toFloat32,
	"cat": toWidest, "stack": toWidest,
}

// at::ScalarType's floating types that autocast casts (float64 it leaves alone).
const (
	scalarHalf    = 5
	scalarFloat   = 6
	scalarBF16    = 15
	scalarUnknown = -1
)

// autocast replaces the eligible inputs of op name with casts, tracked by autograd, and
// returns them for the caller to free after the op. It runs on the op's OS thread.
func autocast(name string, hs []C.tensor, grad C.int) ([]C.tensor, *C.char) {
	policy := autocastOps[name]
	if policy == 0 {
		return nil, nil
	}
	eligible := func(h C.tensor) C.int {
		if h == nil {
			return scalarUnknown
		}
		if st := C.at_scalar_type(h); st == scalarHalf || st == scalarFloat || st == scalarBF16 {
			return st
		}
		return scalarUnknown
	}
	target := C.int(scalarBF16)
	switch policy {
	case toFloat32:
		target = scalarFloat
	case toWidest:
		for _, h := range hs {
			if st := eligible(h); st == scalarFloat || (st == scalarHalf && target != scalarFloat) {
				target = st
			}
		}
	}
	var casts []C.tensor
	for i, h := range hs {
		st := eligible(h)
		if st == scalarUnknown || st == target {
			continue
		}
		var c [1]C.tensor
		if msg := lastErr(grad, func() { C.atg_to_dtype(&c[0], h, target, 0, 0) }); msg != nil {
			return casts, msg
		}
		casts = append(casts, c[0])
		hs[i] = c[0]
	}
	return casts, nil
}

func onCUDA(hs []C.tensor) bool {
	for _, h := range hs {
		if h != nil && C.at_device(h) >= 0 {
			return true
		}
	}
	return false
}

// lastErr sets grad mode, runs f and reads libtch's error: the form of a kernel for the
// libtch functions that have no helper of their own.
func lastErr(grad C.int, f func()) *C.char {
	C.at_grad_set_enabled(grad)
	f()
	return C.get_and_reset_last_err()
}

func (s *Scope) unary(name string, f C.dcg_fn1, x *Tensor) *Tensor {
	return s.call(name, []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return C.dcg_call1(f, g, out, h[0])
	})
}

func (s *Scope) binary(name string, f C.dcg_fn2, a, b *Tensor) *Tensor {
	return s.call(name, []*Tensor{a, b}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return C.dcg_call2(f, g, out, h[0], h[1])
	})
}

func (s *Scope) scalar(name string, f C.dcg_fns, x *Tensor, v float64) *Tensor {
	return s.call(name, []*Tensor{x}, 0, func(h []C.tensor, g C.int, out *C.tensor) *C.char {
		return C.dcg_calls(f, g, out, h[0], C.double(v))
	})
}

// composite runs an op made of several libtch calls in a scope of its own, so that its
// intermediate tensors are freed at once; the result moves to s.
func (s *Scope) composite(f func(t *Scope) *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	t := &Scope{noGrad: s.noGrad, autocast: s.autocast}
	defer t.Close()
	out := t.Keep(f(t))
	if t.err != nil {
		s.err = t.err
		return nil
	}
	return s.Own(out)
}

// fail records err (when s has none) and returns nil, for an op's own argument checks.
func (s *Scope) fail(err error) *Tensor {
	s.Fail(err)
	return nil
}
