package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// loadSplitFor loads a split for a model: a dataset whose classes and input come from the
// data (folder) is read with the model's class names (its class_names metadata) and
// resized to the model's input size, so that label indices mean the model's outputs.
func loadSplitFor(m *onnxpb.ModelProto, path, root, name string, share dataset.Share, split string) (*dataset.Split, error) {
	if dataset.Fixed(name) || name == "" {
		return LoadSplit(root, name, share, split)
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
	for _, e := range m.GetMetadataProps() {
		if e.GetKey() == "class_names" {
			if err := json.Unmarshal([]byte(e.GetValue()), &req.Classes); err != nil {
				return nil, fmt.Errorf("%w: model %s: metadata class_names %q: %w", ErrModel, path, e.GetValue(), err)
			}
		}
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
