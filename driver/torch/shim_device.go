//go:build !gotch

package torch

// #include "shim/shim.h"
import "C"

import (
	"fmt"
)

// noCUDABuild says why this build cannot reach a GPU and how to get one that can.
func noCUDABuild() string {
	return fmt.Sprintf("libdcwptorch was built without CUDA (libtorch %s); rebuild it with tools/build-shim.sh against a CUDA libtorch", Version())
}

// BuiltWithCUDA reports whether the shim was linked against a CUDA libtorch.
func BuiltWithCUDA() bool { return C.dt_built_with_cuda() != 0 }

// CUDAAvailable reports whether a GPU can be used.
func CUDAAvailable() bool { return C.dt_cuda_available() != 0 }

// CUDADeviceCount is the number of visible GPUs.
func CUDADeviceCount() int { return int(C.dt_cuda_device_count()) }

// Version is the libtorch version the shim was compiled against.
func Version() string { return C.GoString(C.dt_torch_version()) }

// TuneMalloc raises glibc's mmap and trim thresholds (64 MiB / 256 MiB) so
// tensor memory freed at the end of a step is reused by the next instead of
// being unmapped and faulted in again, which costs more than the math for
// small batches. It is process-wide; the package applies it at init unless
// DCWP_TORCH_NO_MALLOC_TUNING is set. It reports whether glibc accepted it.
func TuneMalloc() bool { return C.dt_tune_malloc() != 0 }

func setNumThreads(n int) { C.dt_set_num_threads(C.int(n)) }

// NumThreads is libtorch's intra-op thread count on the calling OS thread (see Pin).
func NumThreads() int { return int(C.dt_get_num_threads()) }

// ManualSeed seeds libtorch's process-wide default generators (all devices).
func ManualSeed(seed uint64) error {
	return check("manual_seed", C.dt_manual_seed(C.uint64_t(seed)))
}

// Synchronize waits for queued GPU work; a no-op without CUDA.
func Synchronize() error { return check("cuda_synchronize", C.dt_cuda_synchronize()) }

// engineGen is the shim's generator handle.
type engineGen = C.dt_gen

// NewGenerator returns a generator seeded with seed. Close it when done.
func NewGenerator(seed uint64) (*Generator, error) {
	g := &Generator{}
	if err := check("generator", C.dt_gen_new(C.uint64_t(seed), &g.h)); err != nil {
		return nil, err
	}
	return g, nil
}

// Close frees the generator; it is idempotent.
func (g *Generator) Close() {
	if g != nil && g.h != nil {
		C.dt_gen_free(g.h)
		g.h = nil
	}
}

func (g *Generator) handle() C.dt_gen {
	if g == nil {
		return nil
	}
	return g.h
}
