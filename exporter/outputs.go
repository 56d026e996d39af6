package exporter

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// WriteOutputs writes an export's two related files, the model and its parameter counts
// (st, completed with the file's name, size and sha256), and returns the model's size.
//
// Two files in two arbitrary places cannot be replaced together atomically: each rename
// is atomic, the pair is not, and a kill between the renames leaves one new file beside
// one old one. So the pair is made self-checking instead: the params file records the
// sha256 of the model it describes, and ReadParams refuses a params file whose model is
// not the one beside it. The model is renamed first: a kill before its rename leaves both
// old files, a kill after the params rename both new ones, and a kill in between a new
// model beside an old params file whose hash names the old model, which ReadParams
// reports as an interrupted export instead of wrong counts. The reverse order would be as
// detectable, but would leave the old model, the artifact people deploy, beside counts
// of a model that does not exist.
func WriteOutputs(modelPath string, m *onnxpb.ModelProto, paramsPath string, st *Stats) (int64, error) {
	return writeOutputs(modelPath, m, paramsPath, st, nil)
}

// writeOutputs is WriteOutputs with a hook called between the two renames, where the
// tests kill the process.
func writeOutputs(modelPath string, m *onnxpb.ModelProto, paramsPath string, st *Stats, between func()) (int64, error) {
	data, err := Encode(m)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", modelPath, err)
	}
	sum := sha256.Sum256(data)
	st.File, st.FileBytes, st.ModelSHA256 = modelPath, int64(len(data)), hex.EncodeToString(sum[:])
	params, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", paramsPath, err)
	}
	if err := writeBytes(modelPath, data); err != nil {
		return 0, err
	}
	if between != nil {
		between()
	}
	if err := writeBytes(paramsPath, append(params, '\n')); err != nil {
		return 0, fmt.Errorf("%w (the model %s is written; its params file is not)", err, modelPath)
	}
	return int64(len(data)), nil
}

func writeBytes(path string, data []byte) error {
	return atomicfile.Write(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadParams reads the params file of an export and checks that it describes the model
// at modelPath (same sha256): a mismatch means the model was replaced without its params
// file, by an interrupted export or by hand.
func ReadParams(paramsPath, modelPath string) (*Stats, error) {
	b, err := os.ReadFile(paramsPath)
	if err != nil {
		return nil, err
	}
	st, err := parseParams(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", paramsPath, err)
	}
	model, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(model)
	if got := hex.EncodeToString(sum[:]); got != st.ModelSHA256 {
		return nil, fmt.Errorf("%s describes a model with sha256 %s, but %s has sha256 %s: "+
			"the model was replaced without its params file (an interrupted dcwp-export?); export again",
			paramsPath, st.ModelSHA256, modelPath, got)
	}
	return st, nil
}

// parseParams decodes a params file, refusing unknown fields and one without a model hash
// (written before hashes were recorded, so it cannot be checked).
func parseParams(b []byte) (*Stats, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st Stats
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("not a dcwp-export params file: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a dcwp-export params file: data after the JSON object")
	}
	if len(st.ModelSHA256) != 2*sha256.Size {
		return nil, fmt.Errorf("no model_sha256 (written by a dcwp-export older than the check): cannot tell which model it describes")
	}
	return &st, nil
}
