// Package onnxpb holds the ONNX protobuf types dcwp-go owns (generated from onnx.proto).
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
