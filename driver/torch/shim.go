package torch

/*
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -ldcwptorch -Wl,-rpath,${SRCDIR}/../../build/lib
#include <stdlib.h>
#include "shim/shim.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// ErrClosed is returned when a closed or nil tensor is used.
var ErrClosed = errors.New("torch: use of closed or nil tensor")

// TorchError is an error raised inside libtorch; Msg is libtorch's text.
type TorchError struct {
	Op  string
	Msg string
}

func (e *TorchError) Error() string { return "torch: " + e.Op + ": " + e.Msg }

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
