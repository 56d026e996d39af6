package torch

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// freshProcessEnv marks the child process TestThreadCountIsPerOSThread starts, in which no OS
// thread has run libtorch before the test (TestMain leaves the count alone there).
const freshProcessEnv = "DCWP_TORCH_THREAD_PROBE"

// osThread runs functions on one goroutine locked to its own OS thread.
type osThread chan func()

func newOSThread(t *testing.T) osThread {
	th := make(osThread)
	t.Cleanup(func() { close(th) })
	go func() {
		runtime.LockOSThread()
		for f := range th {
			f()
		}
	}()
	return th
}

func (th osThread) numThreads(before func()) int {
	done := make(chan int)
	th <- func() {
		if before != nil {
			before()
		}
		done <- NumThreads()
	}
	return <-done
}

// TestThreadCountIsPerOSThread shows what Pin's documentation says: a count set on one OS
// thread is that thread's and the default of threads that have not run libtorch yet, while a
// thread that already has its count keeps it. It runs in a fresh process so that "not run
// libtorch yet" holds for every thread but the two it makes.
func TestThreadCountIsPerOSThread(t *testing.T) {
	if os.Getenv(freshProcessEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestThreadCountIsPerOSThread$", "-test.count=1")
		cmd.Env = append(os.Environ(), freshProcessEnv+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("in a fresh process: %v\n%s", err, out)
		}
		return
	}
	early, setter := newOSThread(t), newOSThread(t)
	def := early.numThreads(nil) // libtorch's default, taken at early's first op
	n := def + 1
	if got := setter.numThreads(func() { Pin(n)() }); got != n {
		t.Fatalf("after Pin(%d): %d threads on the same OS thread", n, got)
	}
	if got := early.numThreads(nil); got != def {
		t.Fatalf("Pin(%d) on another OS thread changed this one's count from %d to %d", n, def, got)
	}
	// A goroutine with no Pin of its own runs on an OS thread that is neither early's nor
	// setter's (both are locked), so one that has not run libtorch yet.
	late := make(chan int)
	go func() { late <- NumThreads() }()
	if got := <-late; got != n {
		t.Fatalf("a thread new to libtorch has %d threads, want the last count set anywhere (%d)", got, n)
	}
}
