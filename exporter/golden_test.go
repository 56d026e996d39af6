package exporter

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current exporter")

// TestGolden exports the first fixture network of every model in every format, and in the
// compact format padded as dcwp-export pads it (ChannelMultipleOf), and compares the structure node by node (op types, attributes, shapes, initializer hashes
// and non-zero counts, metadata) with the committed expectation; a model or a format
// without its golden files fails here. Regenerate with:
// go test ./exporter -run TestGolden -update
func TestGolden(t *testing.T) {
	type golden struct {
		name string
		spec exportfixture.Spec
		f    Format
		mult int // Options.ChannelMultiple
	}
	var cases []golden
	for _, model := range arch.Models() {
		i := slices.IndexFunc(specs, func(s exportfixture.Spec) bool { return s.Model == model })
		if i < 0 {
			t.Errorf("model %s has no fixture network in specs", model)
			continue
		}
		for _, f := range Formats() {
			cases = append(cases, golden{model + "-" + string(f), specs[i], f, 0})
			if m := ChannelMultipleOf(f); m > 1 && hasConv(get(t, specs[i]).net.Arch) { // only convolutions are padded
				cases = append(cases, golden{fmt.Sprintf("%s-%s-x%d", model, f, m), specs[i], f, m})
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := get(t, c.spec)
			data := b.model[c.f]
			if c.mult > 1 {
				pm, _, err := ExportNetwork(c.spec.Config(), b.net, Options{Format: c.f, Source: "fixture", ChannelMultiple: c.mult})
				if err != nil {
					t.Fatal(err)
				}
				if data, err = Encode(pm); err != nil {
					t.Fatal(err)
				}
			}
			m, err := onnx.Parse(data, c.name)
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
			stored, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want onnx.Summary
			if err := json.Unmarshal(stored, &want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, ch := range onnx.Diff(&want, got) {
				t.Errorf("%s", ch)
			}
		})
	}
}

func hasConv(a *arch.Arch) bool {
	return slices.ContainsFunc(a.Nodes, func(n arch.Node) bool { return n.Op == arch.OpConv })
}
