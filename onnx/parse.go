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
	// ONNX graphs are in SSA form: every value is defined once. Summary and Diff match
	// values by name, so a second definition would be compared with the wrong one.
	defined := map[string]bool{"": true}
	for _, v := range g.Input {
		if defined[v.GetName()] {
			return fmt.Errorf("graph input %q is declared twice (or has no name)", v.GetName())
		}
		defined[v.GetName()] = true
	}
	inits := map[string]bool{"": true}
	define := func(what, name string) error {
		if inits[name] {
			return fmt.Errorf("%s %q is defined twice (or has no name)", what, name)
		}
		inits[name], defined[name] = true, true
		return nil
	}
	total := int64(0)
	budget := func(what, name string, dims []int64) error {
		n, err := numel(dims)
		if err != nil {
			return fmt.Errorf("%s %q: %w", what, name, err)
		}
		if total += n; total > MaxModelElements {
			return fmt.Errorf("%s %q (shape %v) takes the initializers over %d elements in all, the reader's limit", what, name, dims, MaxModelElements)
		}
		return nil
	}
	for _, t := range g.Initializer {
		if err := define("initializer", t.GetName()); err != nil {
			return err
		}
		if err := budget("initializer", t.GetName(), t.Dims); err != nil {
			return err
		}
		if _, err := checkNumeric(t); err != nil {
			return fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
	}
	for _, s := range g.SparseInitializer {
		if err := define("sparse initializer", sparseName(s)); err != nil {
			return err
		}
		if err := budget("sparse initializer", sparseName(s), s.Dims); err != nil {
			return err
		}
		if _, err := sparsePositions(s); err != nil {
			return fmt.Errorf("sparse initializer %q: %w", sparseName(s), err)
		}
	}
	for i, n := range g.Node {
		for _, in := range n.Input {
			if !defined[in] {
				return fmt.Errorf("node %d (%s %q) reads %q, which nothing defines before it", i, n.GetOpType(), n.GetName(), in)
			}
		}
		for _, out := range n.Output {
			if out != "" && defined[out] {
				return fmt.Errorf("node %d (%s %q) writes %q, which is already defined", i, n.GetOpType(), n.GetName(), out)
			}
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
