package grid

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// maxFile bounds a grid file: a grid is a few lines; anything much larger is the wrong file.
const maxFile = 1 << 20

// ReadFile reads a grid file: a JSON object or a YAML mapping from dcwp-train flag names
// (without the dashes) to a value or a list of values, e.g.
//
//	conflict-pct: [0.5, 1, 2, 5]
//	seed: [0, 1, 2]
//	model: mlp
//
// Values are kept as written ("1e-8" stays "1e-8"), so names match the command line's.
func (s *Spec) ReadFile(path string) (Grid, error) {
	b, err := readlimit.ReadFile(path, maxFile)
	if err != nil {
		return Grid{}, fmt.Errorf("grid file: %w", err)
	}
	return s.Parse(filepath.Base(path), b)
}

// Parse reads a grid file's contents; name is the file's, for errors ("grid.yaml:3: ...").
// YAML parses JSON too, so one parser reads both.
func (s *Spec) Parse(name string, data []byte) (Grid, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Grid{}, fmt.Errorf("%s: not valid JSON or YAML: %w", name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return Grid{}, fmt.Errorf("%s: empty grid file", name)
	}
	// A second document ("---") would be ignored, and its settings silently lost.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Grid{}, fmt.Errorf("%s: not valid JSON or YAML: %w", name, err)
	default:
		return Grid{}, fmt.Errorf("%s:%d: a second YAML document: a grid file holds one mapping (one sweep per file)", name, next.Line)
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return Grid{}, fmt.Errorf("%s:%d: want a mapping of flag names to values, got %s", name, m.Line, kind(m))
	}
	var g Grid
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		a, err := s.entry(k, v, seen)
		if err != nil {
			return Grid{}, fmt.Errorf("%s:%d: %w", name, k.Line, err)
		}
		g.Axes = append(g.Axes, a)
	}
	if len(g.Axes) == 0 {
		return Grid{}, fmt.Errorf("%s: the grid sets no flag", name)
	}
	s.sort(&g)
	return g, nil
}

// entry is one "flag: values" pair of a grid file.
func (s *Spec) entry(k, v *yaml.Node, seen map[string]int) (Axis, error) {
	if k.Kind != yaml.ScalarNode {
		return Axis{}, fmt.Errorf("a key must be a flag name, got %s", kind(k))
	}
	key := strings.TrimPrefix(k.Value, "--")
	f, ok := s.Flag(key)
	if !ok {
		return Axis{}, fmt.Errorf("unknown flag %q (dcwp-train has no --%s; see dcwp-train --help)", k.Value, key)
	}
	if f.NotHere != "" {
		return Axis{}, fmt.Errorf("%q cannot be set in a grid: %s", k.Value, f.NotHere)
	}
	if line, dup := seen[key]; dup {
		return Axis{}, fmt.Errorf("%q is set twice (first on line %d)", key, line)
	}
	seen[key] = k.Line
	var vals []string
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return Axis{}, errors.New(key + ": no value")
		}
		vals = []string{v.Value}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return Axis{}, fmt.Errorf("%s: empty list", key)
		}
		for _, e := range v.Content {
			if e.Kind == yaml.ScalarNode && e.Tag == "!!null" {
				return Axis{}, fmt.Errorf("%s: empty item on line %d", key, e.Line)
			}
			if e.Kind != yaml.ScalarNode {
				return Axis{}, fmt.Errorf("%s: list items must be plain values, got %s on line %d", key, kind(e), e.Line)
			}
			vals = append(vals, e.Value)
		}
	default:
		return Axis{}, fmt.Errorf("%s: want a value or a list of values, got %s", key, kind(v))
	}
	return s.axis(f, vals)
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "a value"
}
