// Package torch is dcwp's narrow binding to libtorch: tensors, the ops the
// DCWP trainer needs and autograd, over a small C ABI shim (shim/shim.h)
// built as build/lib/libdcwptorch.so by tools/build-shim.sh. Optimizers are
// Go code over these ops (driver/optim); files are the tensor package's.
//
// # The API and the binding
//
// The package is an API that another engine can implement, and two bindings of it:
//
//   - The API is every file not named shim*.go or gotch*.go (doc.go, dtype.go, device.go,
//     tensor.go, scope.go, ops.go): the types, the enumerations with values of
//     the package's own, the bookkeeping of scopes and the ops composed of
//     other ops. None of them imports "C" or unsafe.
//   - The shim's binding is shim*.go, built unless the tag gotch is given
//     (//go:build !gotch): the cgo calls, the handle types engineTensor and
//     engineGen, the ops that reach a kernel, and the one table per
//     enumeration that maps the API's values to shim.h's (shim.go).
//
// The second binding, gotch*.go (//go:build gotch), implements the same over
// github.com/sugarme/gotch's C layer, libtch, on the libtorch that gotch release binds
// (v0.9.1: 2.1.0), set up by tools/setup-gotch.sh. It calls libtch's C functions
// directly (gotch/dcg.h), never gotch's Go tensor type, which allocates a 100 KB Go
// ballast, a finalizer and a global map entry per tensor and leaks a C.malloc(0) per op.
// Each op sets grad mode and reads libtch's (per-thread) error on one OS thread. Where
// libtch lacks a call it composes libtorch's own ops (clone, channels-last, normalize,
// the STE mask, Adam) and casts as CPU bf16 autocast would; what it cannot do faithfully it
// refuses with an error wrapping ErrUnsupported that names the engine: Adam with weight
// decay, bf16 autocast on a GPU. libtch has
// no generator objects: a Generator there reseeds the default CPU generator and replays
// its earlier draws before each new one (same numbers as a fresh generator of that seed,
// draw for draw), which moves the default generator's sequence.
//
// Each binding provides the two handle types, every exported function and method of
// shim*.go, Engine, and the unexported functions the API and the tests call (fromData,
// readInto, backward, noCUDABuild, setNumThreads). The tests use the API alone, so they are
// every binding's conformance suite; TestAPIFilesHaveNoCgo holds the split.
//
// # Memory
//
// Tensors own libtorch handles that Go's GC cannot see, so nothing is freed
// by finalizers. A Tensor made by a package-level constructor is owned by the
// caller, who calls Close (idempotent). Ops are methods of a Scope; every
// tensor a Scope produces is owned by it and freed by Scope.Close, unless it
// was moved out with Keep:
//
//	s := torch.NewScope()
//	defer s.Close()
//	logits := s.Linear(s.Relu(s.Linear(x, w1, b1)), w2, b2)
//	loss := s.CrossEntropy(logits, y, torch.ReduceMean)
//	if err := s.Err(); err != nil { ... }
//
// Errors are sticky: the first failing op records its error (carrying
// libtorch's message), later ops of the scope do nothing and return nil, and
// every op accepts nil inputs once an error is recorded. Check Err once.
//
// # Grad mode
//
// libtorch's grad mode is per OS thread and goroutines migrate between
// threads, so this package never relies on it: each Scope carries its own
// grad flag that every op passes to the shim explicitly. Scope.NoGrad runs a
// function with the flag off; NewNoGradScope starts with it off.
//
// Correctness never depends on which OS thread runs a call, but speed does:
// a training loop runs pinned to one OS thread with its thread count (Pin).
//
// # Global state
//
// libtorch keeps the default generators (ManualSeed) process-wide; the
// intra-op thread count is per OS thread (Pin says how). The package's only
// process-wide setting of its own is glibc's malloc thresholds, raised at
// init (see TuneMalloc; DCWP_TORCH_NO_MALLOC_TUNING=1 opts out). Use a
// Generator for deterministic sampling: generators are CPU generators, so a
// seed yields the same numbers on every device.
//
// # Devices
//
// ParseDevice accepts "cpu", "cuda" and "cuda:N" and fails with a message
// saying whether the shim lacks CUDA support or no GPU is visible.
package torch
