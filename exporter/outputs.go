package exporter

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
)

// WriteOutputs writes an export's two related files, the model and its parameter counts
// (st, completed with the file's name, size and sha256), and returns the model's size.
//
// Each rename is atomic, the pair is not, so the pair carries a small journal: the new
// params file is first put beside the old one as PARAMS.pending, then the model is renamed
// into place, then the pending file. A kill before the model's rename leaves the old pair
// and a pending file whose hash is not the model's; a kill after it leaves the new model
// and a pending file whose hash is. Recover, run by the next export of that pair and by
// ReadParams, finishes the second case and undoes the first, so a reader sees either
// both old files or both new ones. The params file also records the model's sha256, so
// a pair torn any other way (a model copied over by hand) is reported, not trusted.
func WriteOutputs(modelPath string, m *onnxpb.ModelProto, paramsPath string, st *Stats) (int64, error) {
	return writeOutputs(modelPath, m, paramsPath, st, nil)
}

// pendingSuffix marks the new params file while its model is being replaced.
const pendingSuffix = ".pending"

// writeOutputs is WriteOutputs with a hook called at each step ("pending", "model"),
// where the tests kill the process.
func writeOutputs(modelPath string, m *onnxpb.ModelProto, paramsPath string, st *Stats, at func(step string)) (int64, error) {
	if at == nil {
		at = func(string) {}
	}
	if err := Recover(modelPath, paramsPath); err != nil {
		return 0, err
	}
	for _, p := range []string{modelPath, paramsPath, paramsPath + pendingSuffix} { // left by a killed export
		if _, err := atomicfile.RemoveStaleOf(p); err != nil {
			return 0, err
		}
	}
	data, err := Encode(m)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", modelPath, err)
	}
	st.File, st.FileBytes, st.ModelSHA256 = modelPath, int64(len(data)), sha(data)
	params, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", paramsPath, err)
	}
	pending := paramsPath + pendingSuffix
	if err := writeBytes(pending, append(params, '\n')); err != nil {
		return 0, err
	}
	at("pending")
	if err := writeBytes(modelPath, data); err != nil {
		os.Remove(pending)
		return 0, err
	}
	at("model")
	if err := os.Rename(pending, paramsPath); err != nil {
		return 0, fmt.Errorf("write %s: %w (the model %s is written; the next dcwp-export or read of the pair completes it)", paramsPath, err, modelPath)
	}
	return int64(len(data)), nil
}

// Recover completes or undoes an export of the pair that was killed between its renames
// (see WriteOutputs): a pending params file describing the model now at modelPath is
// renamed into place, any other is removed. Without a pending file it does nothing.
func Recover(modelPath, paramsPath string) error {
	pending := paramsPath + pendingSuffix
	b, err := os.ReadFile(pending)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover interrupted export: %w", err)
	}
	st, perr := parseParams(b)
	model, merr := os.ReadFile(modelPath)
	if perr == nil && merr == nil && sha(model) == st.ModelSHA256 {
		err = os.Rename(pending, paramsPath)
	} else {
		err = os.Remove(pending)
	}
	if err != nil {
		return fmt.Errorf("recover interrupted export of %s: %w", modelPath, err)
	}
	return nil
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func writeBytes(path string, data []byte) error {
	return atomicfile.Write(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadParams reads the params file of an export, after Recover, and checks that it
// describes the model at modelPath (same sha256): a mismatch means the model was replaced
// without its params file, by hand.
func ReadParams(paramsPath, modelPath string) (*Stats, error) {
	if err := Recover(modelPath, paramsPath); err != nil {
		return nil, err
	}
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
	if got := sha(model); got != st.ModelSHA256 {
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
