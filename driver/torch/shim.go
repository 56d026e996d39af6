//go:build !gotch

package torch

/*
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -ldcwptorch -Wl,-rpath,${SRCDIR}/../../build/lib
#include <stdlib.h>
#include "shim/shim.h"
*/
import "C"

import "unsafe"

// Engine names this binding in errors, --version and config.json.
const Engine = "shim"

// bf16ConvGemmWgrad: under bf16 autocast on the CPU, a convolution's weight gradient is
// one GEMM over im2col rows (shim.cpp's GemmWgradConv2d), not oneDNN's.
const bf16ConvGemmWgrad = true

// The shim's values for the API's enumerations. The API's values are its own; these
// tables are the only place that knows shim.h's, so a binding over another engine
// replaces them without touching the API.
var (
	dtypeC = [...]C.int{Float32: C.DT_FLOAT32, Float64: C.DT_FLOAT64, Int64: C.DT_INT64, Bool: C.DT_BOOL,
		Int32: C.DT_INT32, Uint8: C.DT_UINT8, BFloat16: C.DT_BFLOAT16, Other: C.DT_OTHER}
	deviceTypeC   = [...]C.int{CPU: C.DT_CPU, CUDA: C.DT_CUDA}
	memoryFormatC = [...]C.int{Contiguous: C.DT_FORMAT_CONTIGUOUS, ChannelsLast: C.DT_FORMAT_CHANNELS_LAST}
	cmpOpC        = [...]C.int{CmpGT: C.DT_CMP_GT, CmpGE: C.DT_CMP_GE, CmpLT: C.DT_CMP_LT, CmpLE: C.DT_CMP_LE,
		CmpEQ: C.DT_CMP_EQ, CmpNE: C.DT_CMP_NE}
	// shim.cpp reads a loss's reduction as at::Reduction's value.
	reductionC = [...]C.int{ReduceNone: 0, ReduceMean: 1, ReduceSum: 2}
)

// toC is v's entry in table; a value outside it (a DType(42) a caller made up) becomes
// -1, which the shim refuses with an error naming the op.
func toC[E ~int | ~int64](table []C.int, v E) C.int {
	if v < 0 || int64(v) >= int64(len(table)) {
		return -1
	}
	return table[v]
}

// fromC is the API value whose entry in table is c, or def.
func fromC[E ~int | ~int64](table []C.int, c C.int, def E) E {
	for v, x := range table {
		if x == c {
			return E(v)
		}
	}
	return def
}

func cDType(d DType) C.int               { return toC(dtypeC[:], d) }
func goDType(c C.int) DType              { return fromC(dtypeC[:], c, Other) }
func cDeviceType(d DeviceType) C.int     { return toC(deviceTypeC[:], d) }
func goDeviceType(c C.int) DeviceType    { return fromC(deviceTypeC[:], c, CPU) }
func cMemoryFormat(f MemoryFormat) C.int { return toC(memoryFormatC[:], f) }
func cCmpOp(o CmpOp) C.int               { return toC(cmpOpC[:], o) }
func cReduction(r Reduction) C.int       { return toC(reductionC[:], r) }

// check converts a shim error string (which it frees) into a Go error.
func check(op string, msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return &TorchError{Op: op, Msg: C.GoString(msg)}
}

func int64Ptr(v []int64) *C.int64_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&v[0]))
}

func float64Ptr(v []float64) *C.double {
	if len(v) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&v[0]))
}
