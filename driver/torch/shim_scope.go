//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

// call runs one shim op. Nil entries of in are passed as absent optional
// inputs only where optional allows (bit i for input i).
func (s *Scope) call(name string, op C.int, in []*Tensor, optional uint, ia []int64, da []float64, gen *Generator) *Tensor {
	if s.err != nil {
		return nil
	}
	var buf [maxInputs]engineTensor
	hs, err := inputHandles(name, in, optional, buf[:0])
	if err != nil {
		s.err = err
		return nil
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
