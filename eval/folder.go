package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// LoadSplitFor loads a split for the model in path as Evaluate does: a folder dataset (an
// ImageFolder or a CSV manifest) is read with the model's class names and input size.
func LoadSplitFor(path, root, name string, share dataset.Share, split string) (*dataset.Split, error) {
	m, _, err := ReadModel(path)
	if err != nil {
		return nil, err
	}
	return loadSplitFor(m, path, root, name, share, split)
}

// loadSplitFor loads a split for a model: a dataset whose classes and input come from the
// data (folder) is read with the model's class names (its class_names metadata) and
// resized to the model's input size, so that label indices mean the model's outputs; every
// dataset's bias values are grouped by the model's groups metadata (which value each class
// is aligned with, from its training split), so no training data is needed.
func loadSplitFor(m *onnxpb.ModelProto, path, root, name string, share dataset.Share, split string) (*dataset.Split, error) {
	meta := map[string]string{}
	for _, e := range m.GetMetadataProps() {
		meta[e.GetKey()] = e.GetValue()
	}
	if name == "" {
		return LoadSplit(root, name, share, split)
	}
	if dataset.Fixed(name) {
		groups, err := modelGroups(meta, path, name, nil)
		if err != nil {
			return nil, err
		}
		return loadSplit(dataset.Request{Root: root, Name: name, Share: share, Groups: groups}, split)
	}
	if split == "" {
		split = dataset.Test
	}
	if _, err := dataset.Lookup(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if root == "" {
		return nil, fmt.Errorf("%w: no data folder given (--data)", ErrData)
	}
	if _, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("%w: data %s: %w", ErrData, root, err)
	}
	req := dataset.Request{Root: root, Name: name}
	if v, ok := meta["class_names"]; ok {
		if err := json.Unmarshal([]byte(v), &req.Classes); err != nil {
			return nil, fmt.Errorf("%w: model %s: metadata class_names %q: %w", ErrModel, path, v, err)
		}
	}
	var err error
	if req.Groups, err = modelGroups(meta, path, name, req.Classes); err != nil {
		return nil, err
	}
	if in := m.GetGraph().GetInput(); len(in) > 0 {
		d := in[0].GetType().GetTensorType().GetShape().GetDim()
		if len(d) == 4 && d[2].GetDimValue() > 0 && d[3].GetDimValue() > 0 &&
			d[2].GetDimValue() <= dataset.MaxSide && d[3].GetDimValue() <= dataset.MaxSide {
			req.ImageSize = [2]int{int(d[2].GetDimValue()), int(d[3].GetDimValue())}
		}
	}
	sp, err := dataset.Loader{Warnf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "dcwp-eval: "+f+"\n", a...) }}.LoadSplit(req, split)
	if err != nil {
		if errors.Is(err, dataset.ErrUnknown) {
			return nil, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return sp, nil
}

// modelGroups reads the model's groups metadata, checked against its classes (classNames,
// or the dataset's own); nil where it has none (an export written before groups were
// recorded: bias == label).
func modelGroups(meta map[string]string, path, name string, classNames []string) (*metrics.Groups, error) {
	v, ok := meta["groups"]
	if !ok {
		return nil, nil
	}
	classes := len(classNames)
	if classNames == nil {
		if s, fixed, err := dataset.FixedSpec(name); err == nil && fixed {
			classes = s.Classes
		}
	}
	g, err := metrics.Parse(v, classes)
	if err != nil {
		return nil, fmt.Errorf("%w: model %s: metadata groups %q: %w", ErrModel, path, v, err)
	}
	return &g, nil
}

// writePerClass prints each class's accuracy under its name.
func (r *Report) writePerClass(w io.Writer) {
	if len(r.Accuracy.PerClass) == 0 {
		return
	}
	fmt.Fprintf(w, "per-class accuracy\n")
	fmt.Fprintf(w, "%5s  %-24s %8s\n", "class", "name", "accuracy")
	for l, v := range r.Accuracy.PerClass {
		name := fmt.Sprint(l)
		if l < len(r.ClassNames) {
			name = r.ClassNames[l]
		}
		acc := "-"
		if v >= 0 {
			acc = fmt.Sprintf("%7.2f%%", 100*v)
		}
		fmt.Fprintf(w, "%5d  %-24s %8s\n", l, name, acc)
	}
	fmt.Fprintln(w)
}

// writeGroups prints the accuracy of every (class, bias value) group under their names,
// the aligned groups (each class's majority value in train) marked.
func (r *Report) writeGroups(w io.Writer) {
	if len(r.Accuracy.Groups) == 0 {
		return
	}
	rowName := func(l int) string {
		if l < len(r.ClassNames) {
			return r.ClassNames[l]
		}
		return fmt.Sprint(l)
	}
	var g metrics.Groups
	if r.Grouping != nil {
		g = *r.Grouping
	} else { // a report written before groups were named: bias == label
		names := make([]string, len(r.Accuracy.Groups))
		for l := range names {
			names[l] = rowName(l)
		}
		g = metrics.Identity(names)
	}
	width := len("class")
	for l := range r.Accuracy.Groups {
		width = max(width, len(rowName(l)))
	}
	cols := make([]int, len(r.Accuracy.Groups[0]))
	fmt.Fprintf(w, "per-group accuracy %% (rows: class, columns: bias value; * = aligned, - = empty)\n")
	fmt.Fprintf(w, "%-*s", width, "class")
	for b := range cols {
		cols[b] = max(len(g.Name(b)), 7)
		fmt.Fprintf(w, " %*s", cols[b], g.Name(b))
	}
	fmt.Fprintln(w)
	for l, row := range r.Accuracy.Groups {
		fmt.Fprintf(w, "%-*s", width, rowName(l))
		for b, v := range row {
			cell := "-"
			if v >= 0 {
				cell = fmt.Sprintf("%.1f", 100*v)
				if l < g.Classes() && !g.Conflicting(int32(l), int32(b)) {
					cell = "*" + cell
				}
			}
			fmt.Fprintf(w, " %*s", cols[b], cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
