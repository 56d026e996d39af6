package exporter

import (
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// checkFinite refuses a network with a NaN or infinite parameter, masked out or not: a
// file holding one is the trace of a diverged run or a damaged file, and an export of it
// would score like a constant classifier instead of failing.
func checkFinite(net *rundir.Network) error {
	for _, name := range tensor.SortedNames(net.Params) {
		w := net.Params[name].F32
		if i := tensor.FirstNonFinite(w); i >= 0 {
			return fmt.Errorf("%s: tensor %q holds %v at index %d: refusing to export non-finite weights (did training diverge?)",
				source(net), name, w[i], i)
		}
	}
	return nil
}

// checkFiniteLayers refuses layers whose folded weights are not finite in float32: finite
// inputs can still fold to NaN or Inf (a negative running variance, a huge BatchNorm scale).
func checkFiniteLayers(net *rundir.Network, ls []*layer) error {
	for _, l := range ls {
		for _, vs := range [][]float64{l.w, l.b} {
			for i, v := range vs {
				if f := float64(float32(v)); math.IsNaN(f) || math.IsInf(f, 0) {
					return fmt.Errorf("%s: layer %s folds to %v at index %d (its BatchNorm statistics are out of range): refusing to export non-finite weights",
						source(net), l.name(), f, i)
				}
			}
		}
	}
	return nil
}

func source(net *rundir.Network) string {
	if net.File != "" {
		return net.File
	}
	return net.Arch.Name + " network"
}
