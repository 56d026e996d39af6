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
	"sync/atomic"
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
// them all before the buffer is allocated.
func decodeAll(paths []string, spare int, resize bool, size [2]int, room roomFunc) (*part, error) {
	first, c, h, w, err := decodeFile(paths[0], nil)
	if err != nil {
		return nil, err
	}
	p := &part{c: c, h: h, w: w}
	if resize && size != [2]int{} && size != [2]int{h, w} {
		first = resizeCHW(first, c, h, w, image.Rect(0, 0, w, h), size[0], size[1])
		p.h, p.w, p.resized = size[0], size[1], 1
	}
	if err := room.check(len(paths)+spare, p.c, p.h, p.w); err != nil {
		return nil, err
	}
	n := p.c * p.h * p.w
	p.images = make([]uint8, len(paths)*n, (len(paths)+spare)*n)
	copy(p.images, first)
	if err := p.decodeRest(paths, resize); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeRest decodes paths[1:] into their slots of p.images, which must be the size of
// p's images (or, with resize, are resized to it).
func (p *part) decodeRest(paths []string, resize bool) error {
	n := p.c * p.h * p.w
	errs := make([]error, len(paths))
	var resized atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int, 256)
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				dst := p.images[i*n : (i+1)*n]
				img, c, h, w, err := decodeFile(paths[i], dst)
				switch {
				case err != nil:
				case resize && (h != p.h || w != p.w):
					copy(dst, resizeCHW(img, c, h, w, image.Rect(0, 0, w, h), p.h, p.w))
					resized.Add(1)
				case c != p.c || h != p.h || w != p.w:
					err = fmt.Errorf("%s is %dx%dx%d, %s is %dx%dx%d: %w", paths[i], c, h, w, paths[0], p.c, p.h, p.w, ErrImageSize)
				}
				errs[i] = err
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
	p.resized += int(resized.Load())
	return nil
}

// decodeFile decodes one PNG/JPEG file into 3-channel CHW bytes (see decodeImage).
func decodeFile(path string, dst []uint8) ([]uint8, int, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	px, c, h, w, err := decodeImage(f, dst)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	return px, c, h, w, nil
}

// decodeImage decodes a PNG or JPEG into 3-channel CHW bytes (gray replicated, alpha
// dropped). The header's size is checked against MaxSide and MaxPixels before any pixel is
// decoded. If dst has the image's size it is filled, else a new slice is returned.
func decodeImage(r io.ReadSeeker, dst []uint8) ([]uint8, int, int, int, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, 0, 0, 0, fmt.Errorf("empty image (%dx%d): %w", cfg.Width, cfg.Height, ErrImageSize)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width*cfg.Height > MaxPixels {
		return nil, 0, 0, 0, fmt.Errorf("%dx%d pixels, over the limit of %d per side and %d in all: %w",
			cfg.Width, cfg.Height, MaxSide, MaxPixels, ErrBadImage)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, 0, 0, 0, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h != cfg.Height || w != cfg.Width {
		return nil, 0, 0, 0, fmt.Errorf("decoded %dx%d, header says %dx%d: %w", w, h, cfg.Width, cfg.Height, ErrBadImage)
	}
	if len(dst) != 3*h*w {
		dst = make([]uint8, 3*h*w)
	}
	toCHW(img, dst)
	return dst, 3, h, w, nil
}

// toCHW writes img as RGB planes into dst (len 3*H*W). The common decoder
// outputs have fast paths; any other image goes through the generic At.
func toCHW(img image.Image, dst []uint8) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	hw := h * w
	r, g, bl := dst[:hw], dst[hw:2*hw], dst[2*hw:3*hw]
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
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				r[y*w+x], g[y*w+x], bl[y*w+x] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
			}
		}
	}
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
