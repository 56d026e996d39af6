package arch

import (
	"errors"
	"strings"
	"testing"
)

// TestInputSizeBounds: an input too small for a model's kernels (1×1 images with the cnn
// failed at iteration 1 with libtorch's conv2d message) or so large that the network would
// not fit (an mlp on 4096² images: a 20 GB first layer) is refused by Build, saying the
// range of sizes the model takes.
func TestInputSizeBounds(t *testing.T) {
	cases := []struct {
		model string
		h, w  int
		want  []string // error text; nil: builds
	}{
		{"cnn", 1, 1, []string{"smaller than its 4x4 kernel", "cnn takes square inputs of 8x8 to"}},
		{"cnn", 7, 7, []string{"kernel", "8x8"}},
		{"cnn", 8, 8, nil},
		{"cnn", 28, 28, nil},
		{"mlp", 4096, 4096, []string{"5.03e+09 parameters", "mlp takes square inputs of 1x1 to 945x945"}},
		{"mlp", 945, 945, nil},
		{"cnn", 16384, 4096, []string{"activations per image", "--image-size"}},
		{"resnet18", 1, 1, nil},
		{"resnet18", 224, 224, nil},
		{"resnet18", 4096, 4096, []string{"activations per image"}},
	}
	for _, c := range cases {
		o := Options{Classes: 10, Input: [3]int{3, c.h, c.w}}
		a, err := Build(c.model, o)
		if c.want == nil {
			if err != nil || a == nil {
				t.Errorf("%s %dx%d: %v", c.model, c.h, c.w, err)
			}
			continue
		}
		if !errors.Is(err, ErrInputSize) {
			t.Errorf("%s %dx%d: %v, want ErrInputSize", c.model, c.h, c.w, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %dx%d: %q does not say %q", c.model, c.h, c.w, err, w)
			}
		}
	}
}
