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

	"github.com/dcwp-go/dcwp/internal/readlimit"
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

// MaxManifest bounds a manifest file: a million rows take about 60 MB.
const MaxManifest = 1 << 30

// readManifest parses a manifest into its rows by canonical split name. Every row is checked
// for a known split, a path and a label; an image listed twice (in any spelling of its path:
// relative to the manifest's folder, absolute, with ./ or ..) is an error naming both lines.
// Line numbers are the file's lines, whatever quoted newlines the rows hold.
func readManifest(r io.Reader, name string) (map[string][]manifestRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("manifest %s: header: %w: %w", name, ErrBadCSV, err)
	}
	col, err := manifestHeader(header)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	base, _ := filepath.Abs(filepath.Dir(name))
	rows := map[string][]manifestRow{}
	type first struct {
		line int
		path string
	}
	seen := map[string]first{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w: %w", name, ErrBadCSV, err)
		}
		line, _ := cr.FieldPos(0)
		row, sp, err := manifestRecord(rec, col, line)
		if err != nil {
			return nil, fmt.Errorf("manifest %s line %d: %w", name, line, err)
		}
		key := row.path
		if !filepath.IsAbs(key) {
			key = filepath.Join(base, key)
		}
		key = filepath.Clean(key)
		if f, dup := seen[key]; dup {
			return nil, fmt.Errorf("manifest %s line %d: path %s is listed again (first on line %d as %s): %w",
				name, line, row.path, f.line, f.path, ErrBadCSV)
		}
		seen[key] = first{line, row.path}
		rows[sp] = append(rows[sp], row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("manifest %s: no rows: %w", name, ErrNoImages)
	}
	return rows, nil
}

// manifestHeader finds the columns read. A column given twice, a header that is the whole
// file (line ends of a lone CR, which the CSV reader does not take for one) and a column
// whose name is nearly one the manifest reads are errors: each would otherwise be read as
// something else without a word (the first column of two, no bias at all).
func manifestHeader(header []string) ([4]int, error) {
	col := [4]int{-1, -1, -1, -1}
	have := make([]string, len(header))
	for i, h := range header {
		if strings.ContainsRune(h, '\r') {
			return col, fmt.Errorf("the header holds a carriage return: its lines end in a lone CR (old Mac style); save it with LF or CRLF line ends: %w", ErrBadCSV)
		}
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		have[i] = h
		k := slices.Index(manifestColumns[:], h)
		if k < 0 {
			continue
		}
		if col[k] >= 0 {
			return col, fmt.Errorf("column %q is given twice (columns %d and %d): %w", h, col[k]+1, i+1, ErrBadCSV)
		}
		col[k] = i
	}
	for k, want := range manifestColumns {
		if col[k] >= 0 {
			continue
		}
		for _, h := range have {
			if nearName(h, want) {
				return col, fmt.Errorf("column %q is not one the manifest reads; did you mean %q? (columns: path, label, split and optionally bias; others are ignored): %w", h, want, ErrBadCSV)
			}
		}
		if k < 3 {
			return col, fmt.Errorf("no column %q (have %.200s; want path, label, split and optionally bias): %w",
				want, strings.Join(have, ","), ErrBadCSV)
		}
	}
	return col, nil
}

// nearName reports whether a column name looks like a misspelling of want: one edit or one
// swap of neighbours away, or want with something added after it ("bias_label", "biases").
func nearName(h, want string) bool {
	if h == want || len(h) < 2 {
		return false
	}
	return strings.HasPrefix(h, want) || osaDistance(h, want) <= 1
}

// osaDistance is the optimal-string-alignment edit distance of a and b (insertions,
// deletions, substitutions and swaps of neighbours), on bytes: column names are short.
func osaDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
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
	f, err := readlimit.Open(req.Root, MaxManifest)
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
	if req.classes, err = manifestClasses(train); err != nil {
		return fmt.Errorf("dataset folder: manifest %s %w", req.Root, err)
	}
	if len(req.classes) < 2 {
		return fmt.Errorf("dataset folder: manifest %s: train has %d class, want at least 2", req.Root, len(req.classes))
	}
	return manifestGroups(req)
}

// MaxClasses bounds the class count (an index label past it is refused, not taken as a name).
const MaxClasses = 1 << 16

// manifestClasses are the class names train's labels make: "0"…"max" when every label is an
// integer, which must then be an index below MaxClasses (a label -1 or 65536 among indices
// would otherwise turn every label into a name, sorted as text), else the sorted names.
func manifestClasses(train []manifestRow) ([]string, error) {
	maxIdx, names := -1, map[string]bool{}
	var bad *manifestRow
	for i, r := range train {
		names[r.label] = true
		k, err := strconv.Atoi(r.label)
		switch {
		case err != nil:
			maxIdx = -2 // a name: the classes are names
		case k < 0 || k >= MaxClasses:
			if bad == nil {
				bad = &train[i]
			}
		case maxIdx > -2:
			maxIdx = max(maxIdx, k)
		}
	}
	if bad != nil && maxIdx > -2 {
		return nil, fmt.Errorf("line %d: label %s: integer labels are class indices, 0 to %d: %w", bad.line, bad.label, MaxClasses-1, ErrBadCSV)
	}
	if maxIdx >= 0 {
		return indexNames(maxIdx + 1), nil
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
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
	l, err := classValue(req.classes, "label", r.label)
	if err != nil {
		return err
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

// classValue resolves a label or bias value of a manifest row to its class index (see
// classIndex); what is not a class is an error that says why.
func classValue(classes []string, what, v string) (int, error) {
	if k, ok := classIndex(classes, v); ok {
		return k, nil
	}
	if _, err := strconv.Atoi(v); err == nil && !isIndexNames(classes) {
		return 0, fmt.Errorf("%s %q: the classes are names (%.200s), so a %s must be one of them; an index is not read as a position among the sorted names: %w",
			what, v, strings.Join(classes, ", "), what, ErrBadCSV)
	}
	return 0, fmt.Errorf("%s %q is not a class (%.200s): %w", what, v, strings.Join(classes, ", "), ErrBadCSV)
}
