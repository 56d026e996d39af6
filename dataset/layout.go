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
	ds, err := Canonical(name)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(name))
	}
	if ds == CelebA {
		return "celebA"
	}
	return ds
}

// folderDirs lists the image folders one split of a folder-layout dataset
// (cmnist, cifar10c, bffhq) joins, and the pct they were chosen by ("" when the
// split does not depend on it):
//
//	train = <pct>pct/align + <pct>pct/conflict
//	valid = <pct>pct/valid (bffhq: valid/)
//	test  = test/
func folderDirs(root, ds, sp, pct string) (dirs []string, pctName string, err error) {
	base := filepath.Join(root, DirName(ds))
	switch {
	case sp == Test:
		return []string{filepath.Join(base, "test")}, "", nil
	case sp == Valid && ds == BFFHQ: // bffhq ships one valid split for every pct
		return []string{filepath.Join(base, "valid")}, "", nil
	}
	pd, err := PctDir(pct)
	if err != nil {
		return nil, "", fmt.Errorf("dataset %s: %w", ds, err)
	}
	pctName = strings.TrimSuffix(pd, "pct")
	switch sp {
	case Train:
		return []string{filepath.Join(base, pd, "align"), filepath.Join(base, pd, "conflict")}, pctName, nil
	case Valid:
		return []string{filepath.Join(base, pd, "valid")}, pctName, nil
	default:
		return nil, "", fmt.Errorf("dataset %s: split %q: %w (want train, valid or test)", ds, sp, ErrUnknown)
	}
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
func benchmarkSources(in *Info, req *Request, sp string) ([]*source, string, error) {
	ds := in.Name
	dirs, pctName, err := folderDirs(req.Root, ds, sp, req.Pct)
	if err != nil {
		return nil, "", err
	}
	srcs := make([]*source, len(dirs))
	for i, d := range dirs {
		if sp == Valid && !dirExists(d) {
			return nil, "", fmt.Errorf("dataset %s: no folder %s: %w", ds, d, ErrNoSplit)
		}
		if srcs[i], err = folderSource(d, in.Spec.Classes); err != nil {
			return nil, "", fmt.Errorf("dataset %s %s: %w", ds, sp, err)
		}
	}
	return srcs, pctName, nil
}

// benchmarkDir reads a folder of <idx>_<label>_<bias>.<ext> images (--valid DIR).
func benchmarkDir(in *Info, _ *Request, dir string) (*source, error) {
	return folderSource(dir, in.Spec.Classes)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
