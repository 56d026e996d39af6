package dcwp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// checkpointFile holds the whole resumable state: tensors plus, in the safetensors metadata,
// the bookkeeping below. One file written atomically, so tensors and bookkeeping never disagree.
const checkpointFile = "state.safetensors"

// ckState is the bookkeeping of a run, saved in the checkpoint's metadata.
type ckState struct {
	Loop         string             `json:"loop"` // training loop whose tensors are saved ("" = none)
	Iter         int                `json:"iter"` // iterations of Loop done
	Done         []string           `json:"done"` // finished stages (and sub-loops)
	StageSeconds map[string]float64 `json:"stage_seconds"`
	MetricsSize  int64              `json:"metrics_size"` // metrics.jsonl length at the checkpoint
	// WallSeconds is the wall time of the processes that ran the run up to the checkpoint,
	// each from its start; a resumed run's summary adds its own.
	WallSeconds float64 `json:"wall_seconds,omitempty"`
	// Counts are the counters a resumed loop continues from (each trained network's
	// optimizer steps, …), by the names its stage's file gives them. Counts and Best keep the
	// JSON names of the maps they once were, so a run checkpointed by an older dcwp-train
	// resumes.
	Counts map[string]int `json:"ints"`
	Best   ckBest         `json:"floats"`
}

// ckBest is what --select best-valid has seen so far.
type ckBest struct {
	Valid float64 `json:"best_valid,omitempty"` // best validation accuracy while fine-tuning
}

func newState() ckState { return ckState{StageSeconds: map[string]float64{}, Counts: map[string]int{}} }

func (s *ckState) done(stage string) bool { return slices.Contains(s.Done, stage) }

func ckPath(out string) string { return filepath.Join(out, rundir.CheckpointDir, checkpointFile) }

func writeCheckpoint(out string, st ckState, ts map[string]tensor.Tensor) error {
	if err := os.MkdirAll(filepath.Join(out, rundir.CheckpointDir), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = map[string]tensor.Tensor{}
	}
	if len(ts) == 0 { // safetensors needs no tensors, but keep one so readers never see an empty file
		ts = map[string]tensor.Tensor{"_": tensor.U8([]uint8{0}, 1)}
	}
	if err := tensor.WriteFile(ckPath(out), ts, map[string]string{"state": string(b)}); err != nil {
		return fmt.Errorf("checkpoint (the previous one is intact): %w", err)
	}
	return nil
}

// readCheckpoint returns the saved state, or ok=false when the run has none.
func readCheckpoint(out string) (st ckState, ts map[string]tensor.Tensor, ok bool, err error) {
	ts, meta, err := tensor.ReadFile(ckPath(out))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil, false, nil
	}
	if err != nil {
		return st, nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	if st, err = parseState(meta); err != nil {
		return st, nil, false, fmt.Errorf("checkpoint %s: %w", ckPath(out), err)
	}
	return st, ts, true, nil
}

// parseState decodes the bookkeeping in a checkpoint's metadata. What it says is checked
// against the run's configuration by checkState.
func parseState(meta map[string]string) (ckState, error) {
	var st ckState
	raw, ok := meta["state"]
	if !ok {
		return st, errors.New(`no "state" in the metadata: not a dcwp-train checkpoint`)
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, fmt.Errorf("bad state: %w", err)
	}
	if st.StageSeconds == nil { // written before any stage had run
		st.StageSeconds = map[string]float64{}
	}
	if st.Counts == nil {
		st.Counts = map[string]int{}
	}
	return st, nil
}

// prefixed returns the tensors of m under prefix+name.
func prefixed(prefix string, m map[string]tensor.Tensor, into map[string]tensor.Tensor) {
	for k, v := range m {
		into[prefix+k] = v
	}
}

// unprefix selects the tensors under prefix, stripping it.
func unprefix(prefix string, m map[string]tensor.Tensor) map[string]tensor.Tensor {
	out := map[string]tensor.Tensor{}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}
