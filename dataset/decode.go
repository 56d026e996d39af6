package dataset

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"os"
	"runtime"
	"sync"
)

// Limits on one image, checked from its header (image.DecodeConfig) before it is decoded:
// a 30000×30000 PNG of a few kilobytes would otherwise take 3.6 GB to decode.
const (
	MaxSide   = 1 << 14 // pixels per side
	MaxPixels = 1 << 26 // pixels per image (64 Mpx: 192 MB as 3-channel bytes)
)

// CheckImageSize refuses a size to resize images to (H, W; zero: none) that no image could
// have: over MaxSide a side or MaxPixels in all.
func CheckImageSize(size [2]int) error {
	h, w := size[0], size[1]
	switch {
	case size == [2]int{}:
		return nil
	case h < 1 || w < 1 || h > MaxSide || w > MaxSide:
		return fmt.Errorf("image size %dx%d: want 1 to %d pixels a side", h, w, MaxSide)
	case h*w > MaxPixels:
		return fmt.Errorf("image size %dx%d is %.0f Mpx, over the limit of %d Mpx (%dx%d at most for a square)", h, w, float64(h*w)/(1<<20), MaxPixels>>20, 1<<13, 1<<13)
	}
	return nil
}

// decodeAll decodes every file into one CHW uint8 buffer, in parallel, with room for spare
// more images of the same size. With resize, images of another size than size (zero: the
// first image's) are resized to it; without, they are refused. room, when not nil, must admit
// them all before the buffer is allocated. The part's prep counts what was converted.
func decodeAll(paths []string, spare int, resize bool, size [2]int, room roomFunc) (*part, error) {
	first, err := decodeFile(paths[0], nil)
	if err != nil {
		return nil, err
	}
	p := &part{c: first.c, h: first.h, w: first.w}
	p.prep.count(first.conv)
	if resize && size != [2]int{} && size != [2]int{first.h, first.w} {
		first.px = resizeCHW(first.px, first.c, first.h, first.w, image.Rect(0, 0, first.w, first.h), size[0], size[1])
		p.h, p.w, p.prep.Resized = size[0], size[1], 1
	}
	if err := room.check(len(paths)+spare, p.c, p.h, p.w); err != nil {
		return nil, err
	}
	n := p.c * p.h * p.w
	p.images = make([]uint8, len(paths)*n, (len(paths)+spare)*n)
	copy(p.images, first.px)
	if err := p.decodeRest(paths, resize); err != nil {
		return nil, err
	}
	p.prep.Images, p.prep.Size = len(paths), [2]int{p.h, p.w}
	return p, nil
}

// decodeRest decodes paths[1:] into their slots of p.images, which must be the size of
// p's images (or, with resize, are resized to it).
func (p *part) decodeRest(paths []string, resize bool) error {
	n := p.c * p.h * p.w
	errs := make([]error, len(paths))
	convs := make([]conversion, len(paths))
	resized := make([]bool, len(paths))
	var wg sync.WaitGroup
	next := make(chan int, 256)
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				dst := p.images[i*n : (i+1)*n]
				d, err := decodeFile(paths[i], dst)
				switch {
				case err != nil:
				case resize && (d.h != p.h || d.w != p.w):
					copy(dst, resizeCHW(d.px, d.c, d.h, d.w, image.Rect(0, 0, d.w, d.h), p.h, p.w))
					resized[i] = true
				case d.c != p.c || d.h != p.h || d.w != p.w:
					err = fmt.Errorf("%s is %dx%dx%d, %s is %dx%dx%d: %w", paths[i], d.c, d.h, d.w, paths[0], p.c, p.h, p.w, ErrImageSize)
				}
				errs[i], convs[i] = err, d.conv
			}
		}()
	}
	for i := 1; i < len(paths); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for i := 1; i < len(paths); i++ {
		p.prep.count(convs[i])
		if resized[i] {
			p.prep.Resized++
		}
	}
	return nil
}

// decoded is one image as 3-channel CHW bytes, and what decoding converted.
type decoded struct {
	px      []uint8
	c, h, w int
	conv    conversion
}

// decodeFile decodes one PNG/JPEG file into 3-channel CHW bytes (see decodeImage).
func decodeFile(path string, dst []uint8) (decoded, error) {
	f, err := os.Open(path)
	if err != nil {
		return decoded{}, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	d, err := decodeImage(f, dst)
	if err != nil {
		return decoded{}, fmt.Errorf("image %s: %w", path, err)
	}
	return d, nil
}

// decodeImage decodes a PNG or JPEG into 3-channel CHW bytes as Preprocessing says (gray
// replicated, alpha dropped, 16 bits cut to 8). The header's size is checked against MaxSide
// and MaxPixels before any pixel is decoded. If dst has the image's size it is filled, else a
// new slice is returned.
func decodeImage(r io.ReadSeeker, dst []uint8) (decoded, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return decoded{}, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return decoded{}, fmt.Errorf("empty image (%dx%d): %w", cfg.Width, cfg.Height, ErrImageSize)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width*cfg.Height > MaxPixels {
		return decoded{}, fmt.Errorf("%dx%d pixels, over the limit of %d per side and %d in all: %w",
			cfg.Width, cfg.Height, MaxSide, MaxPixels, ErrBadImage)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return decoded{}, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return decoded{}, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h != cfg.Height || w != cfg.Width {
		return decoded{}, fmt.Errorf("decoded %dx%d, header says %dx%d: %w", w, h, cfg.Width, cfg.Height, ErrBadImage)
	}
	if len(dst) != 3*h*w {
		dst = make([]uint8, 3*h*w)
	}
	conv := toCHW(img, dst)
	return decoded{px: dst, c: 3, h: h, w: w, conv: conv}, nil
}

// toCHW writes img as RGB planes into dst (len 3*H*W) and says what it converted. The
// common decoder outputs have fast paths; any other image goes through the generic At, as
// non-premultiplied colour: alpha is dropped, never multiplied in, whatever the image type.
func toCHW(img image.Image, dst []uint8) conversion {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	hw := h * w
	r, g, bl := dst[:hw], dst[hw:2*hw], dst[2*hw:3*hw]
	conv := conversionOf(img)
	switch m := img.(type) {
	case *image.RGBA:
		rgbaToCHW(m.Pix, m.Stride, h, w, r, g, bl)
	case *image.NRGBA: // alpha is dropped, like PIL's convert("RGB")
		rgbaToCHW(m.Pix, m.Stride, h, w, r, g, bl)
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r[y*w+x], g[y*w+x], bl[y*w+x] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			copy(r[y*w:], row)
			copy(g[y*w:], row)
			copy(bl[y*w:], row)
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				r[y*w+x], g[y*w+x], bl[y*w+x] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			}
		}
	}
	return conv
}

// rgbaToCHW splits 4-byte pixels (RGBA or NRGBA, rows stride apart) into planes.
func rgbaToCHW(pix []uint8, stride, h, w int, r, g, b []uint8) {
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+4*w]
		for x := 0; x < w; x++ {
			r[y*w+x], g[y*w+x], b[y*w+x] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}
