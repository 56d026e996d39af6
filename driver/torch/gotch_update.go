//go:build gotch

package torch

// #cgo LDFLAGS: -lm
// #include "gotch/dcg.h"
import "C"

// AdamUpdate updates p and its moments m and v in place from the gradient g, outside
// autograd, with torch.optim.Adam's arithmetic on libtorch 2.x (exp_avg.lerp_); the caller
// owns the state (driver/optim). Weight decay is refused: torch.optim adds it as
// grad.add(param, alpha=wd), one fused multiply-add that no libtch op reproduces.
func AdamUpdate(p, g, m, v *Tensor, a AdamStep) error {
	if a.WeightDecay != 0 {
		return errUnsupported("Adam with weight decay", "libtch's add takes no alpha, so grad + wd·param would round differently from torch.optim.Adam")
	}
	var hs [4]C.tensor
	for i, t := range []*Tensor{p, g, m, v} {
		h, err := t.handle()
		if err != nil {
			return err
		}
		hs[i] = h
	}
	// Python's float arithmetic, as torch.optim.Adam computes it: beta**step is C's pow.
	step := C.double(a.Step)
	bc1 := 1 - C.pow(C.double(a.Beta1), step)
	bc2 := 1 - C.pow(C.double(a.Beta2), step)
	stepSize := C.double(a.LR) / bc1
	return pinned("adam_update", func() *C.char {
		return C.dcg_adam(hs[0], hs[1], hs[2], hs[3], C.double(a.Beta1), C.double(a.Beta2), C.double(a.Eps), stepSize, C.sqrt(bc2))
	})
}
