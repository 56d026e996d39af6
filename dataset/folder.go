package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Folder is a user's own images, in one of two forms:
//
//	ImageFolder (torchvision's convention): DATA/{train,valid,test}/<class name>/<image>;
//	  the classes are the sorted folder names of train; no bias labels.
//	A CSV manifest, given as --data FILE.csv: columns path (relative to the CSV's folder),
//	  label (class name or index), split (train, valid, test) and an optional bias (the
//	  spurious attribute's value, a string of its own); see manifest.go and groups.go.
//
// PNG and JPEG of any size and channel count are converted to RGB and resized to
// Request.ImageSize (default: the first training image's size), as Preprocessing says. No
// transform beyond that: the pixels are the model's input.
const Folder = "folder"

func init() {
	register(&Info{
		Name: Folder, Aliases: []string{"imagefolder", "image_folder", "csv"}, order: 4,
		Usage: "your own images: --data DIR with {train,valid,test}/<class>/<image>, or --data FILE.csv " +
			"(columns path, label, split, optional bias); resized to --image-size",
		Preset:  folderPreset,
		prepare: prepareFolder,
		sources: folderSources,
		dirSrc:  classFolders,
		tf: transform{shape: storedShape, keeps: func(*Split, bool) bool { return true },
			words: "on loading, an image of another size than the run's H×W (--image-size; default the first training image's) is resized to it, " +
				Bilinear + " (the aspect ratio is not kept, nothing is cropped); no eval or train transform"},
	})
}

// folderPreset: on resnet18 the reference's ResNet-18 real-image settings (BFFHQ's: batch 64,
// Adam 1e-3 for pre-training, λ_sparse 1e-9, Adam 5e-4 for fine-tuning, λ_up 80); on the
// small-image models (cnn, mlp) Colored MNIST's at 1 % (λ_up 50).
func folderPreset(model string) Preset {
	if model == "" || model == "resnet18" {
		p := bffhqPreset
		p.Source = "the reference's ResNet-18 real-image settings (BFFHQ's)"
		return p
	}
	p := info(CMNIST).Preset(model)
	p.Model = "cnn"
	p.LambdaUp = func(Share) float64 { return lambdaUpByPct(MustShare("1")) }
	p.Source = "the reference's small-image settings (Colored MNIST's, λ_up of 1 %)"
	return p
}

func isManifest(root string) bool { return strings.EqualFold(filepath.Ext(root), ".csv") }

// prepareFolder reads the manifest, if it is one, and settles the class names.
func prepareFolder(req *Request) error {
	if req.Root == "" {
		return errors.New("dataset folder: no --data given (a folder with train/<class>/… or a CSV manifest)")
	}
	if isManifest(req.Root) {
		return prepareManifest(req)
	}
	if st, err := os.Stat(req.Root); err == nil && !st.IsDir() {
		return fmt.Errorf("dataset folder: %s is a file, not a folder: a CSV manifest must be named *.csv (want a folder with train/<class name>/<image>, or FILE.csv)", req.Root)
	}
	if req.Classes != nil {
		req.classes = req.Classes
		return nil
	}
	train := filepath.Join(req.Root, Train)
	ents, err := os.ReadDir(train)
	if err != nil {
		return fmt.Errorf("dataset folder: %w (want %s/<class name>/<image>)", err, train)
	}
	for _, e := range ents {
		if isDirEntry(train, e) && !strings.HasPrefix(e.Name(), ".") {
			req.classes = append(req.classes, e.Name())
		}
	}
	if len(req.classes) < 2 {
		return fmt.Errorf("dataset folder: %s holds %d class folders, want at least 2 (%s/<class name>/<image>)", train, len(req.classes), train)
	}
	return nil
}

// isDirEntry reports whether e (in dir) is a folder or a link to one.
func isDirEntry(dir string, e fs.DirEntry) bool {
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}

// folderSources lists one split's images: the split folder's class folders, or the
// manifest's rows of the split.
func folderSources(in *Info, req *Request, sp string) ([]*source, Share, error) {
	var src *source
	var err error
	if isManifest(req.Root) {
		src, err = manifestSource(req, sp)
	} else {
		dir := filepath.Join(req.Root, sp)
		if _, e := os.Stat(dir); errors.Is(e, fs.ErrNotExist) {
			return nil, Share{}, fmt.Errorf("dataset folder: no folder %s: %w", dir, ErrNoSplit)
		}
		src, err = classFolders(in, req, dir)
	}
	if err != nil {
		return nil, Share{}, err
	}
	src.resize, src.size = true, req.ImageSize
	return []*source{src}, Share{}, nil
}

// classFolders reads dir/<class name>/<image> (recursively below each class folder); it is
// also folder's --valid DIR reader, hence the unused *Info.
func classFolders(_ *Info, req *Request, dir string) (*source, error) {
	src := &source{dir: dir, cacheID: "folder", resize: true, size: req.ImageSize}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset folder: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !isDirEntry(dir, e) {
			return nil, fmt.Errorf("dataset folder: %s: not a class folder (want %s/<class name>/<image>)", filepath.Join(dir, e.Name()), dir)
		}
		k := slices.Index(req.classes, e.Name())
		if k < 0 {
			return nil, fmt.Errorf("dataset folder: %s: class %q is not one of train's (%s)", filepath.Join(dir, e.Name()), e.Name(), strings.Join(req.classes, ", "))
		}
		n := len(src.paths)
		err := walkImages(filepath.Join(dir, e.Name()), func(p string, info fs.FileInfo) error {
			src.paths, src.labels, src.infos = append(src.paths, p), append(src.labels, int32(k)), append(src.infos, info)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataset folder: %w", err)
		}
		if len(src.paths) == n {
			return nil, fmt.Errorf("dataset folder: class folder %s holds no PNG or JPEG images: %w", filepath.Join(dir, e.Name()), ErrNoImages)
		}
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("dataset folder: %s: %w", dir, ErrNoImages)
	}
	return src, nil
}

// classIndex resolves a label or bias value: a class name, or an index where the classes are
// indices ("0", "1", …, so that "01" is class 1). Where the classes are names an integer is a
// name like any other: taking it as a position among the sorted names would silently read
// another class than the one meant.
func classIndex(classes []string, v string) (int, bool) {
	if k := slices.Index(classes, v); k >= 0 {
		return k, true
	}
	if !isIndexNames(classes) {
		return 0, false
	}
	if k, err := strconv.Atoi(v); err == nil && k >= 0 && k < len(classes) {
		return k, true
	}
	return 0, false
}

// isIndexNames reports whether the classes are "0", "1", … in order (indexNames).
func isIndexNames(classes []string) bool {
	for i, c := range classes {
		if c != strconv.Itoa(i) {
			return false
		}
	}
	return true
}
