//go:build gotch

package torch

/*
#cgo CFLAGS: -I${SRCDIR}/../../build/gotch/include -I${SRCDIR}/../../build/gotch/include/libtch
#include "gotch/dcg.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	// libtch's C++ wrapper, whose C functions the binding calls (its Go API goes unused).
	_ "github.com/sugarme/gotch/libtch"
)

// Engine names this binding in errors, --version and config.json.
const Engine = "gotch"

// bf16ConvGemmWgrad: libtch defines no autograd functions, so a bf16 convolution's weight
// gradient is oneDNN's own (the shim's is one GEMM over im2col rows).
const bf16ConvGemmWgrad = false

// libtch takes at::ScalarType's values for dtypes and -1 for the CPU, N for cuda:N.
var (
	dtypeC = [...]C.int{Float32: 6, Float64: 7, Int64: 4, Bool: 11, Int32: 3, Uint8: 0, BFloat16: 15, Other: -1}
	// the ops' functions for each comparison: against a tensor, against a scalar.
	cmpOpC = [...]struct {
		t C.dcg_fn2
		s C.dcg_fns
	}{
		CmpGT: {C.dcg_fn2(C.atg_gt_tensor), C.dcg_fns(C.atg_gt)},
		CmpGE: {C.dcg_fn2(C.atg_ge_tensor), C.dcg_fns(C.atg_ge)},
		CmpLT: {C.dcg_fn2(C.atg_lt_tensor), C.dcg_fns(C.atg_lt)},
		CmpLE: {C.dcg_fn2(C.atg_le_tensor), C.dcg_fns(C.atg_le)},
		CmpEQ: {C.dcg_fn2(C.atg_eq_tensor), C.dcg_fns(C.atg_eq)},
		CmpNE: {C.dcg_fn2(C.atg_ne_tensor), C.dcg_fns(C.atg_ne)},
	}
	// libtorch's at::Reduction values.
	reductionC = [...]C.int64_t{ReduceNone: 0, ReduceMean: 1, ReduceSum: 2}
)

// errUnsupported is what the gotch engine says for a setting it refuses.
func errUnsupported(what, why string) error {
	return fmt.Errorf("torch: %s is not available on the %s engine (%s): %w", what, Engine, why, ErrUnsupported)
}

// cDType is d's libtch value, or an error for a value outside the API's (libtch would
// read -1 or 42 as a scalar type without a check).
func cDType(d DType) (C.int, error) {
	if d < 0 || int(d) >= len(dtypeC) || dtypeC[d] < 0 {
		return 0, fmt.Errorf("torch: unknown dtype %v (%d)", d, int(d))
	}
	return dtypeC[d], nil
}

func goDType(c C.int) DType {
	for d, x := range dtypeC {
		if x == c {
			return DType(d)
		}
	}
	return Other
}

func cDevice(d Device) C.int {
	if d.Type == CUDA {
		return C.int(d.Index)
	}
	return -1
}

func goDevice(c C.int) Device {
	if c < 0 {
		return CPUDevice
	}
	return Device{Type: CUDA, Index: int(c)}
}

// check converts libtch's error (strdup'ed, freed here) into a Go error. libtorch's
// exceptions carry a C++ backtrace after their message; the message is what callers need.
func check(op string, msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	s := C.GoString(msg)
	if i := strings.Index(s, "\nException raised from"); i >= 0 {
		s = s[:i]
	}
	return &TorchError{Op: op, Msg: strings.TrimSpace(s)}
}

func int64Ptr(v []int64) *C.int64_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&v[0]))
}
