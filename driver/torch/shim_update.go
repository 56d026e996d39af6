//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

// AdamUpdate updates p and its moments m and v in place from the gradient g, outside
// autograd, with torch.optim.Adam's arithmetic; the caller owns the state (driver/optim).
// One call instead of a dozen ops: each op would allocate a parameter-sized tensor.
func AdamUpdate(p, g, m, v *Tensor, a AdamStep) error {
	var hs [4]C.dt_tensor
	for i, t := range []*Tensor{p, g, m, v} {
		h, err := t.handle()
		if err != nil {
			return err
		}
		hs[i] = h
	}
	return check("adam_update", C.dt_adam_update(hs[0], hs[1], hs[2], hs[3], C.double(a.LR), C.double(a.Beta1),
		C.double(a.Beta2), C.double(a.Eps), C.double(a.WeightDecay), C.int64_t(a.Step)))
}
