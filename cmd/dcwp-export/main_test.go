package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/rundir"
)

var spec = exportfixture.Spec{Model: "mlp", Seed: 7, Keep: 0.3, DeadRows: 0.2}

func fixtureRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exportfixture.WriteRun(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportWritesModelAndParams(t *testing.T) {
	dir := fixtureRun(t)
	for _, f := range exporter.Formats() {
		t.Run(string(f), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "model.onnx")
			var so, se bytes.Buffer
			code := run([]string{"dcwp-export", "--run", dir, "--out", out, "--format", string(f), "--opset", "17"}, &so, &se)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, se.String())
			}
			if !strings.Contains(so.String(), "parameters:") || !strings.Contains(so.String(), "fc1") {
				t.Errorf("stdout lacks the parameter table:\n%s", so.String())
			}
			sum, err := onnx.SummarizeFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Opset != 17 || sum.Metadata["format"] != string(f) || sum.Metadata["source_run"] != dir || sum.Metadata["which"] != "dcwp" ||
				sum.Metadata["run_id"] != spec.RunID() || sum.Metadata["role"] != rundir.RoleDCWP {
				t.Errorf("opset %d metadata %v", sum.Opset, sum.Metadata)
			}
			st, err := exporter.ReadParams(out+".params.json", out)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(out)
			if se.Len() > 0 {
				t.Errorf("stderr of a run with ids: %s", se.String())
			}
			if st.FileBytes != fi.Size() || st.ParamsTotal != sum.ParamsTotal || st.ParamsNonZero != sum.ParamsNonZero {
				t.Errorf("params JSON %+v disagrees with the file (%d bytes, %d/%d)", st, fi.Size(), sum.ParamsNonZero, sum.ParamsTotal)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	// a compact export is padded to DefaultChannelMultiple unless told otherwise
	for _, c := range []struct {
		args []string
		want int
	}{{nil, exporter.DefaultChannelMultiple}, {[]string{"--channel-multiple", "16"}, 16}, {[]string{"--channel-multiple", "1"}, 0}} {
		out := filepath.Join(t.TempDir(), "c.onnx")
		var so, se bytes.Buffer
		if code := run(append([]string{"dcwp-export", "--run", dir, "--out", out, "--format", "compact"}, c.args...), &so, &se); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, se.String())
		}
		st, err := exporter.ReadParams(out+".params.json", out)
		if err != nil {
			t.Fatal(err)
		}
		if st.ChannelMultiple != c.want || strings.Contains(so.String(), "padded") != (c.want > 1) {
			t.Errorf("%v: channel multiple %d, want %d; stdout:\n%s", c.args, st.ChannelMultiple, c.want, so.String())
		}
	}
	// --which vanilla and --params-json
	out := filepath.Join(t.TempDir(), "v.onnx")
	pj := filepath.Join(t.TempDir(), "counts.json")
	var so, se bytes.Buffer
	if code := run([]string{"dcwp-export", "--run", dir, "--out", out, "--which", "vanilla", "--params-json", pj}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	b, err := os.ReadFile(pj)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil || st["which"] != "vanilla" || st["params_total"] != st["params_nonzero"] {
		t.Errorf("vanilla params JSON %s (%v)", b, err)
	}
}

func TestExportErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(run, outDir string) (args []string)
		code  int
		want  string
	}{
		{"no flags", func(run, o string) []string { return nil }, 2, "--run, --out are required"},
		{"no --out", func(run, o string) []string { return []string{"--run", run} }, 2, "--out is required"},
		{"stray argument", func(run, o string) []string { return []string{"--run", run, "--out", o + "/m.onnx", "extra"} }, 2, `unexpected arguments ["extra"]`},
		{"run as an argument", func(run, o string) []string { return []string{run} }, 2, "the run directory is --run DIR"},
		{"flags after the run", func(run, o string) []string { return []string{run, "--out", o + "/m.onnx"} }, 2, "put the flags first"},
		{"unknown flag", func(run, o string) []string { return []string{"--run", run, "--out", o + "/m.onnx", "--bogus"} }, 2, "bogus"},
		{"bad format", func(run, o string) []string { return []string{"--run", run, "--out", o + "/m.onnx", "--format", "zip"} }, 2, `unknown format "zip"`},
		{"bad which", func(run, o string) []string {
			return []string{"--run", run, "--out", o + "/m.onnx", "--which", "biased"}
		}, 2, `--which "biased"`},
		{"bad opset", func(run, o string) []string { return []string{"--run", run, "--out", o + "/m.onnx", "--opset", "12"} }, 2, "--opset 12"},
		{"channel multiple without compact", func(run, o string) []string {
			return []string{"--run", run, "--out", o + "/m.onnx", "--channel-multiple", "8"}
		}, 2, "--channel-multiple 8: want 0 or 1 (none), or ≥ 2 with --format compact"},
		{"negative channel multiple", func(run, o string) []string {
			return []string{"--run", run, "--out", o + "/m.onnx", "--format", "compact", "--channel-multiple", "-8"}
		}, 2, "--channel-multiple -8"},
		{"missing run dir", func(run, o string) []string { return []string{"--run", run + "-nope", "--out", o + "/m.onnx"} }, 2, "run-nope"},
		{"no config", func(run, o string) []string {
			os.Remove(filepath.Join(run, rundir.ConfigFile))
			return []string{"--run", run, "--out", o + "/m.onnx"}
		}, 2, "no config.json"},
		{"half-written: weights missing", func(run, o string) []string {
			os.Remove(filepath.Join(run, rundir.DCWPFile))
			return []string{"--run", run, "--out", o + "/m.onnx"}
		}, 1, "dcwp.safetensors is missing"},
		{"half-written: truncated mask", func(run, o string) []string {
			p := filepath.Join(run, rundir.MaskFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/3], 0o644)
			return []string{"--run", run, "--out", o + "/m.onnx"}
		}, 1, "mask.safetensors: not a valid safetensors file"},
		{"checkpoint does not match config", func(run, o string) []string {
			cfg := spec.Config()
			cfg.Model = "cnn"
			atomicfile.WriteJSON(filepath.Join(run, rundir.ConfigFile), cfg)
			return []string{"--run", run, "--out", o + "/m.onnx"}
		}, 1, "does not match model cnn"},
		{"output dir missing", func(run, o string) []string { return []string{"--run", run, "--out", o + "/no/such/m.onnx"} }, 1, "does not exist"},
		{"output parent is a file", func(run, o string) []string {
			os.WriteFile(o+"/file", nil, 0o644)
			return []string{"--run", run, "--out", o + "/file/m.onnx"}
		}, 1, "is not a directory"},
		{"output is a directory", func(run, o string) []string { return []string{"--run", run, "--out", o} }, 1, "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run0 := fixtureRun(t)
			outDir := t.TempDir()
			args := append([]string{"dcwp-export"}, c.setup(run0, outDir)...)
			var so, se bytes.Buffer
			code := run(args, &so, &se)
			if code != c.code || !strings.Contains(se.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, se.String(), c.code, c.want)
			}
			if code == 1 {
				if ents, _ := os.ReadDir(outDir); len(ents) > 1 || (len(ents) == 1 && ents[0].Name() != "file") {
					t.Errorf("output directory not clean after failure: %v", ents)
				}
			}
		})
	}
}
