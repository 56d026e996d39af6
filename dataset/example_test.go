package dataset_test

import (
	"errors"
	"fmt"

	"github.com/dcwp-go/dcwp/dataset"
)

// Every command resolves a dataset name the user typed through the registry: aliases,
// case and surrounding space are accepted; the entry says what a model of it takes.
func ExampleLookup() {
	in, err := dataset.Lookup(" Colored_MNIST ")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(in.Name, in.Spec.Classes, "classes, input", in.Spec.Input)
	fmt.Println(dataset.Names())

	_, err = dataset.Lookup("imagenet")
	fmt.Println(err)
	fmt.Println(errors.Is(err, dataset.ErrUnknown))
	// Output:
	// cmnist 10 classes, input [3 28 28]
	// [cmnist cifar10c bffhq celeba folder]
	// unknown dataset "imagenet" (want one of cmnist, cifar10c, bffhq, celeba, folder; also accepted: colored_mnist, coloredmnist = cmnist; cifar10_c, cifar-10-c, corrupted_cifar10 = cifar10c; imagefolder, image_folder, csv = folder)
	// true
}

// Usage is the registry as the commands' --help shows it, one line per dataset.
func ExampleUsage() {
	fmt.Print(dataset.Usage())
	// Output:
	// cmnist: Colored MNIST, 10 digits coloured by a spurious colour, 28×28 (dcwp-train data cmnist builds it)
	// cifar10c: Corrupted CIFAR-10, 10 classes biased by a corruption type, 32×32
	// bffhq: BFFHQ faces, young/old biased by gender, resized to 128×128
	// celeba: CelebA, blond hair biased by gender, from its metadata CSV, 224×224
	// folder: your own images: --data DIR with {train,valid,test}/<class>/<image>, or --data FILE.csv (columns path, label, split, optional bias); resized to --image-size
}
