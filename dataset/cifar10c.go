package dataset

import "math/rand/v2"

// Corrupted CIFAR-10 (Hendrycks & Dietterich 2019 as released by Lee et al. 2021), in the
// cmnist layout under <root>/cifar10c.
func init() {
	register(&Info{
		Name: CIFAR10C, Aliases: []string{"cifar10_c", "cifar-10-c", "corrupted_cifar10"}, order: 1,
		Usage: "Corrupted CIFAR-10, 10 classes biased by a corruption type, 32×32",
		Spec: &Spec{Classes: 10, Input: [3]int{3, 32, 32}, Mean: CIFARMean, Std: CIFARStd,
			ClassNames: []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}},
		Shares: publishedShares,
		Preset: func(string) Preset {
			return Preset{Model: "resnet18", BatchSize: 256, PretrainLR: 1e-3, PretrainStep: 10000, PretrainGam: 0.5,
				Ensemble: true, LambdaSparse: 1e-9, FinetuneLR: 5e-4, LambdaUp: lambdaUpByPct,
				Source: "the reference's Corrupted CIFAR-10 settings"}
		},
		sources: benchmarkSources, dirSrc: benchmarkDir,
		// train: random crop 32 with zero padding 4 + horizontal flip (p 0.5); eval: none
		tf: transform{shape: storedShape, random: true,
			words: "none: 32×32 as stored (another size is refused); eval: none (train: random crop 32 of the image zero-padded by 4, horizontal flip p 0.5)",
			keeps: func(_ *Split, train bool) bool { return !train },
			apply: func(s *Split, out []float32, i int, _ bool, r *rand.Rand) {
				cropPadFlip(out, s.Image(i), s.C, s.H, s.W, 4, r.IntN(9)-4, r.IntN(9)-4, r.Float64() < 0.5)
			}},
	})
}
