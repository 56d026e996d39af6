package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// isTemp reports whether a path is a temporary of a write in progress: an atomicfile sibling
// (".NAME.tmp-*", ".NAME.pending") or a folder of cmnist's atomic build (".dcwp-tmp-*",
// ".dcwp-old-*"). Only these may hold a partial file after a kill or a full disk.
func isTemp(rel string) bool {
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.Contains(part, atomicfile.TempPrefix) || strings.HasPrefix(part, ".dcwp-tmp-") ||
			strings.HasPrefix(part, ".dcwp-old-") || strings.HasSuffix(part, ".pending") {
			return true
		}
	}
	return false
}

// checkWhole fails unless every regular file under dir that is not a temporary parses as
// what its name says: nothing partial at a final path.
func checkWhole(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if isTemp(rel) || !d.Type().IsRegular() {
			return nil
		}
		if err := parseFile(p); err != nil {
			return fmt.Errorf("partial or broken file at a final path: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func parseFile(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(p, ".safetensors"):
		_, _, err = tensor.Decode(b)
	case strings.HasSuffix(p, ".jsonl"):
		if len(b) > 0 && b[len(b)-1] != '\n' {
			return fmt.Errorf("%s: last row cut short", p)
		}
		_, err = rundir.ParseMetrics(b)
	case strings.HasSuffix(p, ".json"):
		if !json.Valid(b) {
			err = fmt.Errorf("%s: not whole JSON (%d bytes)", p, len(b))
		}
	case strings.HasSuffix(p, ".png"):
		_, err = png.Decode(bytes.NewReader(b))
	case strings.HasSuffix(p, ".onnx"):
		_, err = onnx.Parse(b, p)
	default:
		err = fmt.Errorf("a file of unknown kind")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// sameRun fails unless run directory got holds exactly the files of want, with the same
// contents but for what differs between two uninterrupted runs: the run id (run.json and the
// tensor files' metadata), and the wall-clock figures (stage and wall seconds, peak memory).
func sameRun(t *testing.T, want, got string) {
	t.Helper()
	wf, gf := regularFiles(t, want), regularFiles(t, got)
	if !reflect.DeepEqual(keys(wf), keys(gf)) {
		t.Fatalf("files of %s:\n%v\nwant those of an uninterrupted run:\n%v", got, keys(gf), keys(wf))
	}
	for rel, a := range wf {
		b := gf[rel]
		if !sameContent(t, rel, a, b) {
			t.Errorf("%s differs from the uninterrupted run's", filepath.Join(got, rel))
		}
	}
}

func sameContent(t *testing.T, rel string, a, b []byte) bool {
	switch {
	case rel == rundir.RunFile:
		return true // two runs, two ids
	case strings.HasSuffix(rel, ".safetensors"):
		ta, ma, errA := tensor.Decode(a)
		tb, mb, errB := tensor.Decode(b)
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v; %v", rel, errA, errB)
		}
		return reflect.DeepEqual(ta, tb) && reflect.DeepEqual(stableMeta(t, ma), stableMeta(t, mb))
	case rel == rundir.SummaryFile:
		return reflect.DeepEqual(stableJSON(t, a), stableJSON(t, b))
	}
	return bytes.Equal(a, b)
}

// stableMeta is a tensor file's metadata without the run id and, in a checkpoint's state,
// the stage times.
func stableMeta(t *testing.T, m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch k {
		case rundir.MetaRunID:
		case "state":
			out[k] = stableJSON(t, []byte(v))
		default:
			out[k] = v
		}
	}
	return out
}

func stableJSON(t *testing.T, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "stage_seconds") // timings, and the profile of what the last process ran
	delete(m, "wall_seconds")
	delete(m, "peak_memory_mb")
	delete(m, "profile")
	return m
}

func regularFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
