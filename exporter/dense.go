package exporter

import "github.com/dcwp-go/dcwp/onnx"

// Dense keeps every weight, zeros included, in dense initializers.
const Dense Format = "dense"

func denseFormat() format {
	return format{name: Dense, help: "every weight stored, pruned ones as zeros", weights: (*onnx.Builder).Dense}
}
