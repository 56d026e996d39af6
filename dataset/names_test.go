package dataset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{"cmnist", CMNIST}, {"colored_mnist", CMNIST}, {"coloredmnist", CMNIST}, {" Colored_MNIST ", CMNIST},
		{"cifar10c", CIFAR10C}, {"cifar10_c", CIFAR10C}, {"CIFAR-10-C", CIFAR10C}, {"corrupted_cifar10", CIFAR10C},
		{"bffhq", BFFHQ}, {"BFFHQ", BFFHQ},
		{"celeba", CelebA}, {"CelebA", CelebA},
		{"svhn", ""}, {"", ""}, {"colored-mnist", ""}, {"mnist", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Canonical(c.in)
			if c.want != "" {
				if err != nil || got != c.want {
					t.Fatalf("Canonical(%q) = %q, %v; want %q", c.in, got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Canonical(%q) = %q, want an error", c.in, got)
			}
			if !errors.Is(err, ErrUnknown) {
				t.Fatalf("error %q is not ErrUnknown", err)
			}
			for _, k := range registry {
				for _, n := range append([]string{k.Name}, k.Aliases...) {
					if !strings.Contains(err.Error(), n) {
						t.Fatalf("error %q does not list %q", err, n)
					}
				}
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("unknown dataset %q", c.in)) {
				t.Fatalf("error %q does not name %q", err, c.in)
			}
		})
	}
}

// Every known name resolves to itself, and every per-dataset switch handles it.
func TestEveryNameHandled(t *testing.T) {
	names := Names()
	if want := []string{CMNIST, CIFAR10C, BFFHQ, CelebA, Folder}; !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, n := range names {
		if got, err := Canonical(n); err != nil || got != n {
			t.Errorf("Canonical(%q) = %q, %v", n, got, err)
		}
		in, _ := Lookup(n)
		if in.Usage == "" || in.Preset == nil || in.Preset("").BatchSize < 2 || in.Preset("").LambdaUp == nil {
			t.Errorf("%s: registry entry lacks usage or preset", n)
		}
		if in.Spec == nil {
			if _, err := NumClasses(n); err == nil {
				t.Errorf("NumClasses(%q): want an error (classes come from the data)", n)
			}
			continue
		}
		if c, err := NumClasses(n); err != nil || c < 2 || len(in.Spec.ClassNames) != c {
			t.Errorf("NumClasses(%q) = %d, %v; class names %v", n, c, err, in.Spec.ClassNames)
		}
		if d := DirName(n); !strings.EqualFold(d, n) {
			t.Errorf("DirName(%q) = %q", n, d)
		}
	}
}

// TestEveryTransform runs Batch for every known dataset, train and eval, at the
// stored sizes the benchmarks ship (bffhq also at a size that needs resizing).
// Every stored pixel is 200, so a dataset without its transform case would show
// up as a panic or as an output of zeros.
func TestEveryTransform(t *testing.T) {
	stored := map[string][][2]int{
		CMNIST: {{28, 28}}, CIFAR10C: {{32, 32}}, BFFHQ: {{128, 128}, {64, 80}}, CelebA: {{218, 178}}, Folder: {{40, 24}},
	}
	for _, ds := range Names() {
		sizes, ok := stored[ds]
		if !ok {
			t.Fatalf("no stored size for %s in this test", ds)
		}
		for _, hw := range sizes {
			for _, train := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%dx%d/train=%v", ds, hw[0], hw[1], train), func(t *testing.T) {
					checkTransform(t, ds, hw[0], hw[1], train)
				})
			}
		}
	}
}

func checkTransform(t *testing.T, ds string, h, w int, train bool) {
	const n = 2
	s := &Split{Dataset: ds, C: 3, H: h, W: w, Classes: 10,
		Images: make([]uint8, n*3*h*w), Labels: make([]int32, n), Bias: make([]int32, n)}
	for i := range s.Images {
		s.Images[i] = 200
	}
	x, shape := s.Batch([]int{0, 1}, train, rand.New(rand.NewPCG(3, 4)))
	in := s.InputShape()
	if shape != [4]int{n, in[0], in[1], in[2]} || len(x) != n*in[0]*in[1]*in[2] {
		t.Fatalf("shape %v, len %d, want %d×%v", shape, len(x), n, in)
	}
	// Only cifar10c's random crop pads with zeros, at most 4 of 32 rows and columns.
	kept := 0
	for _, v := range x {
		if v > 190.0/255 && v < 210.0/255 {
			kept++
		}
	}
	if float64(kept) < 0.7*float64(len(x)) {
		t.Fatalf("only %d of %d outputs are near 200/255", kept, len(x))
	}
}

func TestUnknownDatasetPanics(t *testing.T) {
	s := &Split{Dataset: "svhn", C: 3, H: 32, W: 32, Images: make([]uint8, 3*32*32), Labels: []int32{0}, Bias: []int32{0}}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"svhn"`) {
			t.Fatalf("recovered %v, want a panic naming the dataset", r)
		}
	}()
	s.Batch([]int{0}, false, nil)
}
