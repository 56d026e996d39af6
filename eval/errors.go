package eval

import (
	"errors"

	"github.com/dcwp-go/dcwp/onnx/ort"
)

// Errors wrapped (with %w) by this package, for errors.Is. The runtime's own errors are
// onnx/ort's sentinels, so a caller tests one value whichever package found the problem.
var (
	// ErrORTLib: the ONNX Runtime shared library is missing or cannot be loaded.
	ErrORTLib = ort.ErrLib
	// ErrProvider: the requested execution provider cannot be used here.
	ErrProvider = ort.ErrProvider
	// ErrModel: the model file is missing, truncated, not ONNX, or not a classifier.
	ErrModel = ort.ErrModel
	// ErrUsage: bad options (batch sizes, tolerances, provider names, threads).
	ErrUsage = ort.ErrOptions
	// ErrShape: the model's input or output does not fit the dataset.
	ErrShape = errors.New("model does not fit the dataset")
	// ErrData: the data folder or split is missing or unreadable.
	ErrData = errors.New("data unavailable")
)
