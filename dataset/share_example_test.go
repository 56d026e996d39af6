package dataset_test

import (
	"fmt"

	"github.com/dcwp-go/dcwp/dataset"
)

// A conflict share is parsed once, where it is given; its folder, its number and its
// config.json text all come from the one value.
func ExampleParseShare() {
	for _, in := range []string{"1", "1pct", " 0.50 ", "1_0"} {
		s, err := dataset.ParseShare(in)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q: %s, folder %s, %g %%\n", in, s, s.Dir(), s.Percent())
	}
	// Output:
	// "1": 1, folder 1pct, 1 %
	// "1pct": 1, folder 1pct, 1 %
	// " 0.50 ": 0.5, folder 0.5pct, 0.5 %
	// conflict share "1_0": bad conflict share: want a percentage above 0 and below 100 written as digits with an optional decimal fraction and an optional pct or % suffix, e.g. 0.5, 1, 2, 5pct, 5%
}

// Each dataset's registry entry lists the shares its release ships; the commands' help
// reads them from there.
func ExampleSharesUsage() {
	fmt.Println(dataset.SharesUsage())
	// Output:
	// cmnist: 0.5, 1, 2, 5; cifar10c: 0.5, 1, 2, 5; bffhq: 0.5; none for celeba, folder
}
