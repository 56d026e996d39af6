// Package ort is the module's one home for ONNX Runtime (github.com/yalue/onnxruntime_go):
// it loads the shared library into the process (FindLib, Init), turns Options (provider,
// threads) into the runtime's session options, and runs models with float32 tensors in and
// out (Session). No other package imports the runtime binding; eval, dcwp-eval, the exporter
// tests and the benches all open sessions here.
package ort

import (
	"errors"
	"fmt"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Session is one model loaded into ONNX Runtime, with one float32 input.
type Session struct {
	Provider string // provider the session runs on
	Lib      string // ONNX Runtime library in use
	input    string
	outputs  []string
	s        *ortgo.DynamicAdvancedSession
}

// Output is one output tensor of a run.
type Output struct {
	Name  string
	Shape []int64
	Data  []float32 // nil for a non-float32 output
}

// Open loads a serialised model (loading the runtime itself on first use) to be fed through
// input and to return outputs. Errors wrap ErrOptions, ErrLib, ErrProvider or ErrModel.
func Open(model []byte, input string, outputs []string, o Options) (*Session, error) {
	provider, err := o.provider()
	if err != nil {
		return nil, err
	}
	lib, err := Init(o.Lib)
	if err != nil {
		return nil, err
	}
	opts, err := o.sessionOptions(provider, lib)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ortgo.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, outputs, opts)
	if err != nil {
		if provider == ProviderCUDA {
			return nil, cudaError(lib, nil, err)
		}
		return nil, fmt.Errorf("%w: ONNX Runtime cannot load it: %v", ErrModel, err)
	}
	return &Session{Provider: provider, Lib: lib, input: input, outputs: outputs, s: s}, nil
}

// New is Open on the CPU for a model with one output; threads > 0 fixes intra-op threads
// (1 for stable timings).
func New(model []byte, input, output string, threads int) (*Session, error) {
	return Open(model, input, []string{output}, Options{Threads: threads})
}

// Version is the version string of the loaded runtime ("" before the runtime is loaded).
func Version() string {
	if !ortgo.IsInitialized() {
		return ""
	}
	return ortgo.GetVersion()
}

// RunAll feeds x, laid out as shape, and returns every output.
func (s *Session) RunAll(x []float32, shape []int64) ([]Output, error) {
	if s.s == nil {
		return nil, errors.New("onnx runtime: session is closed")
	}
	in, err := ortgo.NewTensor(ortgo.NewShape(shape...), x)
	if err != nil {
		return nil, fmt.Errorf("input tensor %v: %w", shape, err)
	}
	defer in.Destroy()
	outs := make([]ortgo.Value, len(s.outputs))
	if err := s.s.Run([]ortgo.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("run on input %v: %w", shape, err)
	}
	res := make([]Output, len(outs))
	for i, v := range outs {
		if v == nil {
			continue
		}
		res[i] = Output{Name: s.outputs[i], Shape: []int64(v.GetShape())}
		if t, ok := v.(*ortgo.Tensor[float32]); ok {
			res[i].Data = append([]float32(nil), t.GetData()...)
		}
		v.Destroy()
	}
	return res, nil
}

// Run feeds x of the given shape and returns the first output's values and shape, which
// must be float32.
func (s *Session) Run(x []float32, shape ...int64) ([]float32, []int64, error) {
	outs, err := s.RunAll(x, shape)
	if err != nil {
		return nil, nil, err
	}
	if outs[0].Data == nil {
		return nil, nil, fmt.Errorf("output %q is not a float32 tensor", outs[0].Name)
	}
	return outs[0].Data, outs[0].Shape, nil
}

// Close frees the session; closing twice is a no-op.
func (s *Session) Close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}
