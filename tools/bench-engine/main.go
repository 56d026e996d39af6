// Command bench-engine times dcwp-train's training steps (steps.go: the trainer's
// network, optimizer and losses) against the same steps in Python PyTorch
// (torch_ref.py, same thread count and device) and writes bench/engine.json:
// [{"name","precision","memory_format","go_ms","torch_ms","ratio"}]; -precision bf16 and
// -memory-format channels-last set both sides alike (torch.autocast, channels_last).
//
// Go and Python rounds alternate so both see the same machine load (the CI
// machines are shared); each side's fastest round after a warm-up counts.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
)

type row struct {
	Name         string  `json:"name"`
	Engine       string  `json:"engine"`   // the binding timed (shim, gotch) ...
	Libtorch     string  `json:"libtorch"` // ... and its libtorch; PyTorch's is the same version
	Precision    string  `json:"precision"`
	MemoryFormat string  `json:"memory_format"`
	GoMS         float64 `json:"go_ms"`
	TorchMS      float64 `json:"torch_ms"`
	Ratio        float64 `json:"ratio"`
}

type config struct {
	device          string
	threads, rounds int
	batch           int64
	python, out     string
	steps           map[string]int
	models          []string
	opts            model.Options // both sides: precision and memory format
}

// allModels are the models bench-engine knows, in the order it times them.
var allModels = []string{"mlp", "masked mlp", "cnn", "masked cnn"}

func main() {
	c := config{steps: map[string]int{}}
	flag.StringVar(&c.device, "device", "cpu", "cpu, cuda or cuda:N")
	// One thread by default: on shared CI cores, spinning OpenMP/BLAS workers
	// make multi-threaded timings mostly measure the neighbours.
	flag.IntVar(&c.threads, "threads", 1, "intra-op threads on both sides")
	flag.IntVar(&c.rounds, "rounds", 5, "timed rounds per model and side; the fastest counts")
	flag.Int64Var(&c.batch, "batch", 256, "batch size")
	flag.StringVar(&c.python, "python", refPython(), "Python with torch: the same version as the libtorch ($DCWP_TORCH_PYTHON, set by tools/libtorch.sh run; else Debian's)")
	flag.StringVar(&c.out, "out", "bench/engine.json", "result file")
	mlpSteps := flag.Int("mlp-steps", 50, "steps per round, MLP models")
	cnnSteps := flag.Int("cnn-steps", 4, "steps per round, CNN")
	only := flag.String("models", strings.Join(allModels, ","), "comma-separated subset of "+strings.Join(allModels, ", "))
	precision := flag.String("precision", "fp32", "fp32 or bf16 (autocast), both sides")
	format := flag.String("memory-format", "contiguous", "contiguous or channels-last, both sides")
	flag.Parse()
	var err error
	if c.opts.Precision, err = rundir.ParsePrecision(*precision); err == nil {
		c.opts.Format, err = model.ParseMemoryFormat(*format)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-engine:", err)
		os.Exit(2)
	}
	c.models = strings.Split(*only, ",")
	c.steps["mlp"], c.steps["masked mlp"], c.steps["cnn"], c.steps["masked cnn"] = *mlpSteps, *mlpSteps, *cnnSteps, *cnnSteps
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench-engine:", err)
		os.Exit(1)
	}
}

// refPython is the default reference: PyTorch of the libtorch the engine runs on.
func refPython() string {
	if p := os.Getenv("DCWP_TORCH_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

func run(c config) error {
	// One OS thread for every libtorch call: one OpenMP pool and one malloc
	// arena, as in the single-threaded Python interpreter we compare with.
	defer torch.Pin(c.threads)()
	dev, err := torch.ParseDevice(c.device)
	if err != nil {
		return err
	}
	ref, err := startRef(c)
	if err != nil {
		return err
	}
	defer ref.close()
	fmt.Printf("engine %s, libtorch %s, reference %s; device %s, %d thread(s), batch %d, %s, %v\n",
		torch.Engine, torch.Version(), c.python, dev, c.threads, c.batch, c.opts.Precision, c.opts.Format)
	var rows []row
	for _, name := range c.models {
		r, err := compare(name, dev, c, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-11s go %9.3f ms/step  torch %9.3f ms/step  ratio %.3f\n", name, r.GoMS, r.TorchMS, r.Ratio)
		rows = append(rows, r)
	}
	return write(c.out, rows)
}

// compare alternates Go and PyTorch rounds of one model; round 0 warms up.
func compare(name string, dev torch.Device, c config, ref *pyRef) (row, error) {
	b, err := newBench(name, dev, c.batch, c.opts)
	if err != nil {
		return row{}, err
	}
	defer b.close()
	settings := b.ref(c.batch)
	r := row{Name: name, Engine: torch.Engine, Libtorch: torch.Version(), Precision: string(c.opts.Precision), MemoryFormat: c.opts.Format.String()}
	for i := 0; i <= c.rounds; i++ {
		g, err := timeGo(b, c.steps[name])
		if err != nil {
			return r, err
		}
		p, err := ref.time(name, c.steps[name], settings)
		if err != nil {
			return r, err
		}
		if i > 0 {
			r.GoMS, r.TorchMS = minPos(r.GoMS, g), minPos(r.TorchMS, p)
		}
	}
	r.Ratio = r.GoMS / r.TorchMS
	return r, nil
}

func minPos(best, v float64) float64 {
	if best == 0 || v < best {
		return v
	}
	return best
}

func timeGo(b *bench, steps int) (float64, error) {
	start := time.Now()
	for i := 0; i < steps; i++ {
		if err := b.step(); err != nil {
			return 0, err
		}
	}
	if err := torch.Synchronize(); err != nil {
		return 0, err
	}
	return float64(time.Since(start).Nanoseconds()) / 1e6 / float64(steps), nil
}

// pyRef is a running torch_ref.py answering timing requests.
type pyRef struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startRef(c config) (*pyRef, error) {
	cmd := exec.Command(c.python, refScript(), "--device", c.device, "--threads", strconv.Itoa(c.threads))
	cmd.Stderr = os.Stderr
	// torch.set_num_threads leaves OpenBLAS at one thread per core; size it
	// as torch.Pin does so both sides run the same threads.
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+strconv.Itoa(c.threads))
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start torch_ref.py: %w", err)
	}
	p := &pyRef{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if line, err := p.line(); err != nil || line != "ready" {
		p.close()
		return nil, fmt.Errorf("torch_ref.py did not start (%q): %w", line, err)
	}
	return p, nil
}

func refScript() string {
	_, self, _, _ := runtime.Caller(0)
	if s := filepath.Join(filepath.Dir(self), "torch_ref.py"); fileExists(s) {
		return s
	}
	return "tools/bench-engine/torch_ref.py"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func (p *pyRef) line() (string, error) {
	if !p.out.Scan() {
		if err := p.out.Err(); err != nil {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return strings.TrimSpace(p.out.Text()), nil
}

// time asks for steps steps of the named step, built from settings the first time.
func (p *pyRef) time(name string, steps int, settings refSettings) (float64, error) {
	req, err := json.Marshal(map[string]any{"name": name, "steps": steps, "settings": settings})
	if err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(p.in, "%s\n", req); err != nil {
		return 0, fmt.Errorf("torch_ref.py: %w", err)
	}
	line, err := p.line()
	if err != nil {
		return 0, fmt.Errorf("torch_ref.py: %w", err)
	}
	return strconv.ParseFloat(line, 64)
}

func (p *pyRef) close() {
	p.in.Close()
	p.cmd.Wait()
}

func write(path string, rows []row) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
