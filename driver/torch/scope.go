package torch

import "fmt"

// Scope owns the tensors its ops produce and records the first error.
// A Scope is not safe for concurrent use.
type Scope struct {
	owned    []*Tensor
	err      error
	noGrad   bool
	autocast bool
}

// NewScope returns an empty scope with grad recording on.
func NewScope() *Scope { return &Scope{} }

// NewNoGradScope returns a scope whose ops never record autograd graph.
func NewNoGradScope() *Scope { return &Scope{noGrad: true} }

// Err is the first error recorded by the scope's ops, or nil.
func (s *Scope) Err() error { return s.err }

// Fail records err as the scope's error unless one is already recorded;
// callers use it to route their own failures through the same check.
func (s *Scope) Fail(err error) {
	if s.err == nil && err != nil {
		s.err = err
	}
}

// Close frees every tensor still owned by the scope; it is idempotent.
func (s *Scope) Close() {
	for _, t := range s.owned {
		if t.owner == s {
			t.Close()
		}
	}
	s.owned = nil
}

// Keep moves t out of the scope: the caller now owns it and must Close it.
func (s *Scope) Keep(t *Tensor) *Tensor {
	if t != nil && t.owner == s {
		t.owner = nil
	}
	return t
}

// Own hands a caller-owned tensor to the scope, which frees it on Close.
func (s *Scope) Own(t *Tensor) *Tensor {
	if t != nil && t.owner == nil {
		t.owner = s
		s.owned = append(s.owned, t)
	}
	return t
}

// GradEnabled reports whether the scope's ops record autograd graph.
func (s *Scope) GradEnabled() bool { return !s.noGrad }

// NoGrad runs f with the scope's grad recording off, restoring it after.
// Because the flag lives in the scope and travels with every call, this is
// correct whichever OS threads the goroutine runs on.
func (s *Scope) NoGrad(f func() error) error {
	prev := s.noGrad
	s.noGrad = true
	defer func() { s.noGrad = prev }()
	return f()
}

// AutocastBF16 runs f with the scope's ops under bf16 autocast (CPU and CUDA): convolutions
// and matrix products compute in bfloat16, the ops PyTorch keeps in float32 stay there, and
// the rest run in their inputs' types. Like the grad flag it travels with every call, and
// each call casts afresh (no cast cache), so weights updated in place are never seen stale.
func (s *Scope) AutocastBF16(f func()) {
	prev := s.autocast
	s.autocast = true
	defer func() { s.autocast = prev }()
	f()
}

// adopt records a constructor's result in the scope.
func (s *Scope) adopt(t *Tensor, err error) *Tensor {
	if s.err != nil {
		t.Close()
		return nil
	}
	if err != nil {
		s.err = err
		return nil
	}
	return s.Own(t)
}

// fromHost builds a scope-owned tensor with one of the package-level
// constructors, or nothing once the scope has failed.
func fromHost[T any](s *Scope, from func([]T, []int64, Device) (*Tensor, error), data []T, shape []int64, dev Device) *Tensor {
	if s.err != nil {
		return nil
	}
	return s.adopt(from(data, shape, dev))
}

// FromFloat32 is the scope-owned form of the package-level constructor.
func (s *Scope) FromFloat32(data []float32, shape []int64, dev Device) *Tensor {
	return fromHost(s, FromFloat32, data, shape, dev)
}

// FromFloat64 is the scope-owned form of the package-level constructor.
func (s *Scope) FromFloat64(data []float64, shape []int64, dev Device) *Tensor {
	return fromHost(s, FromFloat64, data, shape, dev)
}

// FromInt64 is the scope-owned form of the package-level constructor.
func (s *Scope) FromInt64(data []int64, shape []int64, dev Device) *Tensor {
	return fromHost(s, FromInt64, data, shape, dev)
}

// FromUint8 is the scope-owned form of the package-level constructor.
func (s *Scope) FromUint8(data []uint8, shape []int64, dev Device) *Tensor {
	return fromHost(s, FromUint8, data, shape, dev)
}

// FromBool is the scope-owned form of the package-level constructor.
func (s *Scope) FromBool(data []bool, shape []int64, dev Device) *Tensor {
	return fromHost(s, FromBool, data, shape, dev)
}

// Grad returns a scope-owned handle to t's gradient (nil when none, without
// recording an error).
func (s *Scope) Grad(t *Tensor) *Tensor {
	if s.err != nil {
		return nil
	}
	g, err := t.Grad()
	if err != nil {
		s.err = err
		return nil
	}
	return s.Own(g)
}

// Backward runs loss.backward() unless the scope has already failed.
func (s *Scope) Backward(loss *Tensor) {
	if s.err == nil {
		s.Fail(Backward(loss))
	}
}

// readHost reads a tensor to the host with read, recording any error in the scope; a
// failed scope reads nothing.
func readHost[T any](s *Scope, read func() (T, error)) T {
	var v T
	if s.err != nil {
		return v
	}
	v, err := read()
	s.Fail(err)
	return v
}

// Float32s reads t to the host, recording any error in the scope.
func (s *Scope) Float32s(t *Tensor) []float32 { return readHost(s, t.Float32s) }

// Int64s reads t to the host, recording any error in the scope.
func (s *Scope) Int64s(t *Tensor) []int64 { return readHost(s, t.Int64s) }

// Item reads a one-element t, recording any error in the scope.
func (s *Scope) Item(t *Tensor) float64 { return readHost(s, t.Item) }

// maxInputs bounds the handle array an op keeps on the stack for most ops.
const maxInputs = 8

// inputHandles appends to hs the engine handles of an op's inputs: a nil input is passed as
// absent (a nil handle) only where optional allows (bit i for input i); any other nil or
// closed input is an error naming the op and the input.
func inputHandles(name string, in []*Tensor, optional uint, hs []engineTensor) ([]engineTensor, error) {
	for i, t := range in {
		if t == nil && i < 32 && optional&(1<<uint(i)) != 0 {
			hs = append(hs, nil)
			continue
		}
		if !t.Valid() {
			return nil, fmt.Errorf("torch: %s: input %d: %w", name, i, ErrClosed)
		}
		hs = append(hs, t.h)
	}
	return hs, nil
}
