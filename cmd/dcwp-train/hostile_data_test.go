package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestHostileFolderData: issue 26's hostile inputs to --dataset folder, the grid file and a
// run's files, generated, through the command. Each outcome is put in one category: a clean
// error (non-zero exit, no crash, the message says what is wrong, no summary written), valid
// and handled (exit 0), or a failure: crash, hang or unbounded, silent acceptance (exit 0
// where the input is wrong), unclear message. The counts are logged; every failure fails.
func TestHostileFolderData(t *testing.T) {
	root := t.TempDir()
	imgs := writePNGs(t, filepath.Join(root, "img"), 28, 8, 8)
	manifest := func(text string) func(dir string) []string {
		return func(dir string) []string {
			p := filepath.Join(dir, "m.csv")
			mustNil(t, os.WriteFile(p, []byte(text), 0o644))
			return []string{"--data", p}
		}
	}
	rows := func(label func(i int) string, bias func(i int) string) string {
		var b strings.Builder
		b.WriteString("path,label,split,bias\n")
		for i, p := range imgs[:27] { // imgs[27] is for the cases that add a row
			sp := "train"
			if i >= 24 {
				sp = "test"
			}
			fmt.Fprintf(&b, "%s,%s,%s,%s\n", p, label(i), sp, bias(i))
		}
		return b.String()
	}
	names := func(i int) string { return []string{"cat", "dog"}[i%2] }
	good := rows(names, names)
	folder := func(side, n int) func(dir string) []string {
		return func(dir string) []string {
			for _, sp := range []string{"train", "test"} {
				for _, c := range []string{"a", "b"} {
					writePNGs(t, filepath.Join(dir, "data", sp, c), n, side, side)
				}
			}
			return []string{"--data", filepath.Join(dir, "data")}
		}
	}
	cases := []struct {
		name  string
		setup func(dir string) []string // the flags that make the case
		want  string                    // what the error must say; "": a valid input
	}{
		{"--image-size 16384", func(dir string) []string {
			return append(folder(8, 4)(dir), "--image-size", "16384")
		}, "over the limit of 64 Mpx"},
		{"manifest is a FIFO", func(dir string) []string {
			p := filepath.Join(dir, "m.csv")
			mustNil(t, syscall.Mkfifo(p, 0o644))
			return []string{"--data", p}
		}, "is a FIFO"},
		{"manifest links to /dev/zero", func(dir string) []string {
			p := filepath.Join(dir, "m.csv")
			mustNil(t, os.Symlink("/dev/zero", p))
			return []string{"--data", p}
		}, "is a character device"},
		{"label column twice", manifest(strings.Replace(good, "path,label,split,bias", "path,label,split,label", 1)), `column "label" is given twice`},
		{"same image relative and absolute", func(dir string) []string {
			rel, err := filepath.Rel(dir, imgs[0])
			mustNil(t, err)
			return manifest(good + rel + ",cat,test,cat\n")(dir)
		}, "listed again (first on line 2"},
		{"label -1 among indices", manifest(rows(func(i int) string { return fmt.Sprint(i%2 - 1) }, func(int) string { return "" })), "class indices, 0 to 65535"},
		{"label 65536 among indices", manifest(rows(func(i int) string { return fmt.Sprint(i % 2 * 65536) }, func(int) string { return "" })), "class indices, 0 to 65535"},
		// A bias is an attribute value of its own (digits included), never a class: valid.
		{"bias digits, labels names", manifest(rows(names, func(i int) string { return fmt.Sprint(i % 2) })), ""},
		{"test label index, labels names", manifest(good + imgs[27] + ",1,test,cat\n"), `label "1"`},
		{"misspelt bias column", manifest(strings.Replace(good, ",bias\n", ",bais\n", 1)), `did you mean "bias"`},
		{"CR-only line ends", manifest(strings.ReplaceAll(good, "\n", "\r")), "lone CR"},
		{"manifest not named .csv", func(dir string) []string {
			p := filepath.Join(dir, "m.txt")
			mustNil(t, os.WriteFile(p, []byte(good), 0o644))
			return []string{"--data", p}
		}, "must be named *.csv"},
		{"line after a quoted newline", manifest(strings.Replace(good, "path,label,split,bias\n", "path,label,split,bias,note\n", 1) +
			"gone.png,cat,test,cat,\"two\nlines\"\ngone2.png,cat,test,cat,\n"), "line 29"},
		{"diamond of folder links", func(dir string) []string {
			args := folder(8, 3)(dir)
			prev := filepath.Join(dir, "data", "train", "a")
			for k := 1; k <= 21; k++ {
				lvl := filepath.Join(dir, fmt.Sprintf("l%d", k))
				mustNil(t, os.MkdirAll(lvl, 0o755))
				mustNil(t, os.Symlink(prev, filepath.Join(lvl, "x")))
				mustNil(t, os.Symlink(prev, filepath.Join(lvl, "y")))
				prev = lvl
			}
			mustNil(t, os.Rename(filepath.Join(dir, "data", "train", "a"), filepath.Join(dir, "real-a")))
			mustNil(t, os.Symlink(filepath.Join(dir, "real-a"), filepath.Join(dir, "data", "train", "a")))
			mustNil(t, os.Symlink(prev, filepath.Join(dir, "data", "train", "b", "deep")))
			return args
		}, "two paths of symbolic links lead to it"},
		{"1x1 images with the cnn", func(dir string) []string {
			return append(folder(1, 12)(dir), "--model", "cnn")
		}, "cnn takes square inputs of 8x8"},
		{"mlp on 1024x1024 images", folder(1024, 2), "parameters, over the limit"},
		{"grid file is a FIFO", func(dir string) []string {
			p := filepath.Join(dir, "grid.yaml")
			mustNil(t, syscall.Mkfifo(p, 0o644))
			return []string{"sweep", "--grid", p, "--out", filepath.Join(dir, "sweep")}
		}, "is a FIFO"},
		{"config.json is a FIFO on --resume", func(dir string) []string {
			run := filepath.Join(dir, "run")
			mustNil(t, os.MkdirAll(run, 0o755))
			mustNil(t, syscall.Mkfifo(filepath.Join(run, rundir.ConfigFile), 0o644))
			return []string{"resume-only", run}
		}, "is a FIFO"},
		{"valid manifest with a quoted newline", manifest(strings.Replace(good, "path,label,split,bias\n", "path,label,split,bias,note\n", 1) +
			imgs[27] + ",cat,test,cat,\"two\nlines\"\n"), ""},
	}
	counts := map[string]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			args := c.setup(dir)
			if args[0] == "resume-only" {
				args = []string{"--out", args[1], "--resume", "--no-progress"}
			} else if args[0] != "sweep" {
				args = append(append(append([]string{"--dataset", "folder", "--out", out}, tinyFlags...), "--miner", "ensemble"), args...)
			}
			cat, msg := runCategorised(t, args, c.want, out)
			counts[cat]++
			if cat != "clean error" && cat != "valid and handled" {
				t.Errorf("%s: %s", cat, msg)
			}
		})
	}
	t.Logf("%d cases: %v", len(cases), counts)
}

// runCategorised runs dcwp-train with args and says which category the outcome is in.
func runCategorised(t *testing.T, args []string, want, out string) (string, string) {
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		var stderr strings.Builder
		code := run(append([]string{"dcwp-train"}, args...), &stderr)
		done <- result{code, stderr.String()}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(120 * time.Second):
		return "hang or unbounded", "still running after 120 s"
	}
	switch {
	case r.code == exit.Internal || strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "fatal error"):
		return "crash", fmt.Sprintf("exit %d\n%s", r.code, tail(r.stderr))
	case r.code == 0 && want != "":
		return "silent acceptance", "exit 0 where the input is wrong: " + want
	case r.code == 0:
		return "valid and handled", ""
	case want == "" || !strings.Contains(r.stderr, want):
		return "unclear message", fmt.Sprintf("exit %d, want %q in\n%s", r.code, want, tail(r.stderr))
	}
	if _, err := os.Stat(filepath.Join(out, rundir.SummaryFile)); err == nil {
		return "damage", "a refused run wrote " + rundir.SummaryFile
	}
	return "clean error", ""
}

// writePNGs writes n w×h RGB PNGs of distinct colours into dir and returns their paths.
func writePNGs(t *testing.T, dir string, n, w, h int) []string {
	mustNil(t, os.MkdirAll(dir, 0o755))
	var paths []string
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(40 * i), uint8(x * 9), uint8(y * 7), 255})
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("%03d.png", i))
		f, err := os.Create(p)
		mustNil(t, err)
		mustNil(t, png.Encode(f, img))
		mustNil(t, f.Close())
		paths = append(paths, p)
	}
	return paths
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
