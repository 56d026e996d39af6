package dataset

// Colored MNIST (Nam et al. 2020 as released by Lee et al. 2021):
//
//	<root>/cmnist/{0.5pct,1pct,2pct,5pct}/{align,conflict,valid}/<sub>/<idx>_<label>_<bias>.png
//	<root>/cmnist/test/<sub>/<idx>_<label>_<bias>.png
func init() {
	register(&Info{
		Name: CMNIST, Aliases: []string{"colored_mnist", "coloredmnist"}, order: 0,
		Usage:  "Colored MNIST, 10 digits coloured by a spurious colour, 28×28 (dcwp-train data cmnist builds it)",
		Spec:   &Spec{Classes: 10, ClassNames: indexNames(10), Input: [3]int{3, 28, 28}},
		Shares: publishedShares,
		Preset: func(string) Preset {
			return Preset{Model: "cnn", BatchSize: 256, PretrainLR: 1e-2, MiningModel: true, LambdaSparse: 1e-8,
				FinetuneLR: 1e-3, FinetuneStep: 1000, FinetuneGam: 0.1, LambdaUp: lambdaUpByPct, Quick: true,
				Source: "the reference's Colored MNIST settings"}
		},
		sources: benchmarkSources, dirSrc: benchmarkDir,
		tf: transform{shape: storedShape, keeps: func(*Split, bool) bool { return true },
			words: "none: 28×28 as stored (another size is refused); no eval or train transform"},
	})
}

// publishedShares are the conflict shares of the published Colored MNIST and Corrupted
// CIFAR-10 (Lee et al. 2021).
var publishedShares = []Share{MustShare("0.5"), MustShare("1"), MustShare("2"), MustShare("5")}

// lambdaUpByPct is the paper's λ_up by conflict share (Colored MNIST, Corrupted CIFAR-10).
func lambdaUpByPct(s Share) float64 {
	switch v := s.Percent(); {
	case v <= 0.5:
		return 80
	case v <= 1:
		return 50
	case v <= 2:
		return 30
	}
	return 10
}

func storedShape(s *Split) [3]int { return [3]int{s.C, s.H, s.W} }
