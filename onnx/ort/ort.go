// Package ort runs exported models in ONNX Runtime (github.com/yalue/onnxruntime_go) for
// tests, benchmarks and evaluation: one float32 input, one float32 output, dynamic batch.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// LibEnv names the environment variable that overrides the shared library path.
const LibEnv = "DCWP_ORT_LIB"

// LibPath finds libonnxruntime.so.1: $DCWP_ORT_LIB, else third_party/onnxruntime/ in the
// current directory or the nearest parent holding go.mod.
func LibPath() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "third_party", "onnxruntime", "libonnxruntime.so.1")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("ONNX Runtime library not found: set %s or run tools/setup.sh (third_party/onnxruntime/libonnxruntime.so.1)", LibEnv)
		}
		dir = parent
	}
}

var (
	initOnce sync.Once
	initErr  error
)

// Init loads the ONNX Runtime library once per process (later calls return the first result).
func Init() error {
	initOnce.Do(func() {
		if ortgo.IsInitialized() { // eval.InitORT may have loaded it in this process already
			return
		}
		var p string
		if p, initErr = LibPath(); initErr != nil {
			return
		}
		ortgo.SetSharedLibraryPath(p)
		if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("ONNX Runtime %s: %w", p, err)
		}
	})
	return initErr
}

// Session is one loaded model.
type Session struct {
	s       *ortgo.DynamicAdvancedSession
	in, out string
}

// New loads a serialised model. threads > 0 fixes intra-op threads (1 for stable timings).
func New(model []byte, input, output string, threads int) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, err
		}
		if err := opts.SetInterOpNumThreads(1); err != nil {
			return nil, err
		}
	}
	s, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, []string{output}, opts)
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime could not load the model: %w", err)
	}
	return &Session{s: s, in: input, out: output}, nil
}

// Run feeds x of the given shape and returns the output values and shape.
func (s *Session) Run(x []float32, shape ...int64) ([]float32, []int64, error) {
	in, err := ortgo.NewTensor(ortgo.NewShape(shape...), x)
	if err != nil {
		return nil, nil, err
	}
	defer in.Destroy()
	outs := []ortgo.Value{nil}
	if err := s.s.Run([]ortgo.Value{in}, outs); err != nil {
		return nil, nil, err
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ortgo.Tensor[float32])
	if !ok {
		return nil, nil, errors.New("output is not a float32 tensor")
	}
	return append([]float32(nil), t.GetData()...), t.GetShape(), nil
}

// Close frees the session.
func (s *Session) Close() error { return s.s.Destroy() }
