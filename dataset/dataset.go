// Package dataset loads image classification datasets into memory and turns samples into
// float32 NCHW batches with each dataset's train- or eval-time transform. Every dataset is
// one entry in a registry (Info, registered from the dataset's own file): the debiasing
// benchmarks of DCWP (Colored MNIST, Corrupted CIFAR-10, BFFHQ, CelebA, in their published
// layouts; see docs/method.md, "Data layouts") and folder, a user's own images as an
// ImageFolder tree or a CSV manifest.
//
// Image folders are walked recursively, following symbolic links, so flat folders, folders
// with a <sub> level and symlinked split folders are read. Names starting with "." are
// skipped. Data folders are only read: the decoded-image cache lives in a cache directory
// (Loader.CacheDir).
package dataset

import (
	"errors"
	"fmt"

	"github.com/dcwp-go/dcwp/metrics"
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
	// ErrUnknown: unknown dataset or split name.
	ErrUnknown = errors.New("unknown dataset or split")
	// ErrNoSplit: the layout has no folder (or manifest rows) for a split.
	ErrNoSplit = errors.New("split not in the data")
	// ErrBadImage: an image cannot be decoded or exceeds the size limit.
	ErrBadImage = errors.New("bad image")
)

// Split is one split of one dataset, fully in memory.
type Split struct {
	Dataset    string // canonical name: "cmnist", "cifar10c", "bffhq", "celeba", "folder"
	Name       string // "train", "valid", "test"
	Share      Share  // conflict share the split was loaded for; none for test, celeba, folder
	C, H, W    int    // stored image size
	Classes    int
	ClassNames []string // one per class; nil when the split was not made by the loader
	Images     []uint8  // N*C*H*W, CHW per image, raw 0..255
	Labels     []int32  // target label per sample
	Bias       []int32  // bias attribute per sample, an index into the groups' attribute values; nil when the data has no bias labels
	Paths      []string // source file per sample (for error messages / mining dumps)
	// Groups are the attribute values and which of them each class is aligned with, from
	// train; nil: bias == label, the attribute values being the classes (the benchmarks).
	Groups *metrics.Groups
	// Prep is what loading did to the images (from the cache, resized, converted); zero for
	// a Subset, whose images were loaded as another split's.
	Prep Prep
}

// HasBias reports whether the split carries bias labels: without them there are no group
// metrics (aligned, conflicting, worst group) and no mined precision/recall.
func (s *Split) HasBias() bool { return s.Bias != nil }

// Len is the number of samples.
func (s *Split) Len() int { return len(s.Labels) }

// Conflicting reports whether sample i is bias-conflicting: its attribute value is not the
// one its label co-occurs with most in train (on the benchmarks: label != bias); false
// without bias labels.
func (s *Split) Conflicting(i int) bool {
	if s.Bias == nil {
		return false
	}
	if s.Groups == nil {
		return s.Labels[i] != s.Bias[i]
	}
	return s.Groups.Conflicting(s.Labels[i], s.Bias[i])
}

// NumConflicting counts the bias-conflicting samples (0 without bias labels).
func (s *Split) NumConflicting() int {
	n := 0
	for i := range s.Bias {
		if s.Conflicting(i) {
			n++
		}
	}
	return n
}

// Grouping is the split's groups: Groups, or where nil, one attribute value per class
// aligned with it (bias == label).
func (s *Split) Grouping() metrics.Groups { return groupsOr(s.Groups, s.Classes, s.ClassNames) }

// Image returns the stored CHW bytes of sample i (a sub-slice, not a copy).
func (s *Split) Image(i int) []uint8 {
	n := s.C * s.H * s.W
	return s.Images[i*n : (i+1)*n : (i+1)*n]
}

// Subset returns a new Split holding the given samples (images are copied).
func (s *Split) Subset(idx []int) *Split {
	n := s.C * s.H * s.W
	out := &Split{Dataset: s.Dataset, Name: s.Name, Share: s.Share, C: s.C, H: s.H, W: s.W, Classes: s.Classes,
		ClassNames: s.ClassNames, Groups: s.Groups, Images: make([]uint8, 0, len(idx)*n), Labels: make([]int32, len(idx))}
	if s.Paths != nil {
		out.Paths = make([]string, len(idx))
	}
	if s.Bias != nil {
		out.Bias = make([]int32, len(idx))
	}
	for k, i := range idx {
		out.Images = append(out.Images, s.Image(i)...)
		out.Labels[k] = s.Labels[i]
		if s.Bias != nil {
			out.Bias[k] = s.Bias[i]
		}
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
func (s *Split) InputShape() [3]int { return info(s.Dataset).tf.shape(s) }

// NumClasses returns the number of classes (and of bias values) of a dataset,
// named as Canonical accepts. folder's depends on the data: an error.
func NumClasses(name string) (int, error) {
	sp, ok, err := FixedSpec(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("dataset %s: the class count comes from the data", name)
	}
	return sp.Classes, nil
}
