package exporter_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// Export the DCWP network of a run directory as a compact ONNX model with its params
// file, as dcwp-export does. The run here is a fixed-seed fixture (an MLP whose mask keeps
// half the weights and prunes a third of the hidden neurons); a dcwp-train run directory
// is read the same way.
func Example() {
	dir, err := os.MkdirTemp("", "dcwp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := exportfixture.WriteRun(dir, exportfixture.Spec{Model: "mlp", Seed: 1, Keep: 0.5, DeadRows: 0.3}); err != nil {
		log.Fatal(err)
	}

	run, err := rundir.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	m, st, err := exporter.Export(run, exporter.Options{Which: rundir.DCWP, Format: exporter.Compact})
	if err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(dir, "mlp.onnx")
	if _, err := exporter.WriteOutputs(out, m, out+".params.json", st); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s network, %s: %d parameters, %d non-zero\n", st.Model, st.Which, st.Format, st.ParamsTotal, st.ParamsNonZero)
	for _, l := range st.Layers {
		fmt.Printf("%s %s: %d of %d units\n", l.Name, l.Op, l.Units, l.UnitsOrig)
	}
	// Output:
	// mlp dcwp network, compact: 193717 parameters, 96916 non-zero
	// fc1 Gemm: 79 of 100 units
	// fc2 Gemm: 76 of 100 units
	// fc3 Gemm: 20 of 32 units
	// fc Gemm: 10 of 10 units
}
