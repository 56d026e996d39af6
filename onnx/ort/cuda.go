package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"
)

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

// cudaProviderLib is the CUDA execution provider plug-in ONNX Runtime loads from the
// directory of libonnxruntime.so.
const cudaProviderLib = "libonnxruntime_providers_cuda.so"

func appendCUDA(so *ortgo.SessionOptions, lib string, device int) error {
	// Check the two prerequisites first so the message is the same whichever the runtime
	// would trip over first.
	gpu, _ := GPUPresent()
	_, perr := os.Stat(filepath.Join(filepath.Dir(lib), cudaProviderLib))
	if !gpu || perr != nil {
		return cudaError(lib, nil)
	}
	co, err := ortgo.NewCUDAProviderOptions()
	if err != nil {
		return cudaError(lib, err)
	}
	defer co.Destroy()
	if err := co.Update(map[string]string{"device_id": fmt.Sprint(device)}); err != nil {
		return cudaError(lib, err)
	}
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return cudaError(lib, err)
	}
	return nil
}

// cudaError explains why the CUDA provider cannot be used, naming which of the two
// prerequisites is missing: a CUDA-enabled ONNX Runtime build, or a GPU. appendErr is the
// runtime's own message, if any.
func cudaError(lib string, appendErr error) error {
	gpu, gpuWhy := GPUPresent()
	plugin := filepath.Join(filepath.Dir(lib), cudaProviderLib)
	_, perr := os.Stat(plugin)
	var parts []string
	if perr != nil {
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
