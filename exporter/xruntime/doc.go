// Package xruntime holds no code, only tests that the exported graphs run alike in the
// runtimes users deploy them to: every export format of mlp, cnn and resnet18, with
// weight-level and channel-level masks, runs one fixed batch in ONNX Runtime (the
// reference, onnx/ort), OpenCV's DNN module (Debian python3-opencv, through
// testdata/opencv_dnn.py) and onnxruntime-web's wasm backend (npm, under Node, through
// testdata/ortweb.js). Each runtime's logits must match ONNX Runtime's within a float
// tolerance and pick the same class; a format a runtime refuses is a known refusal the test
// asserts by its error, and a runtime that is not installed fails the test, saying what to
// install (tools/setup.sh installs both), rather than skipping it.
package xruntime
