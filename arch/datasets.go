package arch

import (
	"fmt"

	"github.com/dcwp-go/dcwp/dataset"
)

// ForDataset gives the input size, class count and normalisation the spec uses for a dataset
// (named as dataset.Canonical accepts), from its registry entry. A dataset whose input comes
// from the data (folder) is an error: use ForSpec with the run's recorded Spec.
func ForDataset(name string, asCoded bool) (Options, error) {
	s, ok, err := dataset.FixedSpec(name)
	if err != nil {
		return Options{}, err
	}
	if !ok {
		return Options{}, fmt.Errorf("arch: dataset %s: the input shape and classes come from the data (the run's config.json records them)", name)
	}
	return ForSpec(s, asCoded), nil
}

// ForSpec gives the options of a model of a dataset Spec.
func ForSpec(s dataset.Spec, asCoded bool) Options {
	return Options{Classes: s.Classes, Input: s.Input, Mean: s.Mean, Std: s.Std, AsCoded: asCoded}
}

// ForRun builds the architecture a run of model on dataset trains.
func ForRun(model, dataset string, asCoded bool) (*Arch, error) {
	return ForRunSpec(model, dataset, nil, asCoded)
}

// ForRunSpec is ForRun with the run's recorded dataset Spec (folder), when not nil, in
// place of the dataset's own.
func ForRunSpec(model, dataset string, spec *dataset.Spec, asCoded bool) (*Arch, error) {
	if spec != nil {
		if err := checkSpec(*spec); err != nil {
			return nil, err
		}
		return Build(model, ForSpec(*spec, asCoded))
	}
	o, err := ForDataset(dataset, asCoded)
	if err != nil {
		return nil, err
	}
	return Build(model, o)
}

// checkSpec refuses a recorded Spec no model can be built for.
func checkSpec(s dataset.Spec) error {
	in := s.Input
	switch {
	case s.Classes < 2 || s.Classes > 1<<16:
		return fmt.Errorf("arch: %d classes: want 2 to 65536", s.Classes)
	case in[0] < 1 || in[0] > 4 || in[1] < 1 || in[2] < 1 || in[1] > dataset.MaxSide || in[2] > dataset.MaxSide:
		return fmt.Errorf("arch: input %v: want C 1..4 and H, W 1..%d", in, dataset.MaxSide)
	case (s.Mean == nil) != (s.Std == nil) || (s.Mean != nil && (len(s.Mean) != in[0] || len(s.Std) != in[0])):
		return fmt.Errorf("arch: normalisation mean %v std %v: want one value per channel (%d) each, or neither", s.Mean, s.Std, in[0])
	}
	for _, v := range s.Std {
		if !(v > 0) {
			return fmt.Errorf("arch: normalisation std %v: want positive values", s.Std)
		}
	}
	if s.Groups != nil {
		if err := s.Groups.Check(s.Classes); err != nil {
			return fmt.Errorf("arch: groups: %w", err)
		}
	}
	return nil
}
