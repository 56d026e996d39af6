// Package ort owns loading ONNX Runtime (github.com/yalue/onnxruntime_go) into the process —
// finding the shared library (FindLib) and initialising the runtime with it (Init) — and runs
// exported models for tests and benchmarks: one float32 input, one float32 output, dynamic batch.
// Everything else in the module that needs the runtime (eval, dcwp-eval, the exporter tests,
// benches) loads it through Init.
package ort

import (
	"errors"
	"fmt"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Session is one loaded model.
type Session struct {
	s       *ortgo.DynamicAdvancedSession
	in, out string
}

// New loads a serialised model. threads > 0 fixes intra-op threads (1 for stable timings).
func New(model []byte, input, output string, threads int) (*Session, error) {
	if _, err := Init(""); err != nil {
		return nil, err
	}
	opts, err := SessionOptions(threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, []string{output}, opts)
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime could not load the model: %w", err)
	}
	return &Session{s: s, in: input, out: output}, nil
}

// SessionOptions makes session options; threads > 0 fixes intra-op threads (and one inter-op
// thread), 0 leaves the runtime's defaults. The caller destroys them.
func SessionOptions(threads int) (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx runtime: session options: %w", err)
	}
	if threads > 0 {
		err = opts.SetIntraOpNumThreads(threads)
		if err == nil {
			err = opts.SetInterOpNumThreads(1)
		}
		if err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("onnx runtime: %d threads: %w", threads, err)
		}
	}
	return opts, nil
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
