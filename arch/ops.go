package arch

import (
	"errors"
	"fmt"
	"slices"
)

// OpSpec is everything about an op that the trainer, the exporter and the reference
// forward pass share. What differs between them (libtorch calls, ONNX nodes, float64
// loops) stays in each backend, in one switch per backend whose default is an error;
// a table test per backend runs every op of Ops() through Probe and names the one it lacks:
// TestEveryOpHasAShapeRule (here), TestEveryOpRuns (driver/model) and TestEveryOpExports
// (exporter, with the reference forward of internal/exportfixture).
type OpSpec struct {
	// Inputs is the number of nodes the op reads.
	Inputs int
	// Shape gives the per-sample output shape from the input shapes (len(ins) == Inputs),
	// checking that the node's declared In matches what reaches it.
	Shape func(n Node, ins [][]int) ([]int, error)
	// Params lists the node's parameters and buffers; nil for an op without any.
	Params func(n Node) []Param
	// Example is the smallest use of the op that reads Input of a [2 6 6] sample (nodes
	// before the op's own last node set up what it needs); Probe completes it to a network.
	Example []Node
}

// ops is read-only after initialisation; Ops and Spec are its only readers outside this file.
var ops = map[Op]OpSpec{
	OpNormalize: {Inputs: 1, Shape: sameShape,
		Example: []Node{{Op: OpNormalize, Mean: []float32{0.5, 0.4}, Std: []float32{0.25, 0.2}}}},
	OpScale: {Inputs: 1, Shape: sameShape,
		Example: []Node{{Op: OpScale, Factor: 1.0 / 255}}},
	OpFlatten: {Inputs: 1, Shape: flattenShape,
		Example: []Node{{Op: OpFlatten}}},
	OpLinear: {Inputs: 1, Shape: linearShape, Params: linearParams,
		Example: []Node{{Name: "flatten", Op: OpFlatten}, {Op: OpLinear, Inputs: []string{"flatten"}, In: 72, Out: 5, Bias: true}}},
	OpConv: {Inputs: 1, Shape: convShape, Params: convParams,
		Example: []Node{{Op: OpConv, In: 2, Out: 3, Kernel: 3, Stride: 2, Pad: 1, Bias: true}}},
	// The exporter folds BatchNorm into the conv before it, so the example has one.
	OpBatchNorm: {Inputs: 1, Shape: batchNormShape, Params: batchNormParams,
		Example: []Node{{Name: "conv", Op: OpConv, In: 2, Out: 3, Kernel: 3, Stride: 1, Pad: 1}, {Op: OpBatchNorm, Inputs: []string{"conv"}, In: 3}}},
	OpReLU: {Inputs: 1, Shape: sameShape,
		Example: []Node{{Op: OpReLU}}},
	OpMaxPool: {Inputs: 1, Shape: maxPoolShape,
		Example: []Node{{Op: OpMaxPool, Kernel: 3, Stride: 2, Pad: 1}}},
	OpGlobalAvgPool: {Inputs: 1, Shape: gapShape,
		Example: []Node{{Op: OpGlobalAvgPool}}},
	OpAdd: {Inputs: 2, Shape: addShape,
		Example: []Node{{Name: "relu", Op: OpReLU}, {Op: OpAdd, Inputs: []string{Input, "relu"}}}},
}

// Ops lists every op, sorted by name.
func Ops() []Op {
	out := make([]Op, 0, len(ops))
	for o := range ops {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// Spec returns the description of an op.
func (o Op) Spec() (OpSpec, error) {
	s, ok := ops[o]
	if !ok {
		return OpSpec{}, fmt.Errorf("unknown op %q", o)
	}
	return s, nil
}

// Masked reports whether the op's weight carries a pruning score: an op whose parameters
// include a Weight (every Conv and Linear).
func (o Op) Masked() bool {
	s, err := o.Spec()
	if err != nil || s.Params == nil {
		return false
	}
	return slices.ContainsFunc(s.Params(Node{Op: o}), func(p Param) bool { return p.Masked })
}

// OutShape is the node's per-sample output shape given its inputs' shapes.
func (n Node) OutShape(ins [][]int) ([]int, error) {
	s, err := n.Op.Spec()
	if err != nil {
		return nil, err
	}
	if len(ins) != s.Inputs {
		return nil, fmt.Errorf("%s takes %d inputs, has %d", n.Op, s.Inputs, len(ins))
	}
	return s.Shape(n, ins)
}

func sameShape(_ Node, ins [][]int) ([]int, error) { return ins[0], nil }

func flattenShape(_ Node, ins [][]int) ([]int, error) { return []int{prod(ins[0])}, nil }

func linearShape(n Node, ins [][]int) ([]int, error) {
	if x := ins[0]; len(x) != 1 || x[0] != n.In {
		return nil, fmt.Errorf("linear wants [%d], gets %v", n.In, x)
	}
	return []int{n.Out}, nil
}

func convShape(n Node, ins [][]int) ([]int, error) {
	x := ins[0]
	if len(x) != 3 || x[0] != n.In {
		return nil, fmt.Errorf("conv wants [%d H W], gets %v", n.In, x)
	}
	if err := fitsKernel(x, n); err != nil {
		return nil, err
	}
	return []int{n.Out, pooled(x[1], n), pooled(x[2], n)}, nil
}

func maxPoolShape(n Node, ins [][]int) ([]int, error) {
	x := ins[0]
	if len(x) != 3 {
		return nil, fmt.Errorf("maxpool wants [C H W], gets %v", x)
	}
	if err := fitsKernel(x, n); err != nil {
		return nil, err
	}
	return []int{x[0], pooled(x[1], n), pooled(x[2], n)}, nil
}

// ErrInputSize: the input is too small for a model's kernels, or too large to build.
var ErrInputSize = errors.New("input size out of the model's range")

// fitsKernel refuses a [C H W] input the padded kernel does not fit in (libtorch would stop
// at the first forward pass; pooled would round the negative size up to 1).
func fitsKernel(x []int, n Node) error {
	if x[1]+2*n.Pad < n.Kernel || x[2]+2*n.Pad < n.Kernel {
		return fmt.Errorf("%dx%d input is smaller than its %dx%d kernel (padding %d): %w", x[1], x[2], n.Kernel, n.Kernel, n.Pad, ErrInputSize)
	}
	return nil
}

func batchNormShape(n Node, ins [][]int) ([]int, error) {
	if x := ins[0]; len(x) != 3 || x[0] != n.In {
		return nil, fmt.Errorf("batchnorm wants [%d H W], gets %v", n.In, x)
	}
	return ins[0], nil
}

func gapShape(_ Node, ins [][]int) ([]int, error) {
	if x := ins[0]; len(x) != 3 {
		return nil, fmt.Errorf("gap wants [C H W], gets %v", x)
	}
	return []int{ins[0][0]}, nil
}

func addShape(_ Node, ins [][]int) ([]int, error) {
	if !slices.Equal(ins[0], ins[1]) {
		return nil, fmt.Errorf("add of %v and %v", ins[0], ins[1])
	}
	return ins[0], nil
}

func pooled(size int, n Node) int { return (size+2*n.Pad-n.Kernel)/n.Stride + 1 }

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// param names one tensor of n "<node>.<suffix>", torchvision-style.
func (n Node) param(suffix string, k Kind, shape ...int) Param {
	return Param{Name: n.Name + "." + suffix, Node: n.Name, Kind: k, Shape: shape, Masked: k == Weight}
}

func linearParams(n Node) []Param { return withBias(n, n.param("weight", Weight, n.Out, n.In)) }

func convParams(n Node) []Param {
	return withBias(n, n.param("weight", Weight, n.Out, n.In, n.Kernel, n.Kernel))
}

func withBias(n Node, w Param) []Param {
	if !n.Bias {
		return []Param{w}
	}
	return []Param{w, n.param("bias", Bias, n.Out)}
}

func batchNormParams(n Node) []Param {
	return []Param{
		n.param("weight", BNWeight, n.In), n.param("bias", BNBias, n.In),
		n.param("running_mean", RunningMean, n.In), n.param("running_var", RunningVar, n.In),
	}
}

// Probe is a small network that applies op once, as its Example says, to a [2 6 6] input
// and flattens the result into a linear head of 2 classes. Each backend's tests run the
// probe of every op in Ops(), so an op a backend lacks shows up as a failing subtest.
func Probe(op Op) (*Arch, error) {
	s, err := op.Spec()
	if err != nil {
		return nil, err
	}
	var nodes []Node
	last := Input
	for i, ex := range s.Example {
		n := ex
		if i == len(s.Example)-1 {
			n.Name = string(op)
		}
		if n.Inputs == nil {
			n.Inputs = []string{last}
		}
		nodes = append(nodes, n)
		last = n.Name
	}
	a := &Arch{Name: "probe-" + string(op), Input: [3]int{2, 6, 6}, Classes: 2, Nodes: nodes, Feature: "head.flatten"}
	shapes, err := a.Shapes()
	if err != nil {
		return nil, fmt.Errorf("probe of %s: %w", op, err)
	}
	a.Nodes = append(a.Nodes,
		Node{Name: "head.flatten", Op: OpFlatten, Inputs: []string{last}},
		Node{Name: "head", Op: OpLinear, Inputs: []string{"head.flatten"}, In: prod(shapes[last]), Out: 2, Bias: true})
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("probe of %s: %w", op, err)
	}
	return a, nil
}
