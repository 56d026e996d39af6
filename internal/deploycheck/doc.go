// Package deploycheck holds no code, only tests of the module's import boundaries: dcwp-export
// and dcwp-eval deploy anywhere because they never link libtorch (driver/...), and ONNX
// Runtime has one home (onnx/ort). The boundaries are checked with `go list`, so a stray
// import fails a test instead of silently changing what the binaries need.
package deploycheck
