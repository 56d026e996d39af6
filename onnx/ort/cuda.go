package ort

import (
	"debug/elf"
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

// cudaPlugins are the files ONNX Runtime loads from the directory of libonnxruntime.so for
// the CUDA provider: the provider itself and the bridge every provider plug-in needs. A CPU
// build (npm's, Debian's) has neither.
var cudaPlugins = []string{"libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"}

// cudaLibSources says where a library the CUDA provider needs comes from, by file-name prefix,
// so that the message naming a missing one says how to get it.
var cudaLibSources = []struct{ prefix, from string }{
	{"libcuda.so", "the NVIDIA driver's library: it comes with the driver, no PyPI wheel has it"},
	{"libcudart.so", "CUDA runtime: PyPI's nvidia-cuda-runtime"},
	{"libcublasLt.so", "cuBLASLt: PyPI's nvidia-cublas"},
	{"libcublas.so", "cuBLAS: PyPI's nvidia-cublas"},
	{"libcurand.so", "cuRAND: PyPI's nvidia-curand"},
	{"libcufft.so", "cuFFT: PyPI's nvidia-cufft"},
	{"libcudnn", "cuDNN: PyPI's nvidia-cudnn-cu<CUDA major>"},
	{"libnvrtc.so", "NVRTC: PyPI's nvidia-cuda-nvrtc"},
}

func libSource(name string) string {
	for _, s := range cudaLibSources {
		if strings.HasPrefix(name, s.prefix) {
			return s.from
		}
	}
	return "a system library"
}

// missingLib is a library a plug-in needs that the dynamic loader cannot load.
type missingLib struct {
	name   string // as the plug-in's NEEDED entry names it
	loader string // the loader's message
}

func (m missingLib) String() string {
	s := fmt.Sprintf("%s (%s)", m.name, libSource(m.name))
	if !strings.HasPrefix(m.loader, m.name+":") {
		s += fmt.Sprintf(" [loader: %s]", m.loader)
	}
	return s
}

// missingNeeded loads each library that the ELF file plugin needs (its NEEDED entries) as the
// provider's own loading will look for it, but first from dir, the directory of
// libonnxruntime.so, where CUDA's libraries may be put beside it; it returns those that do
// not load. Those that load stay loaded, so the provider gets the same ones by their SONAME.
func missingNeeded(plugin, dir string) ([]missingLib, error) {
	f, err := elf.Open(plugin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plugin, err)
	}
	defer f.Close()
	needed, err := f.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("%s: NEEDED entries: %w", plugin, err)
	}
	var miss []missingLib
	for _, name := range needed {
		path := name
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			path = filepath.Join(dir, name)
		}
		if err := dlopen(path); err != nil {
			miss = append(miss, missingLib{name: name, loader: err.Error()})
		}
	}
	return miss, nil
}

// cudaMissing lists what the CUDA provider of the runtime lib lacks on this machine, each
// naming the file or device: the provider plug-ins (a CPU build), the CUDA and driver
// libraries they need, a GPU. None means the provider can be tried.
func cudaMissing(lib string) []string {
	var parts []string
	dir := filepath.Dir(lib)
	for _, p := range cudaPlugins {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			parts = append(parts, fmt.Sprintf("the ONNX Runtime library %s has no CUDA execution provider (%s not found next to it)%s", lib, p, gpuBuildHint(lib)))
			break
		}
	}
	if len(parts) == 0 {
		var miss []string
		for _, p := range cudaPlugins {
			m, err := missingNeeded(filepath.Join(dir, p), dir)
			if err != nil {
				parts = append(parts, fmt.Sprintf("cannot read the CUDA provider's libraries: %v", err))
			}
			for _, l := range m {
				miss = append(miss, l.String())
			}
		}
		if len(miss) > 0 {
			parts = append(parts, fmt.Sprintf("ONNX Runtime's CUDA provider %s cannot load: these libraries it needs are neither in %s nor on the dynamic loader's path (LD_LIBRARY_PATH, /etc/ld.so.cache, the system directories): %s",
				filepath.Join(dir, cudaPlugins[0]), dir, strings.Join(miss, ", ")))
		}
	}
	if gpu, why := GPUPresent(); !gpu {
		parts = append(parts, fmt.Sprintf("no NVIDIA GPU is visible on this machine (%s)", why))
	}
	return parts
}

// gpuBuildHint says where a CUDA build is, or how to get one.
func gpuBuildHint(lib string) string {
	if g := FindGPULib(); g != "" {
		if a, _ := realPath(g); a != "" {
			if b, _ := realPath(lib); a != b {
				return fmt.Sprintf("; a CUDA build of ONNX Runtime is at %s: pass it with --ort-lib", g)
			}
		}
	}
	return "; it is a CPU build: `tools/setup.sh ort-gpu` unpacks the CUDA build of PyPI's onnxruntime-gpu into " + GPULibGlob + ", pass that with --ort-lib"
}

func appendCUDA(so *ortgo.SessionOptions, lib string, device int) error {
	// Check every prerequisite first, so that the message names all that is missing, not
	// only the first the runtime trips over.
	if parts := cudaMissing(lib); len(parts) > 0 {
		return cudaError(lib, parts, nil)
	}
	co, err := ortgo.NewCUDAProviderOptions()
	if err != nil {
		return cudaError(lib, nil, err)
	}
	defer co.Destroy()
	if err := co.Update(map[string]string{"device_id": fmt.Sprint(device)}); err != nil {
		return cudaError(lib, nil, err)
	}
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return cudaError(lib, nil, err)
	}
	return nil
}

// cudaError explains why the CUDA provider cannot be used: the missing pieces (cudaMissing),
// or, when none is, that it failed anyway. runtimeErr is the runtime's own message, if any.
func cudaError(lib string, missing []string, runtimeErr error) error {
	if len(missing) == 0 {
		missing = []string{fmt.Sprintf("ONNX Runtime (%s), the libraries of its CUDA provider and a GPU are all present, but the CUDA provider failed to start", lib)}
	}
	msg := strings.Join(missing, "; and ")
	if runtimeErr != nil {
		msg += fmt.Sprintf(" [runtime said: %v]", runtimeErr)
	}
	return fmt.Errorf("%w: --provider cuda: %s", ErrProvider, msg)
}
