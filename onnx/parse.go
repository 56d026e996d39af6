package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ReadFile loads and validates an ONNX model, naming the file in every error.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		return nil, err
	}
	return Parse(b, path)
}

// Parse decodes and validates a serialised model; name labels errors (a file path).
func Parse(b []byte, name string) (*onnxpb.ModelProto, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file, not an ONNX model", name)
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model, or truncated: %v", name, err)
	}
	if err := Validate(m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// Validate checks what a model needs to be usable: IR version and opset set, a graph
// with inputs and outputs, initializers whose data match their shapes, and every node
// input defined before use (graph input, initializer or an earlier node's output).
func Validate(m *onnxpb.ModelProto) error {
	if m.GetIrVersion() == 0 || m.Graph == nil {
		return errors.New("not an ONNX model (no IR version or no graph), or truncated")
	}
	if len(m.OpsetImport) == 0 {
		return errors.New("no opset_import")
	}
	g := m.Graph
	if len(g.Input) == 0 || len(g.Output) == 0 {
		return errors.New("graph has no inputs or no outputs")
	}
	defined := map[string]bool{"": true}
	for _, v := range g.Input {
		defined[v.GetName()] = true
	}
	for _, t := range g.Initializer {
		if _, err := numericValues(t); err != nil {
			return fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		defined[t.GetName()] = true
	}
	for _, s := range g.SparseInitializer {
		if _, err := sparseValues(s); err != nil {
			return fmt.Errorf("sparse initializer %q: %w", sparseName(s), err)
		}
		defined[sparseName(s)] = true
	}
	for i, n := range g.Node {
		for _, in := range n.Input {
			if !defined[in] {
				return fmt.Errorf("node %d (%s %q) reads %q, which nothing defines before it", i, n.GetOpType(), n.GetName(), in)
			}
		}
		for _, out := range n.Output {
			defined[out] = true
		}
	}
	for _, v := range g.Output {
		if !defined[v.GetName()] {
			return fmt.Errorf("graph output %q is never computed", v.GetName())
		}
	}
	return nil
}

func sparseName(s *onnxpb.SparseTensorProto) string {
	if s.Values == nil {
		return ""
	}
	return s.Values.GetName()
}
