package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"github.com/dcwp-go/dcwp/onnx/ort"
	ortgo "github.com/yalue/onnxruntime_go"
)

// SessionOptions configures an ONNX Runtime session.
type SessionOptions struct {
	Provider string // ProviderCPU (default, "") or ProviderCUDA
	ORTLib   string // ONNX Runtime library; "" resolves it with ortgo.FindLib
	Threads  int    // intra-op threads; 0 leaves the runtime's default
	DeviceID int    // CUDA device
}

// IO describes a graph input or output: name and dimensions, -1 for a
// symbolic (dynamic) dimension.
type IO struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
}

// Session is an ONNX Runtime session over a single-input float32 model.
type Session struct {
	Model    string // file the model came from
	Provider string // provider the session runs on
	Lib      string // ONNX Runtime library in use
	Input    IO
	Outputs  []IO
	Graph    *onnxpb.ModelProto // the parsed model
	Summary  *onnx.Summary      // its structure and parameter counts
	sess     *ortgo.DynamicAdvancedSession
}

// ReadModel reads and parses an ONNX file, with errors that name the file and
// wrap ErrModel.
func ReadModel(path string) (*onnxpb.ModelProto, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: model %s does not exist", ErrModel, path)
		}
		return nil, nil, fmt.Errorf("%w: model %s: %v", ErrModel, path, err)
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: model %s is empty", ErrModel, path)
	}
	m, err := onnx.Parse(data, path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: model %v", ErrModel, err)
	}
	return m, data, nil
}

func valueShape(v *onnxpb.ValueInfoProto) []int64 {
	dims := v.GetType().GetTensorType().GetShape().GetDim()
	out := make([]int64, len(dims))
	for i, d := range dims {
		if d.GetDimParam() != "" || d.GetDimValue() <= 0 {
			out[i] = -1
		} else {
			out[i] = d.GetDimValue()
		}
	}
	return out
}

// graphIO lists the real inputs (graph inputs that are not initializers) and the outputs.
func graphIO(m *onnxpb.ModelProto) (ins, outs []IO, inTypes []int32) {
	g := m.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, t := range g.GetSparseInitializer() {
		inits[t.GetValues().GetName()] = true
	}
	for _, v := range g.GetInput() {
		if inits[v.GetName()] {
			continue
		}
		ins = append(ins, IO{Name: v.GetName(), Shape: valueShape(v)})
		inTypes = append(inTypes, v.GetType().GetTensorType().GetElemType())
	}
	for _, v := range g.GetOutput() {
		outs = append(outs, IO{Name: v.GetName(), Shape: valueShape(v)})
	}
	return ins, outs, inTypes
}

// OpenSession loads an ONNX model into ONNX Runtime (loading the runtime
// itself on first use). The model must have exactly one float32 input.
// Errors name the model file and wrap ErrModel, ErrORTLib or ErrProvider.
func OpenSession(model string, o SessionOptions) (*Session, error) {
	prov := strings.ToLower(strings.TrimSpace(o.Provider))
	if prov == "" {
		prov = ProviderCPU
	}
	if prov != ProviderCPU && prov != ProviderCUDA {
		return nil, fmt.Errorf("%w: --provider %q (want cpu or cuda)", ErrUsage, o.Provider)
	}
	m, data, err := ReadModel(model)
	if err != nil {
		return nil, err
	}
	ins, outs, types := graphIO(m)
	if len(ins) != 1 {
		return nil, fmt.Errorf("%w: model %s has %d inputs, want exactly one image input", ErrModel, model, len(ins))
	}
	if types[0] != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("%w: model %s input %q has element type %s, want float32",
			ErrModel, model, ins[0].Name, onnxpb.TensorProto_DataType(types[0]))
	}
	sum, err := onnx.Summarize(m)
	if err != nil {
		return nil, fmt.Errorf("%w: model %s: %v", ErrModel, model, err)
	}
	lib, err := ort.Init(o.ORTLib)
	if err != nil {
		return nil, err
	}
	so, err := ort.SessionOptions(o.Threads)
	if err != nil {
		return nil, fmt.Errorf("%w: --threads %d: %v", ErrUsage, o.Threads, err)
	}
	defer so.Destroy()
	if prov == ProviderCUDA {
		if err := appendCUDA(so, lib, o.DeviceID); err != nil {
			return nil, err
		}
	}
	names := make([]string, len(outs))
	for i, v := range outs {
		names[i] = v.Name
	}
	s, err := ortgo.NewDynamicAdvancedSessionWithONNXData(data, []string{ins[0].Name}, names, so)
	if err != nil {
		if prov == ProviderCUDA {
			return nil, cudaError(lib, err)
		}
		return nil, fmt.Errorf("%w: ONNX Runtime cannot load model %s: %v", ErrModel, model, err)
	}
	return &Session{Model: model, Provider: prov, Lib: lib, Input: ins[0], Outputs: outs, Graph: m, Summary: sum, sess: s}, nil
}

func appendCUDA(so *ortgo.SessionOptions, lib string, device int) error {
	// Check the two prerequisites first so the message is the same whichever
	// the runtime would trip over first.
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

// Close releases the runtime session.
func (s *Session) Close() error {
	if s == nil || s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}

// FixedBatch is the batch size the graph's input requires, or 0 when the
// batch dimension is dynamic.
func (s *Session) FixedBatch() int {
	if len(s.Input.Shape) > 0 && s.Input.Shape[0] > 0 {
		return int(s.Input.Shape[0])
	}
	return 0
}

// Output is one output tensor of a run.
type Output struct {
	Name  string
	Shape []int64
	Data  []float32 // nil for a non-float32 output
}

// RunAll runs the model on x (laid out as shape) and returns every output.
func (s *Session) RunAll(x []float32, shape []int64) ([]Output, error) {
	if s.sess == nil {
		return nil, errors.New("eval: session is closed")
	}
	in, err := ortgo.NewTensor(ortgo.NewShape(shape...), x)
	if err != nil {
		return nil, fmt.Errorf("model %s: input tensor %v: %w", s.Model, shape, err)
	}
	defer in.Destroy()
	outs := make([]ortgo.Value, len(s.Outputs))
	if err := s.sess.Run([]ortgo.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("model %s: run on input %v: %w", s.Model, shape, err)
	}
	res := make([]Output, len(outs))
	for i, v := range outs {
		if v == nil {
			continue
		}
		res[i] = Output{Name: s.Outputs[i].Name, Shape: []int64(v.GetShape())}
		if t, ok := v.(*ortgo.Tensor[float32]); ok {
			res[i].Data = append([]float32(nil), t.GetData()...)
		}
		v.Destroy()
	}
	return res, nil
}

// Run runs the model on x and returns its first output, which must be a
// float32 [N, classes] tensor (the logits).
func (s *Session) Run(x []float32, shape []int64) (logits []float32, classes int, err error) {
	outs, err := s.RunAll(x, shape)
	if err != nil {
		return nil, 0, err
	}
	o := outs[0]
	if o.Data == nil || len(o.Shape) != 2 || o.Shape[0] != shape[0] {
		return nil, 0, fmt.Errorf("%w: model %s: first output %q has shape %v (want float32 [%d, classes])",
			ErrShape, s.Model, o.Name, o.Shape, shape[0])
	}
	return o.Data, int(o.Shape[1]), nil
}
