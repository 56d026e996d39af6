package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each kind of image the decoders give, the conversion it counts and its first pixel as RGB:
// alpha is dropped as it is (a half-transparent red stays red, whatever the image type: a
// palette or 16-bit image's colour was multiplied by its alpha before), gray is replicated,
// 16 bits keep their high byte.
func TestDecodeConversions(t *testing.T) {
	halfRed := color.NRGBA{200, 10, 20, 128}
	gray16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	gray16.SetGray16(0, 0, color.Gray16{0x1234})
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 2, 2))
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{0xc8ff, 0x0a00, 0x1400, 0x8000})
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{halfRed, color.NRGBA{0, 0, 0, 255}})
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	nrgba.SetNRGBA(0, 0, halfRed)
	opaque := image.NewRGBA(image.Rect(0, 0, 2, 2))
	opaque.SetRGBA(0, 0, color.RGBA{200, 10, 20, 255})
	for y := range 2 {
		for x := range 2 {
			opaque.SetRGBA(x, y, color.RGBA{200, 10, 20, 255})
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	gray.SetGray(0, 0, color.Gray{77})
	cases := []struct {
		name string
		img  image.Image
		jpg  bool
		want conversion
		rgb  [3]uint8 // the first pixel; jpg: not checked
	}{
		{"RGB", opaque, false, 0, [3]uint8{200, 10, 20}},
		{"RGBA", nrgba, false, convAlpha, [3]uint8{200, 10, 20}},
		{"gray", gray, false, convGray, [3]uint8{77, 77, 77}},
		{"gray 16-bit", gray16, false, convGray | convDeep, [3]uint8{0x12, 0x12, 0x12}},
		{"RGBA 16-bit", nrgba64, false, convDeep | convAlpha, [3]uint8{0xc8, 0x0a, 0x14}},
		{"palette with transparency", pal, false, convPalette | convAlpha, [3]uint8{200, 10, 20}},
		{"JPEG", opaque, true, 0, [3]uint8{}},
		{"gray JPEG", gray, true, convGray, [3]uint8{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			if c.jpg {
				err = jpeg.Encode(&b, c.img, &jpeg.Options{Quality: 95})
			} else {
				err = png.Encode(&b, c.img)
			}
			if err != nil {
				t.Fatal(err)
			}
			d, err := decodeImage(bytes.NewReader(b.Bytes()), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.conv != c.want {
				t.Fatalf("conversion %05b, want %05b", d.conv, c.want)
			}
			if got := [3]uint8{d.px[0], d.px[4], d.px[8]}; !c.jpg && got != c.rgb {
				t.Fatalf("first pixel %v, want %v", got, c.rgb)
			}
		})
	}
}

// The log's line on the images says the same on the run that decodes and on the runs that
// read the cache (which used to say nothing of the resized images), but where they came from.
func TestPrepCached(t *testing.T) {
	root := t.TempDir()
	imageFolder(t, root, []string{"cat", "dog"}, 4, 8, 8, true) // every second train image 2 px larger
	// one gray image in train
	g := image.NewGray(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	if err := png.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, Train, "cat", "gray.png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	l, _ := quietLoader(t)
	var lines []string
	for range 2 {
		d, err := l.Open(Request{Root: root, Name: Folder})
		if err != nil {
			t.Fatal(err)
		}
		if d.Prep.Images != d.Train.Len()+d.Valid.Len()+d.Test.Len() || d.Prep.Resized != 4 || d.Prep.Gray != 1 {
			t.Fatalf("prep %+v", d.Prep)
		}
		lines = append(lines, d.Prep.String())
	}
	want := []string{"images: 25 (25 decoded): 4 resized to 8x8 (bilinear), 1 gray→RGB",
		"images: 25 (all from the decoded-image cache): 4 resized to 8x8 (bilinear), 1 gray→RGB"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
