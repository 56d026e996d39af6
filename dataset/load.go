package dataset

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcwp-go/dcwp/metrics"
)

// Request says which data to load.
type Request struct {
	Root string // data root holding <dataset>/... (benchmarks); the folder or CSV manifest (folder)
	Name string // dataset, as Canonical accepts
	// Share picks the <share>pct folder of the benchmarks' train and valid splits; unused
	// for test, celeba and folder.
	Share Share
	// ImageSize is the H, W folder images are resized to; zero: the first training image's.
	ImageSize [2]int
	// Valid is where the validation split comes from: ValidAuto (the layout's, carved from
	// train when it has none), ValidCarve, or a folder in the layout's own form.
	Valid      string
	ValidShare float64 // share of each group (class) carved from train; 0: DefaultValidShare
	// Carved is a resumed run's record of its carve: its share and strata are used as they
	// were, so that the run validates on the same images; nil: a new carve.
	Carved *ValidFrom
	// Classes are the class names of a folder dataset (a model's); nil: train's.
	Classes []string
	// Groups are the bias attribute's values and each class's aligned value, a model's or a
	// resumed run's (see groups.go); nil: train's, computed from its bias labels.
	Groups *metrics.Groups
	// Mean and Std are a folder dataset's normalisation (nil: none); the benchmarks have theirs.
	Mean, Std []float32

	classes []string        // resolved by the dataset's prepare (folder)
	groups  *metrics.Groups // resolved by prepare (manifest) or from train; nil: bias == label
	// attrIndex maps a manifest's bias values to their index (groups.go).
	attrIndex map[string]int
	rows      map[string][]manifestRow
	mem       *memBudget // the room left for decoded images, shared by the splits of one Open
}

// Ways the validation split is made (Request.Valid).
const (
	ValidAuto  = ""
	ValidCarve = "carve"
	// DefaultValidShare of every group (or class) of train becomes the validation split when
	// carved (carve.go).
	DefaultValidShare = 0.1
	// CarveSeed seeds the carve-out: fixed, so that every run (any --seed) of the same data
	// validates on the same images.
	CarveSeed = 0
)

// ValidFrom records how the validation split was made (config.json's valid_split).
type ValidFrom struct {
	From  string  `json:"from"`            // "layout", "carve" or the folder given
	Share float64 `json:"share,omitempty"` // carve: share of each group (By) of train
	Seed  uint64  `json:"seed"`            // carve: CarveSeed
	Count int     `json:"count"`           // images in the validation split
	// By is what a carve takes its share of: CarveByGroup, or "" (CarveByClass) each class, as
	// train without attribute values is carved and every run carved before groups was.
	By string `json:"by,omitempty"`
}

// String says it in words, for the log.
func (v ValidFrom) String() string {
	switch v.From {
	case "layout":
		return fmt.Sprintf("validation: the data's own valid split (%d images)", v.Count)
	case ValidCarve:
		each := "class"
		if v.By == CarveByGroup {
			each = "(label, attribute) group"
		}
		return fmt.Sprintf("validation: %d images carved from train (%.0f%% of each %s, seed %d); train keeps the rest", v.Count, 100*v.Share, each, v.Seed)
	default:
		return fmt.Sprintf("validation: %d images from %s", v.Count, v.From)
	}
}

// Data is a dataset's three splits, what a model of it takes (Spec), and how valid was made.
type Data struct {
	Train, Valid, Test *Split
	Spec               Spec
	ValidFrom          ValidFrom
	Prep               Prep // what loading did to the images of all three splits
}

// Open loads the train, valid and test splits of a dataset.
func Open(req Request) (*Data, error) { return Loader{}.Open(req) }

// Open is the package-level Open with the loader's settings.
func (l Loader) Open(req Request) (*Data, error) {
	in, err := Lookup(req.Name)
	if err != nil {
		return nil, err
	}
	if in.Spec != nil && (req.Mean != nil || req.Std != nil || req.ImageSize != [2]int{}) {
		return nil, fmt.Errorf("dataset %s: its input size and normalisation are the benchmark's own (image size and normalisation are for folder)", in.Name)
	}
	if err := CheckImageSize(req.ImageSize); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", in.Name, err)
	}
	if in.prepare != nil {
		if err := in.prepare(&req); err != nil {
			return nil, err
		}
	}
	req.mem = l.budget()
	d := &Data{}
	if d.Train, err = l.split(in, &req, Train); err != nil {
		return nil, err
	}
	if in.Spec != nil {
		if err := benchmarkGroups(in, &req, d.Train); err != nil {
			return nil, err
		}
	}
	if req.ImageSize == [2]int{} {
		req.ImageSize = [2]int{d.Train.H, d.Train.W}
	}
	if d.Test, err = l.split(in, &req, Test); err != nil {
		return nil, err
	}
	loaded := d.Train.Prep.Add(d.Test.Prep) // before a carve replaces train by a Subset
	if err := l.valid(in, &req, d); err != nil {
		return nil, err
	}
	d.Prep = loaded.Add(d.Valid.Prep)
	d.Spec = l.spec(in, &req, d.Train)
	return d, nil
}

// spec is the dataset's fixed Spec, or a folder dataset's from its data and request.
func (l Loader) spec(in *Info, req *Request, train *Split) Spec {
	if in.Spec != nil {
		s := *in.Spec
		s.Groups = req.groups
		return s
	}
	return Spec{Classes: train.Classes, ClassNames: train.ClassNames, Input: train.InputShape(), Mean: req.Mean, Std: req.Std,
		Groups: req.groups}
}

// valid loads or carves the validation split.
func (l Loader) valid(in *Info, req *Request, d *Data) error {
	var err error
	switch req.Valid {
	case ValidAuto:
		d.Valid, err = l.split(in, req, Valid)
		if err == nil {
			d.ValidFrom = ValidFrom{From: "layout", Count: d.Valid.Len()}
			return nil
		}
		if !errors.Is(err, ErrNoSplit) {
			return err
		}
		fallthrough
	case ValidCarve:
		share := req.ValidShare
		if req.Carved != nil {
			share = req.Carved.Share
		}
		if share == 0 {
			share = DefaultValidShare
		}
		if !(share > 0 && share < 1) {
			return fmt.Errorf("validation share %g: want a fraction between 0 and 1", share)
		}
		by := carveBy(req, d.Train)
		d.Train, d.Valid, err = Carve(d.Train, share, CarveSeed, by)
		d.ValidFrom = ValidFrom{From: ValidCarve, Share: share, Seed: CarveSeed, By: by}
	default:
		var src *source
		if src, err = in.dirSrc(in, req, req.Valid); err == nil {
			d.Valid = &Split{Dataset: in.Name, Name: Valid, Classes: d.Train.Classes, ClassNames: d.Train.ClassNames, Groups: d.Train.Groups}
			err = l.join(d.Valid, []*source{src}, req.mem)
		}
		d.ValidFrom = ValidFrom{From: req.Valid}
	}
	if err != nil {
		return fmt.Errorf("dataset %s valid: %w", in.Name, err)
	}
	d.ValidFrom.Count = d.Valid.Len()
	return nil
}

// Load reads one split ("train", "valid", "test") of a dataset under root for the given
// conflict share: see each dataset's file for its layout. Decoded images are cached in the
// loader's cache directory and reread from there while the files' names, sizes and mtimes
// are unchanged.
func Load(root, name string, share Share, split string) (*Split, error) {
	return Loader{}.Load(root, name, share, split)
}

// Load is the package-level Load with the loader's settings.
func (l Loader) Load(root, name string, share Share, split string) (*Split, error) {
	return l.LoadSplit(Request{Root: root, Name: name, Share: share}, split)
}

// LoadSplit reads one split of the requested data.
func (l Loader) LoadSplit(req Request, split string) (*Split, error) {
	in, err := Lookup(req.Name)
	if err != nil {
		return nil, err
	}
	sp, err := canonicalSplit(split)
	if err != nil {
		return nil, err
	}
	if err := CheckImageSize(req.ImageSize); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", in.Name, err)
	}
	if in.prepare != nil {
		if err := in.prepare(&req); err != nil {
			return nil, err
		}
	}
	req.mem = l.budget()
	if in.Spec != nil {
		if _, err := givenGroups(&req, in.Name, in.Spec.ClassNames); err != nil {
			return nil, err
		}
	}
	return l.split(in, &req, sp)
}

// split loads one split of a dataset.
func (l Loader) split(in *Info, req *Request, sp string) (*Split, error) {
	srcs, share, err := in.sources(in, req, sp)
	if err != nil {
		return nil, err
	}
	s := &Split{Dataset: in.Name, Name: sp, Share: share}
	if in.Spec != nil {
		s.Classes, s.ClassNames = in.Spec.Classes, in.Spec.ClassNames
	} else {
		s.Classes, s.ClassNames = len(req.classes), req.classes
	}
	s.Groups = req.groups
	if err := l.join(s, srcs, req.mem); err != nil {
		return nil, fmt.Errorf("dataset %s %s: %w", in.Name, sp, err)
	}
	return s, nil
}

// LoadDir reads every image below dir whose name ends in _<label>_<bias>.<ext>,
// without cache, as a split of the given benchmark. Useful for ad-hoc folders.
func LoadDir(dir, name string) (*Split, error) { return Loader{}.LoadDir(dir, name) }

// LoadDir is the package-level LoadDir with the loader's settings.
func (l Loader) LoadDir(dir, name string) (*Split, error) {
	spec, ok, err := FixedSpec(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("dataset %s: LoadDir reads the benchmarks' file names; use Open", name)
	}
	ds, _ := Canonical(name)
	src, err := folderSource(dir, spec.Classes)
	if err != nil {
		return nil, err
	}
	l.NoCache = true
	s := &Split{Dataset: ds, Name: filepath.Base(dir), Classes: spec.Classes, ClassNames: spec.ClassNames}
	if err := l.join(s, []*source{src}, l.budget()); err != nil {
		return nil, err
	}
	return s, nil
}

// join loads srcs and appends their samples to s in order; all must hold images of one
// size, unless they resize (folder): then later sources take the first one's size. Each
// buffer is checked against mem before it is allocated.
func (l Loader) join(s *Split, srcs []*source, mem *memBudget) error {
	parts := make([]*part, len(srcs))
	for k, src := range srcs {
		if k > 0 && src.resize && src.size == [2]int{} {
			src.size = [2]int{s.H, s.W}
		}
		p, err := src.load(s.Dataset, l, spareAfter(srcs, k), mem.room(src.dir))
		if err != nil {
			return err
		}
		if k == 0 {
			mem.take(cap(p.images)) // with room for the later parts, which are copied into it
			s.C, s.H, s.W = p.c, p.h, p.w
		} else if p.c != s.C || p.h != s.H || p.w != s.W {
			return fmt.Errorf("%s holds %dx%dx%d images, %s holds %dx%dx%d: %w",
				src.dir, p.c, p.h, p.w, srcs[0].dir, s.C, s.H, s.W, ErrImageSize)
		}
		parts[k] = p
		s.Prep = s.Prep.Add(p.prep)
		s.Labels = append(s.Labels, src.labels...)
		if src.bias != nil {
			s.Bias = append(s.Bias, src.bias...)
		}
		s.Paths = append(s.Paths, src.paths...)
	}
	if s.Bias != nil && len(s.Bias) != len(s.Labels) {
		return fmt.Errorf("%s: some of the split's images have bias labels and some not", strings.Join(dirsOf(srcs), ", "))
	}
	s.Images = joinImages(parts)
	return nil
}

func dirsOf(srcs []*source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.dir
	}
	return out
}

// spareAfter is the room for more images srcs[k]'s part is loaded with: the
// first part gets room for all the others (see joinImages), the rest none.
func spareAfter(srcs []*source, k int) int {
	if k > 0 {
		return 0
	}
	n := 0
	for _, later := range srcs[1:] {
		n += len(later.labels)
	}
	return n
}

// joinImages appends the other parts' images to the first's buffer, which has
// room for them: the split's images are never held twice, which for a
// 55,000-image train split would be the run's peak memory.
func joinImages(parts []*part) []uint8 {
	images := parts[0].images
	for _, p := range parts[1:] {
		images = append(images, p.images...)
	}
	return slices.Clip(images)
}
