package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestHostileRunFiles: a finished run's files damaged as a careless user or a broken disk
// would (truncated at many offsets, a bit flipped, empty, a directory or a symlink loop in
// place, swapped with another run's), then --resume or --stages on it, and outputs that are
// no regular file. Each ends with a clean non-zero exit naming the file (or a correct run
// where the input is still valid), never a panic (70) or a runtime fatal error, and every
// other file of the run unchanged.
func TestHostileRunFiles(t *testing.T) {
	data := t.TempDir()
	if err := fixture.CMNIST(data); err != nil {
		t.Fatal(err)
	}
	base := append([]string{"--dataset", "cmnist", "--data", data}, tinyFlags...)
	runs := t.TempDir()
	ref, other := filepath.Join(runs, "a"), filepath.Join(runs, "b")
	for i, out := range []string{ref, other} {
		if code, stderr := runCmd(t, append(base, "--out", out, "--seed", fmt.Sprint(3+i))...); code != 0 {
			t.Fatalf("run: exit %d\n%s", code, stderr)
		}
	}
	type damage struct {
		name string
		do   func(path string) error
	}
	var damages []damage
	for _, frac := range []float64{0, 0.01, 0.3, 0.5, 0.99} {
		damages = append(damages, damage{fmt.Sprintf("truncated at %.0f%%", 100*frac), func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.Truncate(p, int64(frac*float64(fi.Size())))
		}})
	}
	for _, at := range []float64{0.001, 0.05, 0.6} {
		damages = append(damages, damage{fmt.Sprintf("bit flipped at %.1f%%", 100*at), func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[int(at*float64(len(b)))] ^= 0x10
			return os.WriteFile(p, b, 0o644)
		}})
	}
	damages = append(damages,
		damage{"a directory in place", func(p string) error { os.Remove(p); return os.Mkdir(p, 0o755) }},
		damage{"a symlink loop", func(p string) error { os.Remove(p); return os.Symlink(p, p) }},
		damage{"another run's", func(p string) error {
			rel, _ := filepath.Rel(filepath.Dir(filepath.Dir(p)), p) // the checkpoint's is one folder down
			if filepath.Base(filepath.Dir(p)) != rundir.CheckpointDir {
				rel = filepath.Base(p)
			}
			b, err := os.ReadFile(filepath.Join(other, rel))
			if err != nil {
				return err
			}
			return os.WriteFile(p, b, 0o644)
		}},
	)
	targets := []struct {
		file string
		args []string
	}{
		{rundir.ConfigFile, []string{"--resume"}},
		{rundir.MetricsFile, []string{"--resume"}},
		{filepath.Join(rundir.CheckpointDir, "state.safetensors"), []string{"--resume"}},
		{rundir.MinedFile, []string{"--stages", "finetune"}},
		{rundir.VanillaFile, []string{"--stages", "finetune"}},
	}
	var cases, clean, valid int
	for _, tg := range targets {
		for _, d := range damages {
			t.Run(tg.file+"/"+d.name, func(t *testing.T) {
				cases++
				run := filepath.Join(t.TempDir(), "run")
				if err := os.CopyFS(run, os.DirFS(ref)); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(run, tg.file)
				if err := d.do(path); err != nil {
					t.Fatal(err)
				}
				before := otherFiles(t, run, tg.file)
				code, stderr := runCmd(t, append([]string{"--out", run, "--no-progress", "--threads", "1"}, tg.args...)...)
				checkNoCrash(t, code, stderr)
				if code == 0 {
					valid++ // still a valid input (a cut metrics.jsonl, say): the run went on
					return
				}
				if !strings.Contains(stderr, tg.file) && !strings.Contains(stderr, filepath.Base(tg.file)) {
					t.Errorf("exit %d, but the message does not name %s:\n%s", code, tg.file, tail(stderr))
				}
				if after := otherFiles(t, run, tg.file); after != before {
					t.Errorf("a refused run changed other files of the run")
				}
				clean++
			})
		}
	}
	// outputs that are not regular files
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		append(append([]string{}, base...), "--out", "/dev/full"),
		append(append([]string{}, base...), "--out", fifo),
		{"data", "cmnist", "--out", "/dev/full"},
		{"data", "cmnist", "--out", fifo},
		{"--out", "/dev/null", "--resume"},
	} {
		t.Run(strings.Join(args[len(args)-2:], " "), func(t *testing.T) {
			cases++
			code, stderr := runCmd(t, args...)
			checkNoCrash(t, code, stderr)
			if code == 0 {
				t.Fatalf("an output that is no folder was taken:\n%s", tail(stderr))
			}
			if fi, err := os.Lstat(args[slicesIndex(args, "--out")+1]); err != nil || fi.Mode().IsRegular() || fi.IsDir() {
				t.Fatalf("the output was replaced: %v %v", fi, err)
			}
			clean++
		})
	}
	t.Logf("%d cases: %d clean errors naming the file, %d still-valid inputs run through, %d crashed, named no file or changed a file",
		cases, clean, valid, cases-clean-valid)
	if clean+valid != cases {
		t.Errorf("%d of %d cases failed", cases-clean-valid, cases)
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// checkNoCrash fails on a panic (exit 70) or a runtime fatal error.
func checkNoCrash(t *testing.T, code int, stderr string) {
	t.Helper()
	if code == exit.Internal || strings.Contains(stderr, "panic") || strings.Contains(stderr, "fatal error") {
		t.Fatalf("crash: exit %d\n%s", code, stderr)
	}
}

// otherFiles is the content of every file of run but skip, as one string.
func otherFiles(t *testing.T, run, skip string) string {
	var b strings.Builder
	files := regularFiles(t, run)
	for _, rel := range keys(files) {
		if rel != skip {
			b.WriteString(rel + "\x00" + string(files[rel]) + "\x00")
		}
	}
	return b.String()
}
