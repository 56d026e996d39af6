package onnx

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Change is one structural difference between two summaries. A is the value in the first
// summary, B in the second; "" where the thing does not exist on that side.
type Change struct {
	Kind  string `json:"kind"`  // model, metadata, input, output, node, initializer
	Name  string `json:"name"`  // node, initializer, value or metadata key name
	Field string `json:"field"` // what differs: present, op, attr:<name>, inputs, shape, sha256, ...
	A     string `json:"a"`
	B     string `json:"b"`
}

func (c Change) String() string {
	if c.Field == "present" {
		if c.A == "" {
			return fmt.Sprintf("%s %s: only in B", c.Kind, c.Name)
		}
		return fmt.Sprintf("%s %s: only in A", c.Kind, c.Name)
	}
	return fmt.Sprintf("%s %s: %s %s -> %s", c.Kind, c.Name, c.Field, c.A, c.B)
}

// nodeKeys names each node for matching: its name, "#<position>" when it has none, and
// "<name>#<k>" for the k-th repeat of a name (node names need not be unique).
func nodeKeys(ns []NodeSummary) []string {
	keys := make([]string, len(ns))
	seen := map[string]int{}
	for i, n := range ns {
		switch k := seen[n.Name]; {
		case n.Name == "":
			keys[i] = fmt.Sprintf("#%d", i)
		case k == 0:
			keys[i] = n.Name
		default:
			keys[i] = fmt.Sprintf("%s#%d", n.Name, k)
		}
		seen[n.Name]++
	}
	return keys
}

func shapesString(ss []Shape) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// Diff lists the structural differences of two models: model fields, metadata, graph
// inputs and outputs, nodes (matched by name, else by position) and initializers
// (matched by name). Equal summaries give no changes.
func Diff(a, b *Summary) []Change {
	var out []Change
	add := func(kind, name, field, va, vb string) {
		if va != vb {
			out = append(out, Change{kind, name, field, va, vb})
		}
	}
	add("model", "", "ir_version", fmt.Sprint(a.IRVersion), fmt.Sprint(b.IRVersion))
	add("model", "", "opset", fmt.Sprint(a.Opset), fmt.Sprint(b.Opset))
	add("model", "", "producer", a.Producer, b.Producer)
	add("model", "", "params_total", fmt.Sprint(a.ParamsTotal), fmt.Sprint(b.ParamsTotal))
	add("model", "", "params_nonzero", fmt.Sprint(a.ParamsNonZero), fmt.Sprint(b.ParamsNonZero))

	for _, k := range unionKeys(a.Metadata, b.Metadata) {
		va, oka := a.Metadata[k]
		vb, okb := b.Metadata[k]
		if oka != okb {
			out = append(out, Change{"metadata", k, "present", present(oka), present(okb)})
			continue
		}
		add("metadata", k, "value", va, vb)
	}

	diffValues := func(kind string, as, bs []Value) {
		bm := map[string]Value{}
		for _, v := range bs {
			bm[v.Name] = v
		}
		am := map[string]bool{}
		for _, va := range as {
			am[va.Name] = true
			vb, ok := bm[va.Name]
			if !ok {
				out = append(out, Change{kind, va.Name, "present", "yes", ""})
				continue
			}
			add(kind, va.Name, "type", va.Type, vb.Type)
			add(kind, va.Name, "shape", va.Shape.String(), vb.Shape.String())
		}
		for _, vb := range bs {
			if !am[vb.Name] {
				out = append(out, Change{kind, vb.Name, "present", "", "yes"})
			}
		}
	}
	diffValues("input", a.Inputs, b.Inputs)
	diffValues("output", a.Outputs, b.Outputs)

	bn := map[string]NodeSummary{}
	bkeys := nodeKeys(b.Nodes)
	for i, n := range b.Nodes {
		bn[bkeys[i]] = n
	}
	seen := map[string]bool{}
	akeys := nodeKeys(a.Nodes)
	for i, na := range a.Nodes {
		k := akeys[i]
		seen[k] = true
		nb, ok := bn[k]
		if !ok {
			out = append(out, Change{"node", k, "present", na.Op, ""})
			continue
		}
		add("node", k, "op", na.Op, nb.Op)
		add("node", k, "inputs", strings.Join(na.Inputs, ","), strings.Join(nb.Inputs, ","))
		add("node", k, "outputs", strings.Join(na.Outputs, ","), strings.Join(nb.Outputs, ","))
		for _, n := range unionKeys(na.Attrs, nb.Attrs) {
			add("node", k, "attr:"+n, na.Attrs[n], nb.Attrs[n])
		}
		add("node", k, "input_shapes", shapesString(na.InputShapes), shapesString(nb.InputShapes))
		add("node", k, "output_shapes", shapesString(na.OutputShapes), shapesString(nb.OutputShapes))
	}
	for i, nb := range b.Nodes {
		if k := bkeys[i]; !seen[k] {
			out = append(out, Change{"node", k, "present", "", nb.Op})
		}
	}

	bi := map[string]InitSummary{}
	for _, t := range b.Initializers {
		bi[t.Name] = t
	}
	ai := map[string]bool{}
	for _, ta := range a.Initializers {
		ai[ta.Name] = true
		tb, ok := bi[ta.Name]
		if !ok {
			out = append(out, Change{"initializer", ta.Name, "present", "yes", ""})
			continue
		}
		add("initializer", ta.Name, "type", ta.Type, tb.Type)
		add("initializer", ta.Name, "shape", fmt.Sprint(ta.Shape), fmt.Sprint(tb.Shape))
		add("initializer", ta.Name, "sparse", fmt.Sprint(ta.Sparse), fmt.Sprint(tb.Sparse))
		add("initializer", ta.Name, "nonzero", fmt.Sprint(ta.NonZero), fmt.Sprint(tb.NonZero))
		add("initializer", ta.Name, "sha256", ta.SHA256, tb.SHA256)
	}
	for _, tb := range b.Initializers {
		if !ai[tb.Name] {
			out = append(out, Change{"initializer", tb.Name, "present", "", "yes"})
		}
	}
	return out
}

func present(ok bool) string {
	if ok {
		return "yes"
	}
	return ""
}

// unionKeys is the sorted set of keys of a and b.
func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.AppendSeq(slices.Collect(maps.Keys(a)), maps.Keys(b))
	slices.Sort(keys)
	return slices.Compact(keys)
}
