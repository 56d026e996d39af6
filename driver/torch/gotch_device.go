//go:build gotch

package torch

// #include "gotch/dcg.h"
import "C"

import (
	"fmt"
	"sync"
)

// noCUDABuild says why this build cannot reach a GPU and how to get one that can.
func noCUDABuild() string {
	return fmt.Sprintf("the %s engine was built without CUDA (set up for a CPU libtorch %s); gotch on a GPU needs a CUDA libtorch %s: rerun tools/setup-gotch.sh with LIBTORCH naming one and GOTCH_CUDA=1", Engine, Version(), Version())
}

// BuiltWithCUDA reports whether set-up linked the engine against a CUDA libtorch.
func BuiltWithCUDA() bool { return C.dcg_built_with_cuda() != 0 }

// CUDAAvailable reports whether a GPU can be used.
func CUDAAvailable() bool { return BuiltWithCUDA() && C.atc_cuda_is_available() != 0 }

// CUDADeviceCount is the number of visible GPUs.
func CUDADeviceCount() int {
	if !BuiltWithCUDA() {
		return 0
	}
	return int(C.atc_cuda_device_count())
}

// Version is the libtorch version the engine was compiled against.
func Version() string { return C.GoString(C.dcg_torch_version()) }

// TuneMalloc raises glibc's mmap and trim thresholds as the shim's does (see its doc there).
func TuneMalloc() bool { return C.dcg_tune_malloc() != 0 }

// setNumThreads calls libtch's at_set_num_threads, which gotch wraps in no Go function.
func setNumThreads(n int) { C.dcg_set_num_threads(C.int(n)) }

// NumThreads is libtorch's intra-op thread count on the calling OS thread (see Pin).
func NumThreads() int { return int(C.at_get_num_threads()) }

// ManualSeed seeds libtorch's process-wide default generators (all devices).
func ManualSeed(seed uint64) error {
	defaultGen.Lock()
	defer defaultGen.Unlock()
	defaultGen.at = nil
	return check("manual_seed", seedDefault(seed))
}

func seedDefault(seed uint64) *C.char {
	C.at_manual_seed(C.int64_t(seed))
	return C.get_and_reset_last_err()
}

// Synchronize waits for queued GPU work; a no-op without CUDA.
func Synchronize() error {
	if !CUDAAvailable() {
		return nil
	}
	for i := range CUDADeviceCount() {
		C.atc_synchronize(C.int64_t(i))
	}
	return nil
}

// defaultGen serialises the draws from libtorch's process-wide default CPU generator and
// remembers which Generator's state it holds (at; nil: none, or unknown). A Generator's
// draw that finds the default generator elsewhere reseeds it and replays the Generator's
// earlier draws (gotch_factory.go); one that finds it at its own state draws at once.
// It mirrors libtorch's own global generator, the one state libtch gives access to.
var defaultGen struct {
	sync.Mutex
	at *gotchGen
}

// gotchGen is a Generator on an engine without generator objects: libtch exposes only
// the default generator. It is that generator's seed and the draws made from it so far;
// a draw made while the default generator holds another state reseeds it and replays them
// first (gotch_factory.go), so a Generator yields what a fresh CPU generator of that seed
// yields, draw for draw.
type gotchGen struct {
	seed  uint64
	draws []draw
	hold  []C.tensor // inputs of draws, freed by Close
}

// engineGen is the gotch engine's generator handle.
type engineGen = *gotchGen

// NewGenerator returns a generator seeded with seed. Close it when done.
func NewGenerator(seed uint64) (*Generator, error) {
	return &Generator{h: &gotchGen{seed: seed}}, nil
}

// Close frees the generator; it is idempotent.
func (g *Generator) Close() {
	if g != nil && g.h != nil {
		defaultGen.Lock()
		if defaultGen.at == g.h {
			defaultGen.at = nil
		}
		defaultGen.Unlock()
		freeAll(g.h.hold)
		g.h = nil
	}
}

func (g *Generator) handle() *gotchGen {
	if g == nil {
		return nil
	}
	return g.h
}
