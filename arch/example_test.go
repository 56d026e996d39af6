package arch_test

import (
	"fmt"
	"log"

	"github.com/dcwp-go/dcwp/arch"
)

// Build an architecture by name for a dataset's input (ForDataset reads it from the
// dataset registry), then walk its masked weights: what the trainer gives pruning scores
// and the exporter multiplies the mask into.
func ExampleBuild() {
	o, err := arch.ForDataset("cmnist", false)
	if err != nil {
		log.Fatal(err)
	}
	a, err := arch.Build("mlp", o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Name, a.Input, "->", a.Classes, "classes, output node", a.Output())
	for _, p := range a.MaskedParams() {
		fmt.Println(p.Name, p.Shape)
	}
	fmt.Println("masked weights:", a.MaskedCount())
	// Output:
	// mlp [3 28 28] -> 10 classes, output node fc
	// fc1.weight [100 2352]
	// fc2.weight [100 100]
	// fc3.weight [32 100]
	// fc.weight [10 32]
	// masked weights: 248720
}
