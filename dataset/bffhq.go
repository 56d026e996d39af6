package dataset

import (
	"image"
	"math/rand/v2"
)

// BFFHQ (Kim et al. 2021): age biased by gender.
//
//	<root>/bffhq/0.5pct/{align,conflict}/...,  <root>/bffhq/valid/...,  <root>/bffhq/test/...
func init() {
	register(&Info{
		Name: BFFHQ, order: 2, OneValid: true,
		Usage: "BFFHQ faces, young/old biased by gender, resized to 128×128",
		Spec: &Spec{Classes: 2, ClassNames: []string{"young", "old"}, Input: [3]int{3, 128, 128},
			Mean: CIFARMean, Std: CIFARStd},
		Shares:  []Share{MustShare("0.5")},
		Preset:  func(string) Preset { return bffhqPreset },
		sources: benchmarkSources, dirSrc: benchmarkDir,
		// resize to 128×128 (+ horizontal flip on train)
		tf: transform{shape: func(s *Split) [3]int { return [3]int{s.C, 128, 128} }, random: true,
			words:    "eval: resized to 128×128 when another size, " + Bilinear + " (train: the same, horizontal flip p 0.5)",
			keeps:    func(s *Split, train bool) bool { return !train && s.H == 128 && s.W == 128 },
			parallel: func(s *Split) bool { return s.H != 128 || s.W != 128 },
			apply: func(s *Split, out []float32, i int, train bool, r *rand.Rand) {
				flip := train && r.Float64() < 0.5
				img := s.Image(i)
				if s.H != 128 || s.W != 128 {
					img = resizeCHW(img, s.C, s.H, s.W, image.Rect(0, 0, s.W, s.H), 128, 128)
				}
				toFloat(out, img, s.C, 128, 128, flip)
			}},
	})
}

// bffhqPreset is the reference's BFFHQ settings: its ResNet-18 real-image preset, which the
// folder dataset's paper preset also uses.
var bffhqPreset = Preset{Model: "resnet18", BatchSize: 64, PretrainLR: 1e-3, LambdaSparse: 1e-9, FinetuneLR: 5e-4,
	LambdaUp: func(Share) float64 { return 80 }, Source: "the reference's BFFHQ (ResNet-18) settings"}
