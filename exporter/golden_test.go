package exporter

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcwp-go/dcwp/onnx"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current exporter")

// TestGolden exports fixed-seed fixture networks in every format and compares the
// structure node by node (op types, attributes, shapes, initializer hashes and non-zero
// counts, metadata) with the committed expectation; a format without its golden files
// fails here. Regenerate with: go test ./exporter -run TestGolden -update
func TestGolden(t *testing.T) {
	type golden struct {
		name string
		spec int
		f    Format
	}
	var cases []golden
	for _, n := range []struct {
		model string
		spec  int
	}{{"mlp", 0}, {"cnn", 2}} {
		for _, f := range Formats() {
			cases = append(cases, golden{n.model + "-" + string(f), n.spec, f})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := get(t, specs[c.spec])
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
