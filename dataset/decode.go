package dataset

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"os"
	"runtime"
	"sync"
)

// decodeAll decodes every file into one CHW uint8 buffer, in parallel, with
// room for spare more images of the same size.
func decodeAll(paths []string, spare int) (*part, error) {
	first, c, h, w, err := decodeFile(paths[0], nil)
	if err != nil {
		return nil, err
	}
	n := c * h * w
	images := make([]uint8, len(paths)*n, (len(paths)+spare)*n)
	copy(images, first)
	p := &part{c: c, h: h, w: w, images: images}
	if err := p.decodeRest(paths); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeRest decodes paths[1:] into their slots of p.images, which must be
// the size of paths[0]'s image.
func (p *part) decodeRest(paths []string) error {
	n := p.c * p.h * p.w
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int, 256)
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, c, h, w, err := decodeFile(paths[i], p.images[i*n:(i+1)*n])
				if err == nil && (c != p.c || h != p.h || w != p.w) {
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
	return nil
}

// decodeFile decodes one PNG/JPEG into 3-channel CHW bytes. If dst is non-nil
// and large enough it is filled (when the size matches), else a new slice is returned.
func decodeFile(path string, dst []uint8) ([]uint8, int, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("image %s: %w", path, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h == 0 || w == 0 {
		return nil, 0, 0, 0, fmt.Errorf("image %s: empty image: %w", path, ErrImageSize)
	}
	if len(dst) != 3*h*w {
		if dst != nil {
			return nil, 3, h, w, nil // size mismatch is reported by the caller
		}
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
