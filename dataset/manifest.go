package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A folder dataset's CSV manifest: a header naming the columns path, label and split (any
// order, any case; other columns are ignored) and optionally bias. One image per row; path
// is relative to the manifest's folder (or absolute). Without a bias column, or with it
// empty on every row of a split, that split has no bias labels. bias is a value of the
// spurious attribute, a string of its own (see groups.go), not a class.

// manifestRow is one image of the manifest.
type manifestRow struct {
	line              int
	path, label, bias string
}

// manifestColumns are the columns read: the first three are required.
var manifestColumns = [4]string{"path", "label", "split", "bias"}

// readManifest parses a manifest into its rows by canonical split name. Every row is checked
// for a known split, a path and a label; a path listed twice is an error naming both lines.
func readManifest(r io.Reader, name string) (map[string][]manifestRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("manifest %s: header: %w: %w", name, ErrBadCSV, err)
	}
	col := [4]int{-1, -1, -1, -1}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if k := slices.Index(manifestColumns[:], h); k >= 0 && col[k] < 0 {
			col[k] = i
		}
	}
	for k, n := range manifestColumns[:3] {
		if col[k] < 0 {
			return nil, fmt.Errorf("manifest %s: no column %q (have %s; want path, label, split and optionally bias): %w",
				name, n, strings.Join(header, ","), ErrBadCSV)
		}
	}
	rows := map[string][]manifestRow{}
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w: %w", name, ErrBadCSV, err)
		}
		row, sp, err := manifestRecord(rec, col, line)
		if err != nil {
			return nil, fmt.Errorf("manifest %s line %d: %w", name, line, err)
		}
		key := filepath.Clean(row.path)
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("manifest %s line %d: path %s is listed again (first on line %d): %w", name, line, row.path, first, ErrBadCSV)
		}
		seen[key] = line
		rows[sp] = append(rows[sp], row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("manifest %s: no rows: %w", name, ErrNoImages)
	}
	return rows, nil
}

// manifestRecord checks one row and returns it with its canonical split.
func manifestRecord(rec []string, col [4]int, line int) (manifestRow, string, error) {
	get := func(k int) string {
		if col[k] < 0 || col[k] >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[col[k]])
	}
	row := manifestRow{line: line, path: get(0), label: get(1), bias: get(3)}
	sp, err := canonicalSplit(get(2))
	switch {
	case err != nil:
		return row, "", fmt.Errorf("split %q: want train, valid or test: %w", get(2), ErrBadCSV)
	case row.path == "":
		return row, "", fmt.Errorf("empty path: %w", ErrBadCSV)
	case row.label == "":
		return row, "", fmt.Errorf("empty label: %w", ErrBadCSV)
	}
	return row, sp, nil
}

// prepareManifest reads the manifest and settles the class names: the request's, or train's
// labels (0…max when every one is an index, else the sorted names).
func prepareManifest(req *Request) error {
	f, err := os.Open(req.Root)
	if err != nil {
		return fmt.Errorf("dataset folder: manifest: %w", err)
	}
	defer f.Close()
	if req.rows, err = readManifest(f, req.Root); err != nil {
		return fmt.Errorf("dataset folder: %w", err)
	}
	if req.Classes != nil {
		req.classes = req.Classes
		return manifestGroups(req)
	}
	train := req.rows[Train]
	if len(train) == 0 {
		return fmt.Errorf("dataset folder: manifest %s has no train rows (the classes are train's labels): %w", req.Root, ErrNoImages)
	}
	req.classes = manifestClasses(train)
	if len(req.classes) < 2 {
		return fmt.Errorf("dataset folder: manifest %s: train has %d class, want at least 2", req.Root, len(req.classes))
	}
	return manifestGroups(req)
}

// manifestClasses are the class names train's labels make.
func manifestClasses(train []manifestRow) []string {
	maxIdx, names := -1, map[string]bool{}
	for _, r := range train {
		names[r.label] = true
		if k, err := strconv.Atoi(r.label); err == nil && k >= 0 && k < 1<<16 && maxIdx > -2 {
			maxIdx = max(maxIdx, k)
		} else {
			maxIdx = -2 // a name: the classes are names
		}
	}
	if maxIdx >= 0 {
		return indexNames(maxIdx + 1)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// manifestSource is the manifest's rows of one split, every file checked to exist.
func manifestSource(req *Request, sp string) (*source, error) {
	rows := req.rows[sp]
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset folder: manifest %s has no %s rows: %w", req.Root, sp, ErrNoSplit)
	}
	st, err := os.Stat(req.Root)
	if err != nil {
		return nil, fmt.Errorf("dataset folder: manifest: %w", err)
	}
	base := filepath.Dir(req.Root)
	src := &source{dir: base, cacheID: "manifest " + filepath.Base(req.Root) + " " + sp,
		keyExtra: fmt.Sprintf("csv %d %d", st.Size(), st.ModTime().UnixNano())}
	withBias := rows[0].bias != ""
	if err := checkBiasValues(req, sp, rows); err != nil {
		return nil, fmt.Errorf("dataset folder: manifest %s: %w", req.Root, err)
	}
	for _, r := range rows {
		if err := src.addRow(req, r, withBias); err != nil {
			return nil, fmt.Errorf("dataset folder: manifest %s line %d: %w", req.Root, r.line, err)
		}
	}
	if !withBias {
		src.bias = nil
	}
	return src, nil
}

// addRow adds one row's image, label and bias.
func (src *source) addRow(req *Request, r manifestRow, withBias bool) error {
	p := r.path
	if !filepath.IsAbs(p) {
		p = filepath.Join(src.dir, p)
	}
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("image %s: %w", p, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("image %s: not a regular file", p)
	}
	l, ok := classIndex(req.classes, r.label)
	if !ok {
		return fmt.Errorf("label %q is not a class (%s) or class index: %w", r.label, strings.Join(req.classes, ", "), ErrBadCSV)
	}
	b := -1
	if (r.bias != "") != withBias {
		return fmt.Errorf("bias is empty on some rows of the split and not on others (give it on all or none): %w", ErrBadCSV)
	}
	if withBias {
		b = req.biasIndex(r.bias) // checkBiasValues placed every value
	}
	src.add(p, info, int32(l), int32(b))
	return nil
}
