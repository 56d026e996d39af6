package exporter

import "github.com/dcwp-go/dcwp/onnx"

// Sparse stores Gemm and Conv weights as COO sparse initializers (sorted linear indices).
// Each non-zero costs 12 bytes (float32 value, int64 index) against 4 per weight dense,
// so the file is smaller only above about 67 % sparsity. ONNX Runtime (native and
// onnxruntime-web) loads sparse initializers; OpenCV's DNN importer (4.6), onnx-go v0.5.0
// and onnx 1.12's full check (shape inference) do not, so dense or compact is the portable
// choice (exporter/xruntime and the onnx-go tests hold each runtime to it).
const Sparse Format = "sparse"

func sparseFormat() format {
	return format{name: Sparse,
		help: "Gemm/Conv weights as COO sparse initializers: 12 bytes per non-zero (float32 value, int64 index) " +
			"against 4 per weight dense, so smaller only above about 67 % sparsity (a warning says when it is larger). " +
			"ONNX Runtime (native and onnxruntime-web) loads sparse initializers; OpenCV's DNN importer, onnx-go and onnx 1.12's full check do not",
		weights: (*onnx.Builder).Sparse}
}
