package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Execution providers accepted by OpenSession.
const (
	ProviderCPU  = "cpu"
	ProviderCUDA = "cuda"
)

// EnvORTLib names the environment variable that points at the ONNX Runtime
// shared library when no explicit path is given.
const EnvORTLib = "DCWP_ORT_LIB"

// ORTLibRel is where tools/setup.sh puts the ONNX Runtime library, relative
// to the repository root.
const ORTLibRel = "third_party/onnxruntime/libonnxruntime.so.1"

// Errors wrapped (with %w) by this package, for errors.Is.
var (
	// ErrORTLib: the ONNX Runtime shared library is missing or cannot be loaded.
	ErrORTLib = errors.New("ONNX Runtime library unavailable")
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

var (
	envMu   sync.Mutex
	envPath string // library the process environment was initialised with
)

// FindORTLib resolves the ONNX Runtime library path: explicit if not empty,
// else $DCWP_ORT_LIB, else third_party/onnxruntime/libonnxruntime.so.1 looked
// up next to the executable (and its parents, so build/bin/dcwp-eval finds the
// repository's copy) and then upwards from the working directory. It returns
// the first candidate that exists, or an error listing where it looked.
func FindORTLib(explicit string) (string, error) {
	if explicit != "" {
		return checkLib(explicit, "--ort-lib or $"+EnvORTLib)
	}
	if p := os.Getenv(EnvORTLib); p != "" {
		return checkLib(p, "$"+EnvORTLib)
	}
	var tried []string
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, s := range starts {
		dir := s
		for {
			for _, c := range []string{filepath.Join(dir, ORTLibRel), filepath.Join(dir, "libonnxruntime.so.1")} {
				if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
					return c, nil
				}
				tried = append(tried, c)
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return "", fmt.Errorf("%w: libonnxruntime.so.1 not found (give --ort-lib or $%s, or run tools/setup.sh; looked in %d places, e.g. %s)",
		ErrORTLib, EnvORTLib, len(tried), strings.Join(first(tried, 2), ", "))
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func checkLib(p, from string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s (from %s) does not exist", ErrORTLib, p, from)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%w: %s (from %s) is a directory, not the libonnxruntime.so file", ErrORTLib, p, from)
	}
	return p, nil
}

// InitORT loads the ONNX Runtime library (resolved by FindORTLib) into the
// process once. Later calls with the same library (or "") are no-ops; a call
// naming a different library fails, since one process holds one runtime.
// It returns the library path in use.
func InitORT(lib string) (string, error) {
	envMu.Lock()
	defer envMu.Unlock()
	if ort.IsInitialized() {
		if lib != "" {
			if _, err := checkLib(lib, "--ort-lib"); err != nil {
				return "", err
			}
		}
		if envPath == "" {
			// Another package of this process (e.g. onnx/ort) loaded the runtime.
			envPath = "(loaded by another package of this process)"
			return envPath, nil
		}
		if lib != "" {
			want, err := realPath(lib)
			have, _ := realPath(envPath)
			if err == nil && want != have {
				return "", fmt.Errorf("%w: %s requested but this process already loaded %s", ErrORTLib, lib, envPath)
			}
		}
		return envPath, nil
	}
	p, err := FindORTLib(lib)
	if err != nil {
		return "", err
	}
	ort.SetSharedLibraryPath(p)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", fmt.Errorf("%w: cannot load %s: %v", ErrORTLib, p, err)
	}
	envPath = p
	return p, nil
}

// ORTVersion is the version string of the loaded runtime ("" before InitORT).
func ORTVersion() string {
	if !ort.IsInitialized() {
		return ""
	}
	return ort.GetVersion()
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

func realPath(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(a); err == nil {
		return r, nil
	}
	return a, nil
}
