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
			for _, c := range []string{filepath.Join(dir, LibRel), filepath.Join(dir, "libonnxruntime.so.1")} {
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
		ErrLib, LibEnv, len(tried), strings.Join(tried[:min(len(tried), 2)], ", "))
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
