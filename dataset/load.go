package dataset

import (
	"fmt"
	"path/filepath"
	"slices"
)

// Load reads <root>/<dataset>/... for the given conflict pct ("0.5","1","2","5";
// ignored for test and for celeba) and split ("train", "valid", "test").
// train = {pct}pct/align + {pct}pct/conflict; valid = {pct}pct/valid
// (bffhq: <root>/bffhq/valid); test = test/. Decoded folders are cached in
// <folder>/.dcwp-cache.bin (celeba: <root>/celebA/.dcwp-cache-<split>.bin) and
// reread from there while the folder's file names, sizes and mtimes are
// unchanged.
func Load(root, name, pct, split string) (*Split, error) {
	return Loader{}.Load(root, name, pct, split)
}

// Load is the package-level Load with the loader's settings.
func (l Loader) Load(root, name, pct, split string) (*Split, error) {
	ds, classes, err := datasetClasses(name)
	if err != nil {
		return nil, err
	}
	sp, err := canonicalSplit(split)
	if err != nil {
		return nil, err
	}
	srcs, pctName, err := splitSources(root, ds, sp, pct, classes)
	if err != nil {
		return nil, err
	}
	s := &Split{Dataset: ds, Name: sp, Pct: pctName, Classes: classes}
	if err := l.join(s, srcs); err != nil {
		return nil, fmt.Errorf("dataset %s %s: %w", ds, sp, err)
	}
	return s, nil
}

// LoadDir reads every image below dir whose name ends in _<label>_<bias>.<ext>,
// without cache, as a split of the given dataset. Useful for ad-hoc folders.
func LoadDir(dir, name string) (*Split, error) { return Loader{}.LoadDir(dir, name) }

// LoadDir is the package-level LoadDir with the loader's settings.
func (l Loader) LoadDir(dir, name string) (*Split, error) {
	ds, classes, err := datasetClasses(name)
	if err != nil {
		return nil, err
	}
	src, err := folderSource(dir, classes)
	if err != nil {
		return nil, err
	}
	src.cachePath = ""
	p, err := src.load(ds, l, 0)
	if err != nil {
		return nil, err
	}
	return &Split{Dataset: ds, Name: filepath.Base(dir), Classes: classes, C: p.c, H: p.h, W: p.w,
		Images: p.images, Labels: src.labels, Bias: src.bias, Paths: src.paths}, nil
}

// datasetClasses resolves a dataset name and its class count.
func datasetClasses(name string) (string, int, error) {
	ds, err := Canonical(name)
	if err != nil {
		return "", 0, err
	}
	classes, err := NumClasses(ds)
	return ds, classes, err
}

// splitSources lists the files one split joins, with the pct they were chosen by:
// celeba's from its metadata CSV, the others' from their image folders.
func splitSources(root, ds, sp, pct string, classes int) ([]*source, string, error) {
	switch ds {
	case CelebA:
		src, err := celebASource(root, sp)
		if err != nil {
			return nil, "", err
		}
		return []*source{src}, "", nil
	case CMNIST, CIFAR10C, BFFHQ:
		dirs, pctName, err := folderDirs(root, ds, sp, pct)
		if err != nil {
			return nil, "", err
		}
		srcs := make([]*source, len(dirs))
		for i, d := range dirs {
			if srcs[i], err = folderSource(d, classes); err != nil {
				return nil, "", fmt.Errorf("dataset %s %s: %w", ds, sp, err)
			}
		}
		return srcs, pctName, nil
	default:
		return nil, "", fmt.Errorf("dataset %s: internal: no layout", ds)
	}
}

// join loads srcs and appends their samples to s in order; all must hold
// images of one size.
func (l Loader) join(s *Split, srcs []*source) error {
	parts := make([]*part, len(srcs))
	for k, src := range srcs {
		p, err := src.load(s.Dataset, l, spareAfter(srcs, k))
		if err != nil {
			return err
		}
		if k == 0 {
			s.C, s.H, s.W = p.c, p.h, p.w
		} else if p.c != s.C || p.h != s.H || p.w != s.W {
			return fmt.Errorf("%s holds %dx%dx%d images, %s holds %dx%dx%d: %w",
				src.dir, p.c, p.h, p.w, srcs[0].dir, s.C, s.H, s.W, ErrImageSize)
		}
		parts[k] = p
		s.Labels = append(s.Labels, src.labels...)
		s.Bias = append(s.Bias, src.bias...)
		s.Paths = append(s.Paths, src.paths...)
	}
	s.Images = joinImages(parts)
	return nil
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
