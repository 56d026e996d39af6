package dataset

import (
	"fmt"
	"image"
	"strings"
)

// conversion is what decoding did to one image beyond reading its pixels (a bit set).
type conversion uint8

const (
	convGray    conversion = 1 << iota // one gray channel replicated to R, G and B
	convAlpha                          // a transparent pixel's alpha dropped (not composited)
	convDeep                           // 16 bits a channel cut to their high 8
	convPalette                        // palette indices looked up
	convCMYK                           // a CMYK JPEG converted by Go's formula
)

// conversionOf says what turning img into 8-bit RGB converts, from its decoded type.
func conversionOf(img image.Image) conversion {
	var c conversion
	switch img.(type) {
	case *image.Gray:
		c = convGray
	case *image.Gray16:
		c = convGray | convDeep
	case *image.RGBA64, *image.NRGBA64:
		c = convDeep
	case *image.Paletted:
		c = convPalette
	case *image.CMYK:
		c = convCMYK
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && !o.Opaque() {
		c |= convAlpha
	}
	return c
}

// Prep counts what loading did to a split's images: how many were read from the
// decoded-image cache, and what decoding converted (see Preprocessing). The cache keeps the
// counts, so that a run reading it says the same as the run that decoded. A Subset has none.
type Prep struct {
	Images, Cached int
	Resized        int
	Size           [2]int // H, W of the images (Resized were resized to it)
	Gray           int    // gray → RGB (the channel replicated)
	Alpha          int    // with transparent pixels, alpha dropped
	Deep           int    // 16 bits a channel → 8
	Palette        int    // palette images
	CMYK           int    // CMYK JPEGs
}

func (p *Prep) count(c conversion) {
	for _, k := range prepCounts(p) {
		if c&k.conv != 0 {
			*k.n++
		}
	}
}

// prepCounts is the one table of conversions, their counters and their words.
func prepCounts(p *Prep) []struct {
	conv conversion
	n    *int
	say  string
} {
	return []struct {
		conv conversion
		n    *int
		say  string
	}{
		{convGray, &p.Gray, "gray→RGB"}, {convAlpha, &p.Alpha, "alpha dropped"}, {convDeep, &p.Deep, "16-bit→8-bit"},
		{convPalette, &p.Palette, "palette→RGB"}, {convCMYK, &p.CMYK, "CMYK→RGB"},
	}
}

// Add sums two splits' counts (Size is the first's, or q's where p has none).
func (p Prep) Add(q Prep) Prep {
	if p.Size == [2]int{} {
		p.Size = q.Size
	}
	p.Images, p.Cached, p.Resized = p.Images+q.Images, p.Cached+q.Cached, p.Resized+q.Resized
	qs := prepCounts(&q)
	for i, k := range prepCounts(&p) {
		*k.n += *qs[i].n
	}
	return p
}

// String is the log's one line: where the images came from and what was converted.
func (p Prep) String() string {
	from := fmt.Sprintf("%d decoded", p.Images)
	switch {
	case p.Cached == p.Images:
		from = "all from the decoded-image cache"
	case p.Cached > 0:
		from = fmt.Sprintf("%d from the decoded-image cache, %d decoded", p.Cached, p.Images-p.Cached)
	}
	var conv []string
	if p.Resized > 0 {
		conv = append(conv, fmt.Sprintf("%d resized to %dx%d (bilinear)", p.Resized, p.Size[0], p.Size[1]))
	}
	for _, k := range prepCounts(&p) {
		if *k.n > 0 {
			conv = append(conv, fmt.Sprintf("%d %s", *k.n, k.say))
		}
	}
	what := "none converted"
	if len(conv) > 0 {
		what = strings.Join(conv, ", ")
	}
	return fmt.Sprintf("images: %d (%s): %s", p.Images, from, what)
}

// Bilinear is the one resampling filter (resizeCHW), in words.
const Bilinear = "bilinear (golang.org/x/image/draw BiLinear: a triangle filter whose support widens by the scale " +
	"factor when shrinking, i.e. antialiased like PIL's Image.resize(BILINEAR), unlike OpenCV's INTER_LINEAR or " +
	"torch interpolate(antialias=False); pixel centres aligned (align_corners=False); weights past the image edge " +
	"dropped and the rest renormalised; computed in floating point, rounded to 16 bits, then cut to 8 (the high byte))"

// decodeWords is how every dataset's files become 8-bit RGB (decodeImage, toCHW).
const decodeWords = "decode: PNG with Go's image/png; JPEG with Go's image/jpeg (baseline and progressive), " +
	"which differs from libjpeg/libjpeg-turbo (PIL, OpenCV, torchvision): its own integer IDCT (from the MPEG-2 " +
	"reference decoder, not libjpeg's islow), subsampled Cb/Cr repeated per pixel (libjpeg's default 'fancy' " +
	"upsampling interpolates them) and YCbCr→RGB by color.YCbCrToRGB, so pixels differ by a few levels on " +
	"average and by tens at colour edges; " +
	"colour: 8-bit RGB planes (CHW), gray replicated to R, G and B, alpha dropped (not composited: a transparent " +
	"pixel keeps its colour), 16 bits a channel cut to the high byte, palettes looked up, CMYK JPEGs by Go's formula"

// Preprocessing says, in words, how a dataset's image files become the model's input at
// evaluation: decode, colour conversion, resize, transform, scale, normalisation. The export
// records it (metadata "preprocessing") and docs/commands.md states it, so that a deployer
// can rebuild the pipeline and compare with dcwp-eval --predictions sample by sample.
func Preprocessing(name string) (string, error) {
	in, err := Lookup(name)
	if err != nil {
		return "", err
	}
	return decodeWords + "; resize: " + in.tf.words + "; scale: pixel/255 to float32 in [0, 1]; " +
		"normalisation: inside the graph (metadata normalization: (x−mean)/std per channel, or none)", nil
}
