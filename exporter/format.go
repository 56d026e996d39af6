package exporter

import (
	"fmt"
	"strings"

	"github.com/dcwp-go/dcwp/onnx"
)

// Format is how the weights are stored: the name of one row of the format table.
type Format string

// format is one export format. Each has a file of its own (dense.go, sparse.go,
// compact.go) that defines its row; table lists the rows, and everything that names the
// formats (ParseFormat, Formats, dcwp-export's --format and --help, the tests, the
// benchmarks) reads it.
type format struct {
	name Format
	// help is what dcwp-export --help says of it (wrapped there); the constant's doc
	// comment says more.
	help string
	// pass reshapes the layers after BatchNorm folding and before emission (compaction
	// removes units); nil leaves them as they are.
	pass func([]*layer) error
	// weights stores a Gemm or Conv weight (biases are always dense).
	weights func(b *onnx.Builder, name string, shape []int, w []float32)
}

// table is every export format, the default first, in the order --help lists them.
// Adding a format is its file and its row here.
func table() []format {
	return []format{denseFormat(), sparseFormat(), compactFormat()}
}

// Formats lists the format names, the default first.
func Formats() []Format {
	var out []Format
	for _, f := range table() {
		out = append(out, f.name)
	}
	return out
}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	if _, err := lookup(Format(s)); err != nil {
		return "", err
	}
	return Format(s), nil
}

// Help is the format's one-sentence description, for --help.
func (f Format) Help() string {
	r, err := lookup(f)
	if err != nil {
		return ""
	}
	return r.help
}

func lookup(name Format) (format, error) {
	for _, f := range table() {
		if f.name == name {
			return f, nil
		}
	}
	return format{}, fmt.Errorf("unknown format %q (want %s)", name, formatList())
}

// formatList names the formats as prose: "dense, sparse or compact".
func formatList() string {
	var names []string
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
