package rundir

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"

	"github.com/dcwp-go/dcwp/internal/atomicfile"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// Identity: every run directory has a random id (RunFile), and every network file the
// trainer writes carries that id and its role in its safetensors metadata. Readers then
// refuse a file copied in from another run, or the wrong network of the same run (the
// mining network as vanilla), instead of exporting it under the wrong name.
//
// The id lives in its own file rather than in config.json so that it outlives every
// rewrite of the configuration: a rerun of later stages or a resume keeps it, and only a
// fresh run (pre-training first, no --resume) draws a new one, since it replaces the
// networks that carry the old one.
const RunFile = "run.json"

// Keys of the identity in a safetensors file's metadata.
const (
	MetaRunID = "run_id"
	MetaRole  = "role"
	// metaLegacyNetwork is the key dcwp-train wrote the role under before run ids existed
	// ("vanilla", "biased", "miner", "dcwp"); still read, so old runs are checked as far
	// as they can be.
	metaLegacyNetwork = "network"
)

// Roles of the files of a run, as recorded in their metadata.
const (
	RoleVanilla = "vanilla"
	RoleBiased  = "biased" // the mining network, whether trained beside ERM or on its own
	RoleDCWP    = "dcwp"
	RoleScores  = "scores"
	RoleMask    = "mask"
	RoleMined   = "mined"
)

// maxRunID bounds an id read from disk, so a hostile run.json cannot put megabytes into
// every message and export that quotes it.
const maxRunID = 64

type runFile struct {
	RunID string `json:"run_id"`
}

// NewRunID draws a random run id (26 base32 characters, 130 bits).
func NewRunID() string { return rand.Text() }

// ReadID returns the id of the run directory dir; ok is false for a run written before
// ids existed (no run.json).
func ReadID(dir string) (id string, ok bool, err error) {
	path := filepath.Join(dir, RunFile)
	b, err := readlimit.ReadFile(path, readlimit.MaxJSON)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("run directory %s: %w", dir, err)
	}
	id, err = parseRunFile(b)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", path, err)
	}
	return id, true, nil
}

func parseRunFile(b []byte) (string, error) {
	var f runFile
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("not valid JSON: %w", err)
	}
	if err := checkRunID(f.RunID); err != nil {
		return "", err
	}
	return f.RunID, nil
}

func checkRunID(id string) error {
	if id == "" || len(id) > maxRunID {
		return fmt.Errorf("run id %.80q: want 1 to %d characters", id, maxRunID)
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("run id %q: want letters, digits, - and _ only", id)
		}
	}
	return nil
}

// EnsureID returns the id of the run directory dir, writing a new one when it has none
// or when fresh is set (a fresh run replaces every network of the directory).
func EnsureID(dir string, fresh bool) (string, error) {
	if !fresh {
		if id, ok, err := ReadID(dir); err != nil || ok {
			return id, err
		}
	}
	return WriteID(dir, NewRunID())
}

// WriteID records id as the run directory's id.
func WriteID(dir, id string) (string, error) {
	if err := checkRunID(id); err != nil {
		return "", err
	}
	return id, atomicfile.WriteJSON(filepath.Join(dir, RunFile), runFile{RunID: id})
}

// FileMeta is the safetensors metadata of a run's file: its identity plus extra entries.
func FileMeta(runID, role string, extra map[string]string) map[string]string {
	m := maps.Clone(extra)
	if m == nil {
		m = map[string]string{}
	}
	if runID != "" {
		m[MetaRunID] = runID
	}
	m[MetaRole] = role
	return m
}

// fileIdentity is what a file's metadata says of where it comes from; empty when unknown.
type fileIdentity struct {
	runID, role string
	// current: written by a trainer that records identities (a MetaRole key), so it must
	// carry both; a file with one of them only was edited or damaged.
	current bool
}

func identityOf(meta map[string]string) fileIdentity {
	_, hasRole := meta[MetaRole]
	_, hasID := meta[MetaRunID]
	id := fileIdentity{runID: meta[MetaRunID], role: meta[MetaRole], current: hasRole || hasID}
	if !id.current {
		switch legacy := meta[metaLegacyNetwork]; legacy {
		case "miner":
			id.role = RoleBiased
		default:
			id.role = legacy
		}
	}
	return id
}

// checkIdentity refuses a file whose metadata proves it is not the role file of this
// run, and returns a warning when it cannot tell (files written before ids existed).
// first is the identity of a file checked before in the same load ("" runID when none),
// so that two files of one network must at least agree with each other.
func (r *Run) checkIdentity(file, role string, got, first fileIdentity, firstFile string) (warning string, err error) {
	path := r.Path(file)
	if got.current && (got.role == "" || checkRunID(got.runID) != nil) {
		return "", fmt.Errorf("%s: safetensors metadata has run id %.80q and role %.80q: a file dcwp-train writes has both; it was edited or damaged",
			path, got.runID, got.role)
	}
	if got.role != "" && got.role != role {
		return "", fmt.Errorf("%s holds the %s network (safetensors metadata role %q), not the %s one: was a file copied over it?",
			path, got.role, got.role, role)
	}
	switch {
	case got.runID != "" && r.ID != "" && got.runID != r.ID:
		return "", fmt.Errorf("%s comes from run %s, but %s says this is run %s: files of two runs are mixed",
			path, got.runID, r.Path(RunFile), r.ID)
	case got.runID != "" && first.runID != "" && got.runID != first.runID:
		return "", fmt.Errorf("%s comes from run %s, but %s from run %s: files of two runs are mixed",
			path, got.runID, r.Path(firstFile), first.runID)
	case got.runID == "" && r.ID != "":
		return fmt.Sprintf("%s carries no run id (written before dcwp-train recorded ids): cannot check that it belongs to run %s", path, r.ID), nil
	case r.ID == "":
		return fmt.Sprintf("%s has no %s (written before dcwp-train recorded run ids): cannot check that its files belong together", r.Dir, RunFile), nil
	}
	return "", nil
}
