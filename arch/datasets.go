package arch

import (
	"fmt"

	"github.com/dcwp-go/dcwp/dataset"
)

var (
	cifarMean    = []float32{0.4914, 0.4822, 0.4465}
	cifarStd     = []float32{0.2023, 0.1994, 0.2010}
	imagenetMean = []float32{0.485, 0.456, 0.406}
	imagenetStd  = []float32{0.229, 0.224, 0.225}
)

// ForDataset gives the input size, class count and normalisation the spec uses for a dataset
// (named as dataset.Canonical accepts).
func ForDataset(name string, asCoded bool) (Options, error) {
	ds, err := dataset.Canonical(name)
	if err != nil {
		return Options{}, err
	}
	switch ds {
	case "cmnist":
		return Options{Classes: 10, Input: [3]int{3, 28, 28}, AsCoded: asCoded}, nil
	case "cifar10c":
		return Options{Classes: 10, Input: [3]int{3, 32, 32}, Mean: cifarMean, Std: cifarStd, AsCoded: asCoded}, nil
	case "bffhq":
		return Options{Classes: 2, Input: [3]int{3, 128, 128}, Mean: cifarMean, Std: cifarStd, AsCoded: asCoded}, nil
	case "celeba":
		return Options{Classes: 2, Input: [3]int{3, 224, 224}, Mean: imagenetMean, Std: imagenetStd, AsCoded: asCoded}, nil
	default:
		return Options{}, fmt.Errorf("arch: dataset %s: internal: no input options", ds)
	}
}

// ForRun builds the architecture a run of model on dataset trains.
func ForRun(model, dataset string, asCoded bool) (*Arch, error) {
	o, err := ForDataset(dataset, asCoded)
	if err != nil {
		return nil, err
	}
	return Build(model, o)
}
