package eval

import (
	"fmt"
)

// MaxInputElements bounds the float32 elements of one batch handed to the runtime
// (512 MiB): a model may declare any input size or fixed batch, and a flag any batch,
// so the input is sized and refused before it is allocated.
const MaxInputElements = 1 << 27

// batchElements is batch × the product of dims, the elements of one input batch of a
// model. A dimension that is not positive, or a total over MaxInputElements (checked
// before each multiplication, so nothing overflows), is an error wrapping kind that names
// the model and the shape.
func batchElements(kind error, model string, batch int, dims []int64) (int, error) {
	shape := append([]int64{int64(batch)}, dims...)
	n := int64(1)
	for _, d := range shape {
		if d <= 0 {
			return 0, fmt.Errorf("%w: model %s: inputs of shape %s have a dimension that is not positive", kind, model, dimString(shape))
		}
		if n > MaxInputElements/d {
			return 0, fmt.Errorf("%w: model %s: inputs of shape %s are over %d float32 elements, the limit (use a smaller batch size or fewer samples)",
				kind, model, dimString(shape), MaxInputElements)
		}
		n *= d
	}
	return int(n), nil
}

// CheckOutput verifies, before inference, that the model's first output as the graph
// declares it can be logits of the split's classes: [N, classes] wherever the graph fixes
// the rank or the class count. Outputs without a declared shape are checked on the first
// batch instead.
func CheckOutput(s *Session, classes int) error {
	if len(s.Outputs) == 0 {
		return fmt.Errorf("%w: model %s has no output", ErrShape, s.Model)
	}
	o := s.Outputs[0]
	if len(o.Shape) == 0 {
		return nil
	}
	if len(o.Shape) != 2 {
		return fmt.Errorf("%w: model %s first output %q has shape %s (rank %d), but logits are [N,%d] for the dataset's %d classes",
			ErrShape, s.Model, o.Name, dimString(o.Shape), len(o.Shape), classes, classes)
	}
	if o.Shape[1] > 0 && o.Shape[1] != int64(classes) {
		return fmt.Errorf("%w: model %s outputs %d classes (first output %q has shape %s), but the dataset has %d (want logits [N,%d])",
			ErrShape, s.Model, o.Shape[1], o.Name, dimString(o.Shape), classes, classes)
	}
	return nil
}
