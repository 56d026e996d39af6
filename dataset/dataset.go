// Package dataset loads the debiasing benchmarks used by DCWP (Colored MNIST,
// Corrupted CIFAR-10, BFFHQ, CelebA) from their published folder layouts into
// memory, and turns samples into float32 NCHW batches with the train- or
// eval-time transforms of the reference method.
//
// Layouts (see shared/spec/dcwp-method.md, "Data layouts"):
//
//	<root>/cmnist/{0.5pct,1pct,2pct,5pct}/{align,conflict,valid}/<sub>/<idx>_<label>_<bias>.png
//	<root>/cmnist/test/<sub>/<idx>_<label>_<bias>.png
//	<root>/cifar10c/...                         (same as cmnist)
//	<root>/bffhq/0.5pct/{align,conflict}/...,  <root>/bffhq/valid/...,  <root>/bffhq/test/...
//	<root>/celebA/celeba/img_align_celeba/<image_id>
//	<root>/celebA/metadata_blonde_subsampled.csv  (image_id, split, Blond_Hair, Male)
//
// Image folders are walked recursively, so both flat folders and folders with
// a <sub> level are read. Names starting with "." are skipped (the loader keeps
// its binary cache as <folder>/.dcwp-cache.bin).
package dataset

import (
	"errors"
	"fmt"
)

// Dataset names accepted by Load.
const (
	CMNIST   = "cmnist"
	CIFAR10C = "cifar10c"
	BFFHQ    = "bffhq"
	CelebA   = "celeba"
)

// Split names accepted by Load.
const (
	Train = "train"
	Valid = "valid"
	Test  = "test"
)

// ConflictPcts are the conflict percentages the published cmnist and cifar10c
// releases ship (bffhq ships only "0.5").
var ConflictPcts = []string{"0.5", "1", "2", "5"}

// Errors wrapped (with %w) by the loader, for errors.Is.
var (
	// ErrBadName: an image file name does not end in _<label>_<bias>.<ext>,
	// or its label/bias is out of range.
	ErrBadName = errors.New("file name must end in _<label>_<bias>.<ext> with label and bias in range")
	// ErrBadCSV: the CelebA metadata CSV lacks a column or has a bad value.
	ErrBadCSV = errors.New("bad metadata CSV")
	// ErrNoImages: a split folder exists but holds no images.
	ErrNoImages = errors.New("no images found")
	// ErrImageSize: an image's size or channel count differs from the split's.
	ErrImageSize = errors.New("image size differs from the rest of the split")
	// ErrUnknown: unknown dataset, split or pct name.
	ErrUnknown = errors.New("unknown dataset, split or pct")
)

// Split is one split of one dataset, fully in memory.
type Split struct {
	Dataset string // "cmnist", "cifar10c", "bffhq", "celeba"
	Name    string // "train", "valid", "test"
	Pct     string // conflict pct the split was loaded for ("0.5", "1", ...); "" for celeba
	C, H, W int    // stored image size
	Classes int
	Images  []uint8  // N*C*H*W, CHW per image, raw 0..255
	Labels  []int32  // target label per sample
	Bias    []int32  // bias attribute per sample
	Paths   []string // source file per sample (for error messages / mining dumps)
}

// Len is the number of samples.
func (s *Split) Len() int { return len(s.Labels) }

// Conflicting reports whether sample i is bias-conflicting (label != bias).
func (s *Split) Conflicting(i int) bool { return s.Labels[i] != s.Bias[i] }

// NumConflicting counts the bias-conflicting samples.
func (s *Split) NumConflicting() int {
	n := 0
	for i := range s.Labels {
		if s.Labels[i] != s.Bias[i] {
			n++
		}
	}
	return n
}

// Image returns the stored CHW bytes of sample i (a sub-slice, not a copy).
func (s *Split) Image(i int) []uint8 {
	n := s.C * s.H * s.W
	return s.Images[i*n : (i+1)*n : (i+1)*n]
}

// Subset returns a new Split holding the given samples (images are copied).
func (s *Split) Subset(idx []int) *Split {
	n := s.C * s.H * s.W
	out := &Split{Dataset: s.Dataset, Name: s.Name, Pct: s.Pct, C: s.C, H: s.H, W: s.W, Classes: s.Classes,
		Images: make([]uint8, 0, len(idx)*n), Labels: make([]int32, len(idx)), Bias: make([]int32, len(idx))}
	if s.Paths != nil {
		out.Paths = make([]string, len(idx))
	}
	for k, i := range idx {
		out.Images = append(out.Images, s.Image(i)...)
		out.Labels[k], out.Bias[k] = s.Labels[i], s.Bias[i]
		if s.Paths != nil {
			out.Paths[k] = s.Paths[i]
		}
	}
	return out
}

// InputShape is C,H,W of what Batch returns (the shape after the eval transform;
// the train transform yields the same shape). A Split whose Dataset is not a
// canonical name (one not made by Load, LoadDir or Subset) is a programming
// error and panics.
func (s *Split) InputShape() [3]int {
	switch s.Dataset {
	case CMNIST, CIFAR10C:
		return [3]int{s.C, s.H, s.W}
	case BFFHQ:
		return [3]int{s.C, 128, 128}
	case CelebA:
		return [3]int{s.C, 224, 224}
	default:
		panic(fmt.Sprintf("dataset: Split of %q: Dataset must be one of %v", s.Dataset, Names()))
	}
}

// NumClasses returns the number of classes (and of bias values) of a dataset,
// named as Canonical accepts.
func NumClasses(name string) (int, error) {
	ds, err := Canonical(name)
	if err != nil {
		return 0, err
	}
	switch ds {
	case CMNIST, CIFAR10C:
		return 10, nil
	case BFFHQ, CelebA:
		return 2, nil
	default:
		return 0, fmt.Errorf("dataset %s: internal: no class count", ds)
	}
}
