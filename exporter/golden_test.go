package exporter

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current exporter")

// TestGolden exports the first fixture network of every model in every format and
// compares the structure node by node (op types, attributes, shapes, initializer hashes
// and non-zero counts, metadata) with the committed expectation; a model or a format
// without its golden files fails here. Regenerate with:
// go test ./exporter -run TestGolden -update
func TestGolden(t *testing.T) {
	type golden struct {
		name string
		spec exportfixture.Spec
		f    Format
	}
	var cases []golden
	for _, model := range arch.Models() {
		i := slices.IndexFunc(specs, func(s exportfixture.Spec) bool { return s.Model == model })
		if i < 0 {
			t.Errorf("model %s has no fixture network in specs", model)
			continue
		}
		for _, f := range Formats() {
			cases = append(cases, golden{model + "-" + string(f), specs[i], f})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := get(t, c.spec)
			m, err := onnx.Parse(b.model[c.f], c.name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := onnx.Summarize(m)
			if err != nil {
				t.Fatal(err)
			}
			// The tool version is not part of the structure.
			got.Producer = "dcwp-go"
			delete(got.Metadata, "tool_version")
			path := filepath.Join("testdata", c.name+".golden.json")
			if *update {
				data, _ := json.MarshalIndent(got, "", " ")
				if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want onnx.Summary
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, ch := range onnx.Diff(&want, got) {
				t.Errorf("%s", ch)
			}
		})
	}
}
