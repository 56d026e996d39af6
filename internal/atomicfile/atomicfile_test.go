package atomicfile

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteHonoursUmask(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		old := syscall.Umask(tc.umask)
		path := filepath.Join(t.TempDir(), "f.json")
		err := WriteJSON(path, map[string]int{"a": 1})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("umask %04o: mode %04o, want %04o", tc.umask, got, tc.want)
		}
	}
}

func TestFailedWriteKeepsOldFileAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w *bufio.Writer) error {
		w.WriteString("partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the writer's", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("old file became %q", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("directory holds %d entries, want only the old file", len(es))
	}
}

func TestReadJSONNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte("{"), 0o644)
	var v any
	if err := ReadJSON(path, &v); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "hard.onnx")
	if err := os.Link(in, link); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.onnx")
	if err := os.Symlink(in, sym); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		inputs     []string
		want       string // "" for no error
	}{
		{"new file", filepath.Join(dir, "new.json"), []string{in}, ""},
		{"existing other file", other, []string{in}, ""},
		{"missing input skipped", other, []string{filepath.Join(dir, "nope")}, ""},
		{"empty", "", nil, "empty"},
		{"directory", dir, nil, "a directory"},
		{"device", "/dev/null", nil, "a character device"},
		{"fifo", fifo, nil, "a FIFO"},
		{"symlink", sym, nil, "a symbolic link"},
		{"symlink loop", loop, nil, "a symbolic link"},
		{"same as input", in, []string{other, in}, "is the input"},
		{"hard link of input", link, []string{in}, "is the input"},
		{"other spelling of input", filepath.Join(dir, ".", "model.onnx"), []string{in}, "is the input"},
		{"missing parent", filepath.Join(dir, "no", "x.json"), nil, "does not exist"},
		{"parent is a file", filepath.Join(other, "x.json"), nil, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOutput(tc.path, tc.inputs...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.path != "" && !strings.Contains(err.Error(), tc.path)) {
				t.Fatalf("error %v, want one naming %q and saying %q", err, tc.path, tc.want)
			}
		})
	}
}

// RemoveStale removes every killed write's temporary in a folder; RemoveStaleOf only those
// of one target, leaving other writers' and ordinary dot files alone.
func TestRemoveStale(t *testing.T) {
	names := []string{"model.onnx", ".model.onnx" + TempPrefix + "3abc9", ".model.onnx.params.json" + TempPrefix + "z1",
		".other.onnx" + TempPrefix + "k2", ".model.onnx" + TempPrefix + "NOT-base36", ".hidden"}
	for _, tc := range []struct {
		name string
		run  func(dir string) ([]string, error)
		gone []string
	}{
		{"folder", RemoveStale, []string{names[1], names[2], names[3]}},
		{"one target", func(dir string) ([]string, error) { return RemoveStaleOf(filepath.Join(dir, "model.onnx")) }, []string{names[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range names {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			gone, err := tc.run(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				_, err := os.Stat(filepath.Join(dir, n))
				want := !slices.Contains(tc.gone, n)
				if (err == nil) != want {
					t.Errorf("%s: exists %v, want %v", n, err == nil, want)
				}
			}
			if len(gone) != len(tc.gone) {
				t.Errorf("reported %v, want %d paths", gone, len(tc.gone))
			}
		})
	}
}

// TestReadJSONRefusesFIFO: a state file replaced by a FIFO is refused, not waited on.
func TestReadJSONRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.json")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { var v any; done <- ReadJSON(path, &v) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "FIFO") {
			t.Fatalf("error %v: want one naming the FIFO %s", err, path)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadJSON blocked on a FIFO")
	}
}
