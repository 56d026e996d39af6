package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CelebA metadata, relative to <root>/celebA.
const (
	CelebAImageDir = "celeba/img_align_celeba"
	CelebACSV      = "metadata_blonde_subsampled.csv"
)

// DirName is the folder name of a dataset under the data root. An unknown name
// comes back lower-cased and trimmed, as the folder the loader would look for.
func DirName(name string) string {
	in, err := Lookup(name)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(name))
	}
	if in.Dir != "" {
		return in.Dir
	}
	return in.Name
}

// folderDirs lists the image folders one split of a folder-layout dataset
// (cmnist, cifar10c, bffhq) joins, and the conflict share they were chosen by (none when
// the split does not depend on it):
//
//	train = <share>pct/align + <share>pct/conflict
//	valid = <share>pct/valid (Info.OneValid: valid/)
//	test  = test/
func folderDirs(in *Info, root, sp string, share Share) (dirs []string, used Share, err error) {
	ds := in.Name
	base := filepath.Join(root, DirName(ds))
	switch {
	case sp == Test:
		return []string{filepath.Join(base, "test")}, Share{}, nil
	case sp == Valid && in.OneValid:
		return []string{filepath.Join(base, "valid")}, Share{}, nil
	}
	if share.IsZero() {
		return nil, Share{}, fmt.Errorf("dataset %s %s: %w: none given (the published ones: %s)", ds, sp, ErrShare, sharesText(in.Shares))
	}
	pd := share.Dir()
	switch sp {
	case Train:
		return []string{filepath.Join(base, pd, "align"), filepath.Join(base, pd, "conflict")}, share, nil
	case Valid:
		return []string{filepath.Join(base, pd, "valid")}, share, nil
	default:
		return nil, Share{}, fmt.Errorf("dataset %s: split %q: %w (want train, valid or test)", ds, sp, ErrUnknown)
	}
}

// sharesText lists shares for messages: "0.5, 1, 2, 5".
func sharesText(ss []Share) string {
	t := make([]string, len(ss))
	for i, s := range ss {
		t[i] = s.String()
	}
	return strings.Join(t, ", ")
}

// celebABase is <root>/celebA, or <root>/celeba when only that spelling exists.
func celebABase(root string) string {
	base := filepath.Join(root, "celebA")
	if _, err := os.Stat(base); err != nil {
		if alt := filepath.Join(root, "celeba"); dirExists(alt) {
			return alt
		}
	}
	return base
}

// benchmarkSources lists the image folders of one split of cmnist, cifar10c or bffhq. A
// missing valid folder is ErrNoSplit (the published Colored MNIST as most build scripts write
// it has none): Open carves one from train.
func benchmarkSources(in *Info, req *Request, sp string) ([]*source, Share, error) {
	ds := in.Name
	dirs, used, err := folderDirs(in, req.Root, sp, req.Share)
	if err != nil {
		return nil, Share{}, err
	}
	srcs := make([]*source, len(dirs))
	for i, d := range dirs {
		if sp == Valid && !dirExists(d) {
			return nil, Share{}, fmt.Errorf("dataset %s: no folder %s: %w", ds, d, ErrNoSplit)
		}
		if srcs[i], err = folderSource(d, in.Spec.Classes); err != nil {
			return nil, Share{}, fmt.Errorf("dataset %s %s: %w", ds, sp, err)
		}
	}
	return srcs, used, nil
}

// benchmarkDir reads a folder of <idx>_<label>_<bias>.<ext> images (--valid DIR).
func benchmarkDir(in *Info, _ *Request, dir string) (*source, error) {
	return folderSource(dir, in.Spec.Classes)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
