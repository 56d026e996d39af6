//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

import "fmt"

// maxInputs bounds the handle array kept on the stack for most ops.
const maxInputs = 8

// call runs one shim op. Nil entries of in are passed as absent optional
// inputs only where optional allows (bit i for input i).
func (s *Scope) call(name string, op C.int, in []*Tensor, optional uint, ia []int64, da []float64, gen *Generator) *Tensor {
	if s.err != nil {
		return nil
	}
	var buf [maxInputs]C.dt_tensor
	hs := buf[:0]
	if len(in) > maxInputs {
		hs = make([]C.dt_tensor, 0, len(in))
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
	var hp *C.dt_tensor
	if len(hs) > 0 {
		hp = &hs[0]
	}
	var flags C.int
	if !s.noGrad {
		flags |= C.DT_FLAG_GRAD
	}
	if s.autocast {
		flags |= C.DT_FLAG_AUTOCAST_BF16
	}
	out := &Tensor{owner: s}
	msg := C.dt_op_flags(op, hp, C.int(len(hs)), int64Ptr(ia), C.int(len(ia)), float64Ptr(da), C.int(len(da)),
		gen.handle(), flags, &out.h)
	if err := check(name, msg); err != nil {
		s.err = err
		return nil
	}
	s.owned = append(s.owned, out)
	return out
}
