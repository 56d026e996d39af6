package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dcwp-go/dcwp/metrics"
)

// Info is one dataset's entry in the registry: everything the loader, arch, the trainer's
// presets, the exporter, dcwp-eval and the commands' help know about it. Each dataset
// registers its entry from its own file (cmnist.go, cifar10c.go, bffhq.go, celeba.go,
// folder.go), so adding a dataset is that one file, its test and its two rows in the table
// tests of names_test.go (docs/developing.md, "A dataset"). What sets a dataset apart is a
// field here, never a test of its name elsewhere.
type Info struct {
	Name    string
	Aliases []string // lower case; matched after lower-casing and trimming the input
	Usage   string   // one line for the commands' --help
	// Spec is the dataset's classes, input shape and normalisation; nil when the data says
	// (folder: the run's Spec is recorded in its config.json).
	Spec *Spec
	// Attributes name the bias attribute's values (the indices its files give); nil: the
	// class names, one value per class.
	Attributes []string
	// Preset is the reference's settings for the dataset and a model ("" = its default).
	Preset func(model string) Preset
	// Shares are the conflict shares the published release ships, each a <share>pct folder;
	// nil: the data is not chosen by a share (celeba, folder), and a run of it records none.
	Shares []Share
	// Dir is the dataset's folder under the data root; "" = Name.
	Dir string
	// OneValid: the release ships one valid/ folder for every share, beside the <share>pct
	// folders (bffhq), instead of <share>pct/valid.
	OneValid bool
	// MineWithBiased: the reference mines with the biased (GCE) network, never the vanilla
	// one, whatever select_with_gce says (CelebA).
	MineWithBiased bool

	sources func(in *Info, req *Request, split string) ([]*source, Share, error) // one split's files, its share
	dirSrc  func(in *Info, req *Request, dir string) (*source, error)            // --valid DIR
	prepare func(req *Request) error                                             // before any split: classes (folder)
	tf      transform
	order   int // place in Names and messages
}

// Spec is what a model trained on a dataset takes and gives: the exported graph carries it.
type Spec struct {
	Classes    int       `json:"classes"`
	ClassNames []string  `json:"class_names,omitempty"`
	Input      [3]int    `json:"input"` // C, H, W after the eval transform
	Mean       []float32 `json:"mean,omitempty"`
	Std        []float32 `json:"std,omitempty"`
	// Groups are the bias attribute's values and each class's aligned value, computed from
	// train (folder with a bias column); nil: bias == label (the benchmarks, and config.json
	// written before groups were recorded).
	Groups *metrics.Groups `json:"groups,omitempty"`
}

// Grouping is the Spec's groups: Groups, or where nil, one attribute value per class named
// as the class and aligned with it (bias == label).
func (s Spec) Grouping() metrics.Groups { return groupsOr(s.Groups, s.Classes, s.ClassNames) }

// groupsOr is g, or where nil, the identity groups of classes classes (bias == label).
func groupsOr(g *metrics.Groups, classes int, classNames []string) metrics.Groups {
	if g != nil {
		return *g
	}
	if len(classNames) != classes {
		classNames = indexNames(classes)
	}
	return metrics.Identity(classNames)
}

// Normalisations the commands name; the graph applies them (x-mean)/std.
var (
	ImageNetMean = []float32{0.485, 0.456, 0.406}
	ImageNetStd  = []float32{0.229, 0.224, 0.225}
	CIFARMean    = []float32{0.4914, 0.4822, 0.4465}
	CIFARStd     = []float32{0.2023, 0.1994, 0.2010}
)

// Preset is one dataset's part of a training preset: the settings the reference chose per
// dataset. The rest of a preset is the same for every dataset (driver/dcwp).
type Preset struct {
	Model        string // default model of the paper preset
	BatchSize    int
	PretrainLR   float64
	PretrainStep int // StepLR period; 0 = constant
	PretrainGam  float64
	MiningModel  bool // a separate SGD run trains the mining network
	Ensemble     bool // the ensemble miner
	LambdaSparse float64
	FinetuneLR   float64
	FinetuneStep int
	FinetuneGam  float64
	LambdaUp     func(Share) float64 // λ_up for the run's conflict share (none: celeba, folder)
	Quick        bool                // the quick preset (minutes on a CPU) fits it
	Source       string              // where the settings come from, for --help and the log
}

// transform is the train- and eval-time image transform of a dataset (see Batch).
type transform struct {
	shape    func(s *Split) [3]int                                          // C,H,W Batch returns
	keeps    func(s *Split, train bool) bool                                // pixels pass unchanged
	apply    func(s *Split, out []float32, i int, train bool, r *rand.Rand) // when !keeps
	random   bool                                                           // train draws random numbers
	parallel func(s *Split) bool                                            // worth goroutines
	// words are the resize and the eval-time transform (train's in brackets), for
	// Preprocessing: the one place a deployer reads them.
	words string
}

// registry is filled by the datasets' init functions and only read afterwards.
var registry []*Info

func register(in *Info) {
	registry = append(registry, in)
	slices.SortFunc(registry, func(a, b *Info) int { return a.order - b.order })
}

// Lookup returns the entry of a dataset named by its canonical name or an alias, ignoring
// case and surrounding space. An unknown name is an error that lists the known ones and
// matches ErrUnknown under errors.Is.
func Lookup(name string) (*Info, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, in := range registry {
		if n == in.Name || slices.Contains(in.Aliases, n) {
			return in, nil
		}
	}
	return nil, unknownDatasetError{name}
}

// info is the entry of a canonical name a Split carries; anything else is a programming
// error (a Split not made by the loader) and panics.
func info(name string) *Info {
	for _, in := range registry {
		if in.Name == name {
			return in
		}
	}
	panic(fmt.Sprintf("dataset: Split of %q: Dataset must be one of %v", name, Names()))
}

// Usage is one line per dataset, for the commands' --help.
func Usage() string {
	var b strings.Builder
	for _, in := range registry {
		fmt.Fprintf(&b, "%s: %s\n", in.Name, in.Usage)
	}
	return b.String()
}

// FixedSpec is the Spec of a dataset whose classes and input do not depend on the data; ok is
// false for folder, whose Spec a run records.
func FixedSpec(name string) (s Spec, ok bool, err error) {
	in, err := Lookup(name)
	if err != nil {
		return Spec{}, false, err
	}
	if in.Spec == nil {
		return Spec{}, false, nil
	}
	return *in.Spec, true, nil
}

// indexNames are the class names "0", "1", … of a dataset whose classes are numbered.
func indexNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// SharesUsage lists each dataset's published conflict shares, for the commands' help:
// "cmnist: 0.5, 1, 2, 5; …; none for celeba, folder".
func SharesUsage() string {
	var with, without []string
	for _, in := range registry {
		if in.HasShares() {
			with = append(with, in.Name+": "+sharesText(in.Shares))
		} else {
			without = append(without, in.Name)
		}
	}
	s := strings.Join(with, "; ")
	if len(without) > 0 {
		s += "; none for " + strings.Join(without, ", ")
	}
	return s
}

// HasShares reports whether the data is chosen by a conflict share (Shares).
func (in *Info) HasShares() bool { return len(in.Shares) > 0 }

// Fixed reports whether a known dataset's classes and input do not depend on the data.
func Fixed(name string) bool {
	in, err := Lookup(name)
	return err == nil && in.Spec != nil
}
