package arch

import (
	"errors"
	"fmt"
	"sort"
)

// Bounds on a network's size, checked from its shapes before anything is allocated: an MLP
// on 4096² images would have a 20 GB first layer; a CNN on 16384×4096 images 4 GB of
// activations per image in its first layer alone. ResNet-18 at 224² is 11.7 M parameters
// and about 8 M activations per image.
const (
	MaxParams      = 1 << 28 // parameters and buffers (1 GiB as float32)
	MaxActivations = 1 << 28 // values every node outputs for one sample, summed
)

// checkSize refuses a network past MaxParams or MaxActivations.
func (a *Arch) checkSize(shapes map[string][]int) error {
	params := 0
	for _, p := range a.Params() {
		params += p.Numel()
	}
	acts := 0
	for _, n := range a.Nodes {
		acts += prod(shapes[n.Name])
	}
	switch {
	case params > MaxParams:
		return fmt.Errorf("arch %s: input %v makes %.3g parameters, over the limit of %.3g: %w", a.Name, a.Input, float64(params), float64(MaxParams), ErrInputSize)
	case acts > MaxActivations:
		return fmt.Errorf("arch %s: input %v makes %.3g activations per image, over the limit of %.3g: %w", a.Name, a.Input, float64(acts), float64(MaxActivations), ErrInputSize)
	}
	return nil
}

// inputRange is the smallest and largest square input side that model builds for with o's
// channels and classes (0, 0 when none does).
func inputRange(name string, o Options) (lo, hi int) {
	m, err := lookup(name)
	if err != nil {
		return 0, 0
	}
	fits := func(side int) bool {
		o.Input[1], o.Input[2] = side, side
		return m.build(o).Validate() == nil
	}
	const maxSide = 1 << 14
	lo = sort.Search(64, func(s int) bool { return fits(s + 1) }) + 1
	if lo > 64 {
		return 0, 0
	}
	// Too large is monotone in the side; too small is settled below lo.
	hi = lo + sort.Search(maxSide-lo+1, func(k int) bool { return !fits(lo + k) }) - 1
	return lo, hi
}

// sizeHint adds to an ErrInputSize error the range of input sizes model takes.
func sizeHint(model string, o Options, err error) error {
	if !errors.Is(err, ErrInputSize) {
		return err
	}
	lo, hi := inputRange(model, o)
	if lo == 0 {
		return err
	}
	return fmt.Errorf("%w; %s takes square inputs of %dx%d to %dx%d pixels (%d channels): choose --image-size in that range", err, model, lo, lo, hi, hi, o.Input[0])
}
