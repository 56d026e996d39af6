package eval

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// IO describes a graph input or output: name and dimensions, -1 for a
// symbolic (dynamic) dimension.
type IO struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
}

// Session is an ONNX Runtime session (onnx/ort) over a classifier read from a file: one
// float32 image input, logits first among the outputs. It adds what evaluation needs to know
// about the graph.
type Session struct {
	Model    string // file the model came from
	Provider string // provider the session runs on
	Lib      string // ONNX Runtime library in use
	Input    IO
	Outputs  []IO
	Graph    *onnxpb.ModelProto // the parsed model
	Summary  *onnx.Summary      // its structure and parameter counts
	rt       *ort.Session
}

// MaxModelBytes is the largest model file read: protobuf, and so ONNX without external
// data, cannot exceed 2 GiB.
const MaxModelBytes = 2 << 30

// ReadModel reads and parses an ONNX file, with errors that name the file and
// wrap ErrModel. Only regular files are read: a FIFO would block and a device
// such as /dev/zero would be read until memory runs out.
func ReadModel(path string) (*onnxpb.ModelProto, []byte, error) {
	data, err := readRegular(path, MaxModelBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: model %w", ErrModel, err)
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: model %s is empty", ErrModel, path)
	}
	m, err := onnx.Parse(data, path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: model %w", ErrModel, err)
	}
	return m, data, nil
}

// readRegular reads a regular file of at most limit bytes; errors start with path.
func readRegular(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO blocks until a writer appears.
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", path)
		}
		return nil, fmt.Errorf("%s: %v", path, errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a model file", path)
		}
		return nil, fmt.Errorf("%s is not a regular file (mode %s), not a model file", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit of an ONNX file", path, fi.Size(), limit)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return data, nil
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

// OpenSession reads a classifier's ONNX file and opens it in ONNX Runtime (loading the
// runtime itself on first use). The model must have exactly one float32 input. Errors name
// the model file and wrap ErrModel, ErrUsage, ErrORTLib or ErrProvider.
func OpenSession(model string, o ort.Options) (*Session, error) {
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
		return nil, fmt.Errorf("%w: model %s: %w", ErrModel, model, err)
	}
	names := make([]string, len(outs))
	for i, v := range outs {
		names[i] = v.Name
	}
	rt, err := ort.Open(data, ins[0].Name, names, o)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", model, err)
	}
	return &Session{Model: model, Provider: rt.Provider, Lib: rt.Lib, Input: ins[0], Outputs: outs, Graph: m, Summary: sum, rt: rt}, nil
}

// Close releases the runtime session.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	return s.rt.Close()
}

// FixedBatch is the batch size the graph's input requires, or 0 when the
// batch dimension is dynamic.
func (s *Session) FixedBatch() int {
	if len(s.Input.Shape) > 0 && s.Input.Shape[0] > 0 {
		return int(s.Input.Shape[0])
	}
	return 0
}

// RunAll runs the model on x (laid out as shape) and returns every output.
func (s *Session) RunAll(x []float32, shape []int64) ([]ort.Output, error) {
	outs, err := s.rt.RunAll(x, shape)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", s.Model, err)
	}
	return outs, nil
}

// Run runs the model on x and returns its first output, which must be a
// float32 [N, classes] tensor (the logits).
func (s *Session) Run(x []float32, shape []int64) (logits []float32, classes int, err error) {
	outs, err := s.RunAll(x, shape)
	if err != nil {
		return nil, 0, err
	}
	o := outs[0]
	if o.Data == nil || len(o.Shape) != 2 || o.Shape[0] != shape[0] || o.Shape[1] < 1 {
		return nil, 0, fmt.Errorf("%w: model %s: first output %q has shape %v (want float32 [%d, classes])",
			ErrShape, s.Model, o.Name, o.Shape, shape[0])
	}
	return o.Data, int(o.Shape[1]), nil
}
