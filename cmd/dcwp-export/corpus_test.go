package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// placement is what a corpus case puts at an input's path.
type placement struct {
	kind string // "bytes", "dir", "loop" (a symlink to itself), "missing"
	data []byte
}

func (p placement) put(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return err
	}
	switch p.kind {
	case "bytes":
		return os.WriteFile(path, p.data, 0o644)
	case "dir":
		return os.Mkdir(path, 0o755)
	case "loop":
		return os.Symlink(filepath.Base(path), path)
	}
	return nil
}

type inputCase struct {
	name  string
	file  string // the run file replaced, which the message must name
	put   placement
	which string
	// mayPass: the bytes may still be a valid file (a flipped weight bit); a success is
	// fine then, a failure must still be clean.
	mayPass bool
}

// TestCorpus runs dcwp-export on generated bad inputs (truncations at many offsets, bit
// flips, empty files, directories, symlink loops, missing files, wrong shapes and dtypes,
// non-finite weights, files swapped between two runs or between networks) and bad outputs
// (device nodes, a FIFO, the run's own files, symlinks). Each must end with a non-zero
// exit that is not an internal error, a message naming the file, no panic or runtime
// fatal error, no file written, and every file byte-identical afterwards.
func TestCorpus(t *testing.T) {
	root := t.TempDir()
	runA, runB := filepath.Join(root, "a"), filepath.Join(root, "b")
	for dir, s := range map[string]exportfixture.Spec{runA: spec, runB: {Model: "mlp", Seed: 8, Keep: 0.3}} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := exportfixture.WriteRun(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	outDir := filepath.Join(root, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	orig := map[string][]byte{}
	for _, f := range []string{rundir.ConfigFile, rundir.RunFile, rundir.VanillaFile, rundir.DCWPFile, rundir.MaskFile} {
		b, err := os.ReadFile(filepath.Join(runA, f))
		if err != nil {
			t.Fatal(err)
		}
		orig[f] = b
	}
	cases := inputCases(t, runA, runB, orig)
	good := contents(t, runA, runB)
	failed, passed := 0, 0
	for _, c := range cases {
		path := filepath.Join(runA, c.file)
		if err := c.put.put(path); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, runA, runB, outDir)
		out := filepath.Join(outDir, "m.onnx")
		if c.mayPass { // where a success may write, outside the directories watched
			out = filepath.Join(t.TempDir(), "m.onnx")
		}
		code, stderr := export(runA, out, c.which)
		if code == 0 && c.mayPass {
			passed++
		} else {
			failed++
			checkClean(t, c.name, code, stderr, path)
		}
		if after := snapshot(t, runA, runB, outDir); after != before {
			t.Errorf("%s: files changed:\nbefore %s\nafter  %s", c.name, before, after)
		}
		if err := (placement{kind: "bytes", data: orig[c.file]}).put(path); err != nil {
			t.Fatal(err)
		}
	}
	if got := contents(t, runA, runB); got != good {
		t.Errorf("run files changed by the input cases:\nbefore %s\nafter  %s", good, got)
	}
	outputs := outputCases(t, runA, outDir)
	good = contents(t, runA, runB, outDir)
	for _, c := range outputs {
		before := snapshot(t, runA, runB, outDir, "/dev/full", "/dev/null")
		args := []string{"dcwp-export", "--run", runA, "--out", c.out}
		if c.pj != "" {
			args = append(args, "--params-json", c.pj)
		}
		var so, se bytes.Buffer
		code := run(args, &so, &se)
		checkClean(t, c.name, code, se.String(), c.names)
		if after := snapshot(t, runA, runB, outDir, "/dev/full", "/dev/null"); after != before {
			t.Errorf("%s: files changed:\nbefore %s\nafter  %s", c.name, before, after)
		}
	}
	if got := contents(t, runA, runB, outDir); got != good {
		t.Errorf("files changed by the output cases:\nbefore %s\nafter  %s", good, got)
	}
	t.Logf("%d input cases (%d refused cleanly, %d still valid files exported), %d output cases refused cleanly",
		len(cases), failed, passed, len(outputs))
}

func export(run, out, which string) (int, string) {
	var so, se bytes.Buffer
	code := runCmd([]string{"dcwp-export", "--run", run, "--out", out, "--which", which}, &so, &se)
	return code, se.String()
}

var runCmd = run

func checkClean(t *testing.T, name string, code int, stderr, path string) {
	t.Helper()
	switch {
	case code == 0:
		t.Errorf("%s: exit 0, want a refusal", name)
	case code == 70 || strings.Contains(stderr, "panic") || strings.Contains(stderr, "fatal error") || strings.Contains(stderr, "goroutine "):
		t.Errorf("%s: crashed (exit %d): %s", name, code, stderr)
	case !strings.Contains(stderr, path) && !(strings.Contains(stderr, filepath.Dir(path)) && strings.Contains(stderr, filepath.Base(path))):
		t.Errorf("%s: exit %d, message does not name %s: %s", name, code, path, stderr)
	}
}

// snapshot describes every file under the roots by what any write would change: inode
// (a rename), size, modification time, type, device number and symlink target. Contents
// are compared once at the end (contents).
func snapshot(t *testing.T, roots ...string) string {
	t.Helper()
	var b strings.Builder
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", p, err)
				return nil
			}
			fi, err := os.Lstat(p)
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", p, err)
				return nil
			}
			st := fi.Sys().(*syscall.Stat_t)
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, "%s %v ino %d size %d mtime %d.%d rdev %d -> %q\n", p, fi.Mode(), st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Rdev, target)
			return nil
		})
	}
	return b.String()
}

// contents hashes every regular file under the roots.
func contents(t *testing.T, roots ...string) string {
	t.Helper()
	var b strings.Builder
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "%s %x\n", p, sha256.Sum256(data))
			}
			return nil
		})
	}
	return b.String()
}

func inputCases(t *testing.T, runA, runB string, orig map[string][]byte) []inputCase {
	var cs []inputCase
	which := func(f string) string {
		if f == rundir.VanillaFile {
			return rundir.Vanilla
		}
		return rundir.DCWP
	}
	for f, b := range orig {
		w := which(f)
		for _, k := range []string{"dir", "loop", "missing"} {
			// a run without run.json is one from before ids: it exports, with a warning
			cs = append(cs, inputCase{name: f + " " + k, file: f, put: placement{kind: k}, which: w, mayPass: f == rundir.RunFile && k == "missing"})
		}
		cs = append(cs, inputCase{name: f + " empty", file: f, put: placement{kind: "bytes"}, which: w})
		end := len(bytes.TrimRight(b, "\n")) // a JSON file cut after its last brace is still whole
		for _, n := range offsets(end, b) {
			cs = append(cs, inputCase{name: fmt.Sprintf("%s cut at %d", f, n), file: f, put: placement{"bytes", b[:n]}, which: w})
		}
		if !strings.HasSuffix(f, ".safetensors") {
			continue
		}
		header := 8 + int(binary.LittleEndian.Uint64(b))
		for i := 0; i < 48; i++ {
			pos := i * header / 48
			cs = append(cs, inputCase{name: fmt.Sprintf("%s header bit flip at %d", f, pos), file: f, put: placement{"bytes", flip(b, pos, i)}, which: w})
		}
		for i := 0; i < 8; i++ {
			pos := header + i*(len(b)-header)/8
			cs = append(cs, inputCase{name: fmt.Sprintf("%s data bit flip at %d", f, pos), file: f, put: placement{"bytes", flip(b, pos, i)}, which: w, mayPass: true})
		}
	}
	idA, _, _ := rundir.ReadID(runA)
	rewrite := func(f string, edit func(ts map[string]tensor.Tensor, meta map[string]string)) placement {
		ts, meta, err := tensor.Decode(orig[f])
		if err != nil {
			t.Fatal(err)
		}
		edit(ts, meta)
		p := filepath.Join(t.TempDir(), f)
		if err := tensor.WriteFile(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		return placement{"bytes", b}
	}
	other := func(f string) placement {
		b, err := os.ReadFile(filepath.Join(runB, f))
		if err != nil {
			t.Fatal(err)
		}
		return placement{"bytes", b}
	}
	cs = append(cs,
		inputCase{"mask of another run", rundir.MaskFile, other(rundir.MaskFile), rundir.DCWP, false},
		inputCase{"dcwp weights of another run", rundir.DCWPFile, other(rundir.DCWPFile), rundir.DCWP, false},
		inputCase{"vanilla weights of another run", rundir.VanillaFile, other(rundir.VanillaFile), rundir.Vanilla, false},
		inputCase{"run.json of another run", rundir.RunFile, other(rundir.RunFile), rundir.DCWP, false},
		inputCase{"mining network as vanilla", rundir.VanillaFile, rewrite(rundir.VanillaFile, func(_ map[string]tensor.Tensor, m map[string]string) {
			m[rundir.MetaRole] = rundir.RoleBiased
		}), rundir.Vanilla, false},
		inputCase{"vanilla weights as dcwp", rundir.DCWPFile, placement{"bytes", orig[rundir.VanillaFile]}, rundir.DCWP, false},
		inputCase{"weights as mask", rundir.MaskFile, placement{"bytes", orig[rundir.DCWPFile]}, rundir.DCWP, false},
		inputCase{"mask with the weights' role", rundir.MaskFile, rewrite(rundir.MaskFile, func(_ map[string]tensor.Tensor, m map[string]string) {
			m[rundir.MetaRole] = rundir.RoleDCWP
		}), rundir.DCWP, false},
		inputCase{"mask as float32", rundir.MaskFile, rewrite(rundir.MaskFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			m := ts["fc1.weight"]
			f := make([]float32, len(m.U8))
			ts["fc1.weight"] = tensor.F32(f, m.Shape...)
		}), rundir.DCWP, false},
		inputCase{"weight transposed", rundir.DCWPFile, rewrite(rundir.DCWPFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			w := ts["fc1.weight"]
			ts["fc1.weight"] = tensor.F32(w.F32, w.Shape[1], w.Shape[0])
		}), rundir.DCWP, false},
		inputCase{"weight as uint8", rundir.VanillaFile, rewrite(rundir.VanillaFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			w := ts["fc2.bias"]
			ts["fc2.bias"] = tensor.U8(make([]uint8, len(w.F32)), w.Shape...)
		}), rundir.Vanilla, false},
		inputCase{"tensor missing", rundir.DCWPFile, rewrite(rundir.DCWPFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			delete(ts, "fc3.bias")
		}), rundir.DCWP, false},
		inputCase{"NaN weight", rundir.DCWPFile, rewrite(rundir.DCWPFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			ts["fc1.weight"].F32[5] = float32(math.NaN())
		}), rundir.DCWP, false},
		inputCase{"Inf bias", rundir.VanillaFile, rewrite(rundir.VanillaFile, func(ts map[string]tensor.Tensor, _ map[string]string) {
			ts["fc1.bias"].F32[0] = float32(math.Inf(-1))
		}), rundir.Vanilla, false},
		inputCase{"config of another model", rundir.ConfigFile, placement{"bytes", bytes.Replace(orig[rundir.ConfigFile], []byte(`"mlp"`), []byte(`"cnn"`), 1)}, rundir.DCWP, false},
		inputCase{"run id with a slash", rundir.RunFile, placement{"bytes", []byte(`{"run_id": "../` + idA + `"}`)}, rundir.DCWP, false},
	)
	return cs
}

// offsets are cut points over the whole file, dense at the start where the header is.
func offsets(end int, b []byte) []int {
	ns := []int{1, 2, 7, 8, 9, 16}
	if len(b) >= 8 {
		if h := 8 + int(binary.LittleEndian.Uint64(b)); h < end {
			ns = append(ns, h-1, h, h+1)
		}
	}
	for i := 1; i < 24; i++ {
		ns = append(ns, i*end/24)
	}
	ns = append(ns, end-1)
	var out []int
	seen := map[int]bool{}
	for _, n := range ns {
		if n > 0 && n < end && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func flip(b []byte, pos, bit int) []byte {
	c := bytes.Clone(b)
	c[pos] ^= 1 << (bit % 8)
	return c
}

type outputCase struct {
	name, out, pj string
	names         string // the path the message must name
}

func outputCases(t *testing.T, runA, outDir string) []outputCase {
	fifo := filepath.Join(outDir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(outDir, "good.onnx")
	if err := os.WriteFile(good, []byte("an earlier export"), 0o644); err != nil {
		t.Fatal(err)
	}
	link, loop := filepath.Join(outDir, "link.onnx"), filepath.Join(outDir, "loop.onnx")
	os.Symlink(good, link)
	os.Symlink("loop.onnx", loop)
	cs := []outputCase{
		{"FIFO", fifo, "", fifo},
		{"/dev/null", "/dev/null", filepath.Join(outDir, "p.json"), "/dev/null"},
		{"params to a FIFO", filepath.Join(outDir, "m.onnx"), fifo, fifo},
		{"symlink to an earlier export", link, "", link},
		{"symlink loop", loop, "", loop},
		{"directory", outDir, "", outDir},
		{"parent is a file", filepath.Join(good, "m.onnx"), "", good},
		{"params onto the model", good, good, good},
		{"params onto the run's weights", filepath.Join(outDir, "m.onnx"), filepath.Join(runA, rundir.DCWPFile), filepath.Join(runA, rundir.DCWPFile)},
	}
	for _, f := range []string{rundir.DCWPFile, rundir.MaskFile, rundir.VanillaFile, rundir.ConfigFile, rundir.RunFile} {
		p := filepath.Join(runA, f)
		cs = append(cs, outputCase{"the run's " + f, p, filepath.Join(outDir, "p.json"), p})
	}
	if os.Geteuid() == 0 { // device nodes of one's own need root; /dev/full is what root would destroy
		dev := filepath.Join(outDir, "tty")
		if err := syscall.Mknod(dev, syscall.S_IFCHR|0o600, 5<<8); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, outputCase{"/dev/full", "/dev/full", filepath.Join(outDir, "p.json"), "/dev/full"},
			outputCase{"a character device", dev, "", dev})
	}
	return cs
}
