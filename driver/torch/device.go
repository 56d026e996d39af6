package torch

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// DeviceType is the kind of device a tensor lives on; the zero DeviceType is CPU.
type DeviceType int

const (
	CPU DeviceType = iota
	CUDA
)

// Device is a device type and, for CUDA, an ordinal.
type Device struct {
	Type  DeviceType
	Index int
}

// CPUDevice is the host.
var CPUDevice = Device{Type: CPU}

func (d Device) String() string {
	if d.Type == CPU {
		return "cpu"
	}
	return "cuda:" + strconv.Itoa(d.Index)
}

// IsCUDA reports whether d is a GPU.
func (d Device) IsCUDA() bool { return d.Type == CUDA }

// ParseDevice parses "cpu", "cuda" or "cuda:N" and checks that it is usable.
func ParseDevice(s string) (Device, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "cpu" {
		return CPUDevice, nil
	}
	if s != "cuda" && !strings.HasPrefix(s, "cuda:") {
		return Device{}, fmt.Errorf("torch: unknown device %q (want cpu, cuda or cuda:N)", s)
	}
	d := Device{Type: CUDA}
	if rest, ok := strings.CutPrefix(s, "cuda:"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return Device{}, fmt.Errorf("torch: bad CUDA device ordinal in %q", s)
		}
		d.Index = n
	}
	return d, checkCUDA(d)
}

// checkCUDA: the engine was built for CUDA and device d is on this machine.
func checkCUDA(d Device) error {
	if !BuiltWithCUDA() {
		return fmt.Errorf("torch: device %s requested but %s", d, noCUDABuild())
	}
	n := CUDADeviceCount()
	if !CUDAAvailable() || n == 0 {
		return fmt.Errorf("torch: device %s requested but no GPU is visible (CUDA driver or device missing)", d)
	}
	if d.Index >= n {
		return fmt.Errorf("torch: device %s requested but only %d GPU(s) are visible", d, n)
	}
	return nil
}

// Pin locks the calling goroutine to its OS thread and sets libtorch's intra-op thread
// count to threads there (runtime.NumCPU() when threads <= 0); release unlocks the
// goroutine. Every goroutine that runs libtorch ops for a while (a training run, a
// benchmark) should run them pinned.
//
// Why pinned: the count is per OS thread. at::set_num_threads sets the calling thread's
// OpenMP count and a process-wide default that a thread takes the first time it runs a
// libtorch op; a thread that already has its count keeps it (TestThreadCountIsPerOSThread).
// Goroutines migrate between OS threads, so unpinned ops would run with whichever count
// the thread under them happened to get, and each such thread would hold its own OpenMP
// worker pool. OpenBLAS's count, set here too (libtorch sizes only MKL), is process-wide.
func Pin(threads int) (release func()) {
	runtime.LockOSThread()
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	setNumThreads(threads)
	return runtime.UnlockOSThread
}

// The engine's malloc tuning applies at start unless DCWP_TORCH_NO_MALLOC_TUNING is set
// (see TuneMalloc).
func init() {
	if os.Getenv("DCWP_TORCH_NO_MALLOC_TUNING") == "" {
		TuneMalloc()
	}
}
