//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import (
	"fmt"
	"runtime"
)

// maxInputs bounds the handle array kept on the stack for most ops.
const maxInputs = 8

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
	if s.autocast {
		s.err = errUnsupported("bf16 autocast ("+name+")", "libtch sets CUDA autocast only, in float16, and has no custom autograd for the bf16 conv weight gradient")
		return nil
	}
	var buf [maxInputs]C.tensor
	hs := buf[:0]
	if len(in) > maxInputs {
		hs = make([]C.tensor, 0, len(in))
	}
	for i, t := range in {
		if t == nil && i < 32 && optional&(1<<uint(i)) != 0 {
			hs = append(hs, nil)
			continue
		}
		if !t.Valid() {
			s.err = fmt.Errorf("torch: %s: input %d: %w", name, i, ErrClosed)
			return nil
		}
		hs = append(hs, t.h)
	}
	// libtch writes every output of a multi-output op; the ops here use the first.
	var out [4]C.tensor
	grad := C.int(0)
	if !s.noGrad {
		grad = 1
	}
	runtime.LockOSThread()
	msg := k(hs, grad, &out[0])
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
