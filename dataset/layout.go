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

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
