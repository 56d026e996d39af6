package main

import (
	"bytes"
	"debug/elf"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// childEnv makes the test binary run dcwp-eval itself on its arguments: a process holds one
// ONNX Runtime library, and these tests load another (the CUDA build) than the rest.
const childEnv = "DCWP_EVAL_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(append([]string{"dcwp-eval"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// evalChild runs dcwp-eval in a child process and returns its exit code, stdout and stderr.
func evalChild(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running dcwp-eval: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// The CUDA provider with each ONNX Runtime build: PyPI's CUDA build (tools/setup.sh ort-gpu,
// or $DCWP_ORT_GPU_LIB) runs on a GPU and agrees with the CPU provider; without a GPU it fails
// with exit 2 naming every library its CUDA provider cannot load and the missing GPU. npm's
// CPU build says it has no CUDA provider and where the CUDA build is.
func TestCUDAProviderBuilds(t *testing.T) {
	cpuLib, err := ort.FindLib("")
	if err != nil {
		t.Fatal(err)
	}
	gpuLib := ort.FindGPULib()
	gpu, _ := ort.GPUPresent()
	if gpuLib == "" {
		if gpu {
			t.Fatalf("a GPU is here but no CUDA build of ONNX Runtime: run tools/setup.sh ort-gpu or set $%s", ort.GPULibEnv)
		}
		t.Skipf("no GPU, and no CUDA build of ONNX Runtime to check its message with (tools/setup.sh ort-gpu or $%s)", ort.GPULibEnv)
	}
	root, _ := evaltest.WriteFixture(t, 4)
	model := evaltest.WriteLinear(t, t.TempDir(), "model.onnx", evaltest.LinearSpec{})
	evalArgs := func(lib, provider string, more ...string) []string {
		return append([]string{"--model", model, "--dataset", "cmnist", "--data", root, "--threads", "1", "--quiet",
			"--ort-lib", lib, "--provider", provider}, more...)
	}
	if gpu {
		cudaAgreesWithCPU(t, gpuLib, evalArgs)
	}

	gpuDir := filepath.Dir(gpuLib)
	provider := filepath.Join(gpuDir, "libonnxruntime_providers_cuda.so")
	needed := neededOf(t, provider)
	// the CUDA build in a folder of its own with a stand-in for the provider's cuRAND beside
	// it: any loadable library under that name (the build's own providers_shared)
	beside := t.TempDir()
	for f, to := range map[string]string{gpuLib: "libonnxruntime.so.1", // pip's is libonnxruntime.so.1.<version>
		filepath.Join(gpuDir, "libonnxruntime_providers_cuda.so"):   "libonnxruntime_providers_cuda.so",
		filepath.Join(gpuDir, "libonnxruntime_providers_shared.so"): "libonnxruntime_providers_shared.so"} {
		if err := os.Symlink(f, filepath.Join(beside, to)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(gpuDir, "libonnxruntime_providers_shared.so"), filepath.Join(beside, "libcurand.so.10")); err != nil {
		t.Fatal(err)
	}
	type cudaCase struct {
		name    string
		lib     string
		says    []string
		missing []string // NEEDED entries the message must name as missing; the others it must not
	}
	noGPU := "no NVIDIA GPU is visible on this machine"
	var cases []cudaCase
	// $DCWP_ORT_LIB may name the CUDA build too (tools/gpu-check.sh: npm's CPU build is too
	// large to carry there beside it)
	if _, err := os.Stat(filepath.Join(filepath.Dir(cpuLib), "libonnxruntime_providers_cuda.so")); err != nil {
		c := cudaCase{"npm's CPU build", cpuLib, []string{cpuLib + " has no CUDA execution provider",
			"libonnxruntime_providers_cuda.so not found next to it", "a CUDA build of ONNX Runtime is at " + gpuLib}, nil}
		if !gpu {
			c.says = append(c.says, noGPU)
		}
		cases = append(cases, c)
	}
	if !gpu {
		cases = append(cases,
			cudaCase{"PyPI's CUDA build", gpuLib, []string{"CUDA provider " + provider + " cannot load", noGPU}, loaderMisses(t, needed, gpuDir)},
			cudaCase{"PyPI's CUDA build, cuRAND beside it", filepath.Join(beside, "libonnxruntime.so.1"),
				[]string{"neither in " + beside + " nor", noGPU}, loaderMisses(t, needed, beside)})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := evalChild(t, evalArgs(c.lib, "cuda")...)
			if code != 2 || strings.Contains(stderr, "panic") {
				t.Fatalf("exit %d, want 2 and no panic:\n%s", code, stderr)
			}
			for _, s := range append(c.says, "--provider cuda") {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if c.missing == nil {
				return
			}
			for _, n := range needed {
				named := strings.Contains(stderr, " "+n+" (") // in the list: ": libcuda.so.1 (the NVIDIA driver's library…), …"
				if want := slices.Contains(c.missing, n); named != want {
					t.Errorf("%s named as missing: %v, want %v:\n%s", n, named, want, stderr)
				}
			}
			t.Logf("dcwp-eval says: %s", stderr)
		})
	}
}

// cudaAgreesWithCPU evaluates the model with the CUDA build on its CUDA and its CPU provider:
// the same predictions, logits within 1e-4.
func cudaAgreesWithCPU(t *testing.T, lib string, evalArgs func(lib, provider string, more ...string) []string) {
	t.Helper()
	dir := t.TempDir()
	preds := map[string][][]string{}
	for _, p := range []string{"cpu", "cuda"} {
		csvPath := filepath.Join(dir, p+".csv")
		code, stdout, stderr := evalChild(t, evalArgs(lib, p, "--predictions", csvPath)...)
		if code != 0 || !strings.Contains(stdout, "provider "+p) {
			t.Fatalf("--provider %s with %s: exit %d\n%s\n%s", p, lib, code, stdout, stderr)
		}
		b, err := os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		if preds[p], err = csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	cpu, cuda := preds["cpu"], preds["cuda"]
	if len(cpu) != len(cuda) || len(cpu) < 2 {
		t.Fatalf("%d rows on the CPU, %d on CUDA", len(cpu), len(cuda))
	}
	for i := 1; i < len(cpu); i++ {
		for k := range cpu[i] {
			a, b := cpu[i][k], cuda[i][k]
			if !strings.HasPrefix(cpu[0][k], "logit_") {
				if a != b {
					t.Errorf("row %d %s: cpu %q, cuda %q", i, cpu[0][k], a, b)
				}
				continue
			}
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			if math.Abs(x-y) > 1e-4 {
				t.Errorf("row %d %s: cpu %s, cuda %s", i, cpu[0][k], a, b)
			}
		}
	}
}

// neededOf reads the libraries an ELF file needs (its NEEDED entries).
func neededOf(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// loaderMisses is the test's own account of which of the names neither dir, LD_LIBRARY_PATH
// nor the loader's cache (ldconfig -p) holds: what dcwp-eval must name as missing.
func loaderMisses(t *testing.T, names []string, dir string) []string {
	t.Helper()
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	out, err := exec.Command(ldconfig, "-p").Output()
	if err != nil {
		t.Fatalf("ldconfig -p: %v", err)
	}
	cached := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(l, "=>") {
			cached[f[0]] = true
		}
	}
	dirs := append([]string{dir}, filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...)
	miss := []string{}
	for _, n := range names {
		found := cached[n]
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, n)); d != "" && err == nil {
				found = true
			}
		}
		if !found {
			miss = append(miss, n)
		}
	}
	return miss
}
