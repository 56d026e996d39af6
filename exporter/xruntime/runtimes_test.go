package xruntime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/dcwp-go/dcwp/exporter"

	"github.com/dcwp-go/dcwp/internal/pyoracle"
)

// job is one model run on one batch, as the runtime scripts read it.
type job struct {
	Model string    `json:"model"`
	Shape []int     `json:"shape"`
	Input []float32 `json:"input"`
}

// result is a script's answer to one job: logits, or the runtime's refusal.
type result struct {
	Shape  []int     `json:"shape"`
	Logits []float32 `json:"logits"`
	Error  string    `json:"error"`
}

type reply struct {
	Version string   `json:"version"`
	Results []result `json:"results"`
}

// runtime is a second runtime: one process runs every job (starting Python with cv2, or
// Node with the wasm module, is the slow part).
type runtime struct {
	name string
	// command is the process that reads the jobs on stdin, or an error saying what to
	// install when the runtime is missing from the machine.
	command func(machine) (*exec.Cmd, error)
	// refusal matches the runtime's error for the formats it is known not to load; a
	// refusal that goes away, or a new one, fails the test, so the docs' table stays true.
	refusal map[exporter.Format]*regexp.Regexp
	tol     float64 // max |logit - ORT's logit|, relative to max(1, |ORT's logit|)
}

// machine is where the runtimes are installed.
type machine struct {
	python string // Debian's, with python3-opencv
	node   string // name or path of Node.js
	ortweb string // the onnxruntime-web package folder
}

// installed is where tools/setup.sh installs the runtimes, seen from this package's
// folder (where go test runs its tests).
var installed = machine{python: pyoracle.Python, node: "node",
	ortweb: filepath.Join("..", "..", "build", "ortweb", "node_modules", "onnxruntime-web")}

// runtimes is every second runtime the exports are checked in.
func runtimes() []runtime {
	return []runtime{
		// OpenCV's importer ignores sparse_initializer: the first layer's weight is missing,
		// which its Gemm reports as such and its Conv as a channel count it cannot divide.
		{name: "opencv-dnn", command: opencvCommand, tol: 1e-5, refusal: map[exporter.Format]*regexp.Regexp{
			exporter.Sparse: regexp.MustCompile(`Node \[(Gemm|Conv)@ai\.onnx\]:\(onnx_node!(fc1|conv1)\) parse error: .*` +
				`(Blob fc1\.weight not found in const blobs|Assertion failed\) ngroups > 0 && inpCn % ngroups == 0)`),
		}},
		{name: "onnxruntime-web", command: ortwebCommand, tol: 1e-5},
	}
}

const install = "install it with tools/setup.sh %s (%s)"

func opencvCommand(m machine) (*exec.Cmd, error) {
	if out, err := exec.Command(m.python, "-c", "import cv2").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("OpenCV's DNN: %s cannot import cv2 (%v: %s); "+install,
			m.python, err, bytes.TrimSpace(out), "apt", "Debian python3-opencv")
	}
	return exec.Command(m.python, "testdata/opencv_dnn.py"), nil
}

func ortwebCommand(m machine) (*exec.Cmd, error) {
	node, err := exec.LookPath(m.node)
	if err != nil {
		return nil, fmt.Errorf("onnxruntime-web: no Node.js (%v); install Node.js 20 or newer and npm, then tools/setup.sh ortweb", err)
	}
	pkg, err := filepath.Abs(m.ortweb)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(pkg, "package.json")); err != nil {
		return nil, fmt.Errorf("onnxruntime-web: not installed (%v); "+install,
			err, "ortweb", "npm onnxruntime-web into build/ortweb")
	}
	return exec.Command(node, "testdata/ortweb.js", pkg), nil
}

// runAll runs every job in the runtime's process; an error is the process failing as a
// whole, not a model it refuses.
func (r runtime) runAll(m machine, jobs []job) (reply, error) {
	cmd, err := r.command(m)
	if err != nil {
		return reply{}, err
	}
	body, err := json.Marshal(struct {
		Jobs []job `json:"jobs"`
	}{jobs})
	if err != nil {
		return reply{}, err
	}
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return reply{}, fmt.Errorf("%s: %v: %w\n%s", r.name, cmd.Args, err, stderr.String())
	}
	var rep reply
	if err := json.Unmarshal(out, &rep); err != nil {
		return reply{}, fmt.Errorf("%s: reading its answer: %w\n%.500s", r.name, err, out)
	}
	if len(rep.Results) != len(jobs) {
		return reply{}, fmt.Errorf("%s: answered %d jobs of %d", r.name, len(rep.Results), len(jobs))
	}
	return rep, nil
}
