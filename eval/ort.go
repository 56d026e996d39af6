package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcwp-go/dcwp/onnx/ort"
	ortgo "github.com/yalue/onnxruntime_go"
)

// Execution providers accepted by OpenSession.
const (
	ProviderCPU  = "cpu"
	ProviderCUDA = "cuda"
)

// EnvORTLib names the environment variable that points at the ONNX Runtime
// shared library when no explicit path is given (see ortgo.FindLib).
const EnvORTLib = ort.LibEnv

// ORTLibRel is where tools/setup.sh puts the ONNX Runtime library, relative
// to the repository root.
const ORTLibRel = ort.LibRel

// Errors wrapped (with %w) by this package, for errors.Is.
var (
	// ErrORTLib: the ONNX Runtime shared library is missing or cannot be loaded.
	// It is ortgo.ErrLib, which the loader in onnx/ort wraps.
	ErrORTLib = ort.ErrLib
	// ErrModel: the model file is missing, truncated, not ONNX, or not a classifier.
	ErrModel = errors.New("bad model")
	// ErrShape: the model's input or output does not fit the dataset.
	ErrShape = errors.New("model does not fit the dataset")
	// ErrProvider: the requested execution provider cannot be used here.
	ErrProvider = errors.New("execution provider unavailable")
	// ErrData: the data folder or split is missing or unreadable.
	ErrData = errors.New("data unavailable")
	// ErrUsage: bad options (batch sizes, tolerances, provider names).
	ErrUsage = errors.New("bad options")
)

// ORTVersion is the version string of the loaded runtime ("" before the runtime is loaded).
func ORTVersion() string {
	if !ortgo.IsInitialized() {
		return ""
	}
	return ortgo.GetVersion()
}

// GPUPresent reports whether an NVIDIA GPU driver is visible on this machine
// (/dev/nvidia0 or /proc/driver/nvidia), with what was found.
func GPUPresent() (bool, string) {
	for _, p := range []string{"/dev/nvidia0", "/proc/driver/nvidia/gpus"} {
		if _, err := os.Stat(p); err == nil {
			return true, p
		}
	}
	return false, "neither /dev/nvidia0 nor /proc/driver/nvidia/gpus exists"
}

// cudaProviderLib is the CUDA execution provider plug-in ONNX Runtime loads
// from the directory of libonnxruntime.so.
const cudaProviderLib = "libonnxruntime_providers_cuda.so"

// cudaError explains why the CUDA provider cannot be used, naming which of
// the two prerequisites is missing: a CUDA-enabled ONNX Runtime build, or a
// GPU. appendErr is the runtime's own message, if any.
func cudaError(lib string, appendErr error) error {
	gpu, gpuWhy := GPUPresent()
	plugin := filepath.Join(filepath.Dir(lib), cudaProviderLib)
	_, perr := os.Stat(plugin)
	hasPlugin := perr == nil
	var parts []string
	if !hasPlugin {
		parts = append(parts, fmt.Sprintf("the ONNX Runtime library %s has no CUDA execution provider (%s not found next to it; install a GPU build of ONNX Runtime and pass it with --ort-lib)", lib, cudaProviderLib))
	}
	if !gpu {
		parts = append(parts, fmt.Sprintf("no NVIDIA GPU is visible on this machine (%s)", gpuWhy))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("ONNX Runtime (%s) and a GPU are both present, but the CUDA provider failed to start (check the CUDA/cuDNN libraries)", lib))
	}
	msg := strings.Join(parts, "; and ")
	if appendErr != nil {
		msg += fmt.Sprintf(" [runtime said: %v]", appendErr)
	}
	return fmt.Errorf("%w: --provider cuda: %s", ErrProvider, msg)
}
