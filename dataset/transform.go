package dataset

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"golang.org/x/image/draw"
)

// Batch returns float32 NCHW in [0,1] (pixel/255) for the given sample
// indices, with the dataset's train-time (train=true) or eval-time transform (each
// dataset's file says which: cmnist and folder none, cifar10c crop and flip on train,
// bffhq resize to 128, celeba crops to 224).
//
// Normalisation (mean/std) is not applied: the model graph does it. shape is
// {N, C, H, W} with C,H,W = InputShape(). Random draws come from rng (one
// Uint64 per sample, so a batch is reproducible from rng's state regardless of
// parallelism); rng may be nil for eval or for a fixed seed-0 stream.
// Indices out of range panic.
func (s *Split) Batch(idx []int, train bool, rng *rand.Rand) (x []float32, shape [4]int) {
	return s.BatchInto(nil, idx, train, rng)
}

// BatchInto is Batch writing into dst when it has room (len >= N*C*H*W);
// it returns the filled slice (dst[:N*C*H*W] or a new one).
func (s *Split) BatchInto(dst []float32, idx []int, train bool, rng *rand.Rand) ([]float32, [4]int) {
	in := s.InputShape()
	per := in[0] * in[1] * in[2]
	shape := [4]int{len(idx), in[0], in[1], in[2]}
	if cap(dst) >= len(idx)*per {
		dst = dst[:len(idx)*per]
	} else {
		dst = make([]float32, len(idx)*per)
	}
	for _, i := range idx {
		if i < 0 || i >= s.Len() {
			panic(fmt.Sprintf("dataset: Batch index %d out of range [0,%d)", i, s.Len()))
		}
	}
	tf := info(s.Dataset).tf
	var seeds []uint64
	if train && tf.random {
		if rng == nil {
			rng = rand.New(rand.NewPCG(0, 0))
		}
		seeds = make([]uint64, len(idx))
		for k := range seeds {
			seeds[k] = rng.Uint64()
		}
	}
	one := func(k int) {
		out := dst[k*per : (k+1)*per]
		var r *rand.Rand
		if seeds != nil {
			r = rand.New(rand.NewPCG(seeds[k], 0x9e3779b97f4a7c15))
		}
		s.transform(out, idx[k], train, r)
	}
	// Cheap transforms run inline; resampling ones in parallel.
	workers := 1
	if tf.parallel != nil && tf.parallel(s) {
		workers = min(runtime.GOMAXPROCS(0), len(idx))
	}
	if workers <= 1 {
		for k := range idx {
			one(k)
		}
		return dst, shape
	}
	var wg sync.WaitGroup
	next := make(chan int, len(idx))
	for k := range idx {
		next <- k
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				one(k)
			}
		}()
	}
	wg.Wait()
	return dst, shape
}

// RawBatch is what Batch would return before the /255 scaling, for a transform that leaves
// the stored pixels as they are (cmnist; cifar10c and 128×128 bffhq at eval time). ok is
// false for any other, and Batch must be used. It lets a caller scale on its own device
// and move a quarter of the bytes. Indices out of range panic.
func (s *Split) RawBatch(idx []int, train bool) (px []uint8, shape [4]int, ok bool) {
	if !s.keepsPixels(train) {
		return nil, shape, false
	}
	per := s.C * s.H * s.W
	px = make([]uint8, 0, len(idx)*per)
	for _, i := range idx {
		if i < 0 || i >= s.Len() {
			panic(fmt.Sprintf("dataset: RawBatch index %d out of range [0,%d)", i, s.Len()))
		}
		px = append(px, s.Image(i)...)
	}
	return px, [4]int{len(idx), s.C, s.H, s.W}, true
}

// u8f maps a byte to float32(v)/255 exactly as ToTensor's div(255) does.
var u8f = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// keepsPixels reports whether the train- or eval-time transform leaves the stored pixels as
// they are: the one place that says so, for transform and RawBatch alike.
func (s *Split) keepsPixels(train bool) bool { return info(s.Dataset).tf.keeps(s, train) }

// transform writes sample i, transformed, into out, with the dataset's transform.
func (s *Split) transform(out []float32, i int, train bool, r *rand.Rand) {
	if s.keepsPixels(train) {
		toFloat(out, s.Image(i), s.C, s.H, s.W, false)
		return
	}
	info(s.Dataset).tf.apply(s, out, i, train, r)
}

func toFloat(out []float32, img []uint8, c, h, w int, flip bool) {
	if !flip {
		for j, v := range img[:c*h*w] {
			out[j] = u8f[v]
		}
		return
	}
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			row := img[(ch*h+y)*w : (ch*h+y+1)*w]
			o := out[(ch*h+y)*w : (ch*h+y+1)*w]
			for x := range w {
				o[x] = u8f[row[w-1-x]]
			}
		}
	}
}

// cropPadFlip: output pixel (y,x) = input (y+dy, x+dx) or 0 outside; then optional h-flip.
// dy,dx in [-pad,pad] (torchvision RandomCrop(size, padding=pad) on the zero-padded image).
func cropPadFlip(out []float32, img []uint8, c, h, w, pad, dy, dx int, flip bool) {
	_ = pad
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			o := out[(ch*h+y)*w : (ch*h+y+1)*w]
			sy := y + dy
			if sy < 0 || sy >= h {
				clear(o)
				continue
			}
			row := img[(ch*h+sy)*w : (ch*h+sy+1)*w]
			for x := 0; x < w; x++ {
				sx := x + dx
				var v float32
				if sx >= 0 && sx < w {
					v = u8f[row[sx]]
				}
				if flip {
					o[w-1-x] = v
				} else {
					o[x] = v
				}
			}
		}
	}
}

func cropToFloat(out []float32, img []uint8, c, h, w, top, left, ch, cw int) {
	for k := 0; k < c; k++ {
		for y := 0; y < ch; y++ {
			row := img[(k*h+top+y)*w+left : (k*h+top+y)*w+left+cw]
			o := out[(k*ch+y)*cw : (k*ch+y+1)*cw]
			for x, v := range row {
				o[x] = u8f[v]
			}
		}
	}
}

// resizeShorter mirrors torchvision Resize(int): the shorter side becomes size.
func resizeShorter(h, w, size int) (int, int) {
	if w <= h {
		return int(float64(size) * float64(h) / float64(w)), size
	}
	return size, int(float64(size) * float64(w) / float64(h))
}

func roundHalfEven(v float64) int { return int(math.RoundToEven(v)) }

// randomResizedCrop mirrors torchvision RandomResizedCrop.get_params.
func randomResizedCrop(r *rand.Rand, h, w int, smin, smax, rmin, rmax float64) (top, left, ch, cw int) {
	area := float64(h * w)
	lmin, lmax := math.Log(rmin), math.Log(rmax)
	for range 10 {
		target := area * (smin + (smax-smin)*r.Float64())
		ar := math.Exp(lmin + (lmax-lmin)*r.Float64())
		cw = int(math.RoundToEven(math.Sqrt(target * ar)))
		ch = int(math.RoundToEven(math.Sqrt(target / ar)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			top = r.IntN(h - ch + 1)
			left = r.IntN(w - cw + 1)
			return
		}
	}
	in := float64(w) / float64(h)
	switch {
	case in < rmin:
		cw, ch = w, int(math.RoundToEven(float64(w)/rmin))
	case in > rmax:
		ch, cw = h, int(math.RoundToEven(float64(h)*rmax))
	default:
		cw, ch = w, h
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}

// resizeCHW resamples the src rectangle of a CHW image (3 channels) to oh×ow
// with bilinear filtering (x/image/draw, antialiased on downscale) and returns CHW bytes.
func resizeCHW(img []uint8, c, h, w int, src image.Rectangle, oh, ow int) []uint8 {
	in := image.NewRGBA(image.Rect(0, 0, w, h))
	hw := h * w
	for p := 0; p < hw; p++ {
		in.Pix[4*p] = img[p]
		if c >= 3 {
			in.Pix[4*p+1], in.Pix[4*p+2] = img[hw+p], img[2*hw+p]
		} else {
			in.Pix[4*p+1], in.Pix[4*p+2] = img[p], img[p]
		}
		in.Pix[4*p+3] = 255
	}
	o := image.NewRGBA(image.Rect(0, 0, ow, oh))
	draw.BiLinear.Scale(o, o.Bounds(), in, src, draw.Src, nil)
	out := make([]uint8, c*oh*ow)
	ohw := oh * ow
	for p := 0; p < ohw; p++ {
		out[p] = o.Pix[4*p]
		if c >= 3 {
			out[ohw+p], out[2*ohw+p] = o.Pix[4*p+1], o.Pix[4*p+2]
		}
	}
	return out
}
