package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// LibEnv names the environment variable that points at the ONNX Runtime shared library when
// no explicit path is given.
const LibEnv = "DCWP_ORT_LIB"

// LibRel is where tools/setup.sh puts the ONNX Runtime library, relative to the repository root.
const LibRel = "third_party/onnxruntime/libonnxruntime.so.1"

// ErrLib is wrapped (with %w) by every error of FindLib and Init: the ONNX Runtime shared
// library is missing or cannot be loaded.
var ErrLib = errors.New("ONNX Runtime library unavailable")

// FindLib resolves the ONNX Runtime library path: explicit if not empty, else $DCWP_ORT_LIB,
// else third_party/onnxruntime/libonnxruntime.so.1 looked up next to the executable (and its
// parents, so build/bin/dcwp-eval finds the repository's copy) and then upwards from the
// working directory. It returns the first candidate that exists, or an error wrapping ErrLib
// that says where it looked.
func FindLib(explicit string) (string, error) {
	if explicit != "" {
		return checkLib(explicit, "--ort-lib or $"+LibEnv)
	}
	if p := os.Getenv(LibEnv); p != "" {
		return checkLib(p, "$"+LibEnv)
	}
	p, tried := searchUp(LibRel, "libonnxruntime.so.1")
	if p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%w: libonnxruntime.so.1 not found (give --ort-lib or $%s, or run tools/setup.sh; looked in %d places, e.g. %s)",
		ErrLib, LibEnv, len(tried), strings.Join(tried[:min(len(tried), 2)], ", "))
}

// GPULibGlob matches where `tools/setup.sh ort-gpu` puts ONNX Runtime's CUDA build (PyPI's
// onnxruntime-gpu wheel), relative to the repository root; the version is the set-up's.
const GPULibGlob = "third_party/onnxruntime-gpu/*/libonnxruntime.so.1"

// GPULibEnv names the environment variable that points at a CUDA build of ONNX Runtime for
// FindGPULib (the tests and tools/gpu-check.sh use it; dcwp-eval takes --ort-lib).
const GPULibEnv = "DCWP_ORT_GPU_LIB"

// FindGPULib finds a CUDA build of ONNX Runtime: $DCWP_ORT_GPU_LIB, else GPULibGlob looked up
// as FindLib looks up its library (the newest version when several match). It returns "" when
// there is none; it never loads it.
func FindGPULib() string {
	if p := os.Getenv(GPULibEnv); p != "" {
		return p
	}
	p, _ := searchUp(GPULibGlob)
	return p
}

// searchUp looks for the patterns (relative paths, globs allowed) in the executable's
// directory, the working directory and each of their parents, and returns the first regular
// file found (the last match of a glob, which sorts newest for one-digit versions) and
// everywhere it looked.
func searchUp(patterns ...string) (string, []string) {
	var tried, starts []string
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
		for dir := s; ; dir = filepath.Dir(dir) {
			for _, pat := range patterns {
				c := filepath.Join(dir, pat)
				m := []string{c}
				if strings.ContainsAny(pat, "*?[") {
					m, _ = filepath.Glob(c) // a directory name with glob characters matches nothing
				}
				for i := len(m) - 1; i >= 0; i-- {
					if fi, err := os.Stat(m[i]); err == nil && !fi.IsDir() {
						return m[i], nil
					}
				}
				tried = append(tried, c)
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", tried
}

func checkLib(p, from string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s (from %s) does not exist", ErrLib, p, from)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%w: %s (from %s) is a directory, not the libonnxruntime.so file", ErrLib, p, from)
	}
	return p, nil
}

// ONNX Runtime allows one environment per process, loaded from one shared library, so the
// library in use is process-global state. This is the only place in the module that holds it
// (and the only caller of ortgo.InitializeEnvironment); keep it that way.
var (
	envMu   sync.Mutex
	envPath string // library the process environment was initialised with
)

// Init loads the ONNX Runtime library (resolved by FindLib) into the process once. Later calls
// with the same library (or "") are no-ops; a call naming a different library fails with
// ErrLib, since one process holds one runtime. It returns the library path in use.
func Init(lib string) (string, error) {
	envMu.Lock()
	defer envMu.Unlock()
	if ortgo.IsInitialized() {
		if lib != "" {
			if _, err := checkLib(lib, "--ort-lib"); err != nil {
				return "", err
			}
		}
		if envPath == "" {
			// Something outside this package called ortgo.InitializeEnvironment.
			envPath = "(loaded by another package of this process)"
			return envPath, nil
		}
		if lib != "" {
			want, err := realPath(lib)
			have, _ := realPath(envPath)
			if err == nil && want != have {
				return "", fmt.Errorf("%w: %s requested but this process already loaded %s", ErrLib, lib, envPath)
			}
		}
		return envPath, nil
	}
	p, err := FindLib(lib)
	if err != nil {
		return "", err
	}
	ortgo.SetSharedLibraryPath(p)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		return "", fmt.Errorf("%w: cannot load %s: %v", ErrLib, p, err)
	}
	envPath = p
	return p, nil
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
