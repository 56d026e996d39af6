package dataset

import (
	"encoding/csv"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// CelebA (Liu et al. 2015), Blond_Hair biased by Male, as subsampled by the reference:
//
//	<root>/celebA/celeba/img_align_celeba/<image_id>
//	<root>/celebA/metadata_blonde_subsampled.csv  (image_id, split, Blond_Hair, Male)
func init() {
	register(&Info{
		Name: CelebA, Dir: "celebA", order: 3,
		Usage: "CelebA, blond hair biased by gender, from its metadata CSV, 224×224",
		Spec: &Spec{Classes: 2, ClassNames: []string{"not_blond", "blond"}, Input: [3]int{3, 224, 224},
			Mean: ImageNetMean, Std: ImageNetStd},
		Attributes: []string{"female", "male"}, // the Male column
		Preset: func(string) Preset {
			return Preset{Model: "resnet18", BatchSize: 128, PretrainLR: 1e-4, LambdaSparse: 5e-6, FinetuneLR: 5e-4,
				LambdaUp: func(Share) float64 { return 20 }, Source: "the reference's CelebA settings"}
		},
		MineWithBiased: true,
		sources: func(_ *Info, req *Request, split string) ([]*source, Share, error) {
			src, err := celebASource(req.Root, split)
			return []*source{src}, Share{}, err
		},
		dirSrc: benchmarkDir,
		tf: transform{shape: func(s *Split) [3]int { return [3]int{s.C, 224, 224} }, random: true,
			words: "eval: the shorter side resized to 256 (the longer to floor(256·long/short)), " + Bilinear +
				", then the centre 224×224 (offset (size−224)/2 rounded half to even) (train: random resized crop, scale 0.7–1, ratio 3/4–4/3, to 224×224, horizontal flip p 0.5)",
			keeps: func(*Split, bool) bool { return false }, parallel: func(*Split) bool { return true },
			apply: celebATransform},
	})
}

// celebATransform: train: random-resized-crop 224, scale (0.7,1), ratio (3/4,4/3) +
// horizontal flip; eval: resize shorter side to 256 + centre crop 224.
func celebATransform(s *Split, out []float32, i int, train bool, r *rand.Rand) {
	img := s.Image(i)
	if train {
		top, left, h, w := randomResizedCrop(r, s.H, s.W, 0.7, 1, 3.0/4, 4.0/3)
		res := resizeCHW(img, s.C, s.H, s.W, image.Rect(left, top, left+w, top+h), 224, 224)
		toFloat(out, res, s.C, 224, 224, r.Float64() < 0.5)
		return
	}
	rh, rw := resizeShorter(s.H, s.W, 256)
	res := resizeCHW(img, s.C, s.H, s.W, image.Rect(0, 0, s.W, s.H), rh, rw)
	top := roundHalfEven(float64(rh-224) / 2)
	left := roundHalfEven(float64(rw-224) / 2)
	cropToFloat(out, res, s.C, rh, rw, top, left, 224, 224)
}

// celebAColumns are the metadata columns the loader reads: the image, its split
// code, the target (Blond_Hair) and the bias (Male).
var celebAColumns = [4]string{"image_id", "split", "Blond_Hair", "Male"}

// celebASource reads the metadata CSV and selects the rows of one split.
func celebASource(root, split string) (*source, error) {
	want, err := celebASplitCode(split)
	if err != nil {
		return nil, err
	}
	base := celebABase(root)
	csvPath := filepath.Join(base, CelebACSV)
	f, err := readlimit.Open(csvPath, MaxManifest)
	if err != nil {
		return nil, fmt.Errorf("dataset celeba: metadata: %w", err)
	}
	defer f.Close()
	st := f.Info
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	col, err := celebAHeader(r)
	if err != nil {
		return nil, fmt.Errorf("dataset celeba: metadata %s: %w", csvPath, err)
	}
	imgDir := filepath.Join(base, CelebAImageDir)
	src := &source{dir: imgDir, cacheID: "celeba " + split,
		keyExtra: fmt.Sprintf("csv %s %d %d", csvPath, st.Size(), st.ModTime().UnixNano())}
	if err := src.readCelebARows(r, csvPath, col, want); err != nil {
		return nil, err
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("dataset celeba: metadata %s: no rows with split=%d (%s): %w", csvPath, want, split, ErrNoImages)
	}
	return src, nil
}

// celebASplitCode is the metadata's code of a split.
func celebASplitCode(split string) (int, error) {
	switch split {
	case Train:
		return 0, nil
	case Valid:
		return 1, nil
	case Test:
		return 2, nil
	default:
		return 0, fmt.Errorf("dataset celeba: split %q: %w (want train, valid or test)", split, ErrUnknown)
	}
}

// celebAHeader reads the header and returns the index of each of celebAColumns.
func celebAHeader(r *csv.Reader) ([4]int, error) {
	var idx [4]int
	header, err := r.Read()
	if err != nil {
		return idx, fmt.Errorf("header: %w: %w", ErrBadCSV, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for k, n := range celebAColumns {
		i, ok := col[n]
		if !ok {
			return idx, fmt.Errorf("missing column %q (have %s): %w", n, strings.Join(header, ","), ErrBadCSV)
		}
		idx[k] = i
	}
	return idx, nil
}

// readCelebARows adds the images of the rows whose split code is want. Every
// row's integers are checked, the image and attributes only of the rows kept.
func (src *source) readCelebARows(r *csv.Reader, csvPath string, col [4]int, want int) error {
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dataset celeba: metadata %s: %w: %w", csvPath, ErrBadCSV, err)
		}
		v, err := celebAInts(rec, col)
		if err == nil && v[0] == want {
			err = src.addCelebA(field(rec, col[0]), v[1], v[2])
		}
		if err != nil {
			return fmt.Errorf("dataset celeba: metadata %s line %d: %w", csvPath, line, err)
		}
	}
}

// celebAInts parses a row's split code, Blond_Hair and Male.
func celebAInts(rec []string, col [4]int) ([3]int, error) {
	var v [3]int
	for k := 1; k < 4; k++ {
		if col[k] >= len(rec) {
			return v, fmt.Errorf("no %s value: %w", celebAColumns[k], ErrBadCSV)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(rec[col[k]]), 64)
		if err != nil || x != float64(int(x)) {
			return v, fmt.Errorf("%s=%q is not an integer: %w", celebAColumns[k], rec[col[k]], ErrBadCSV)
		}
		v[k-1] = int(x)
	}
	return v, nil
}

// field is rec[i], or "" when the row is too short to have it.
func field(rec []string, i int) string {
	if i < len(rec) {
		return rec[i]
	}
	return ""
}

// addCelebA adds the image of one row.
func (src *source) addCelebA(id string, blond, male int) error {
	id = strings.TrimSpace(id)
	if id == "" {
		return fmt.Errorf("empty image_id: %w", ErrBadCSV)
	}
	lab, bia := attr01(blond), attr01(male)
	if lab < 0 || bia < 0 {
		return fmt.Errorf("Blond_Hair=%d Male=%d, want 0/1 (or -1/1): %w", blond, male, ErrBadCSV)
	}
	src.paths = append(src.paths, filepath.Join(src.dir, id))
	src.labels = append(src.labels, int32(lab))
	src.bias = append(src.bias, int32(bia))
	return nil
}

// attr01 maps an attribute to 0/1 (the CSV may use -1 for "no"); -1 means invalid.
func attr01(v int) int {
	switch v {
	case 0, -1:
		return 0
	case 1:
		return 1
	default:
		return -1
	}
}
