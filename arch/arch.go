// Package arch describes every network dcwp-go trains or exports, once, as data.
//
// The trainer (driver) builds its libtorch modules from an Arch and the exporter
// builds its ONNX graph from the same Arch, so the two cannot drift apart: a
// parameter name, a shape or the set of masked weights is decided here only.
package arch

import "fmt"

// Op is the kind of a node. Each op has one meaning for the trainer and the exporter.
type Op string

const (
	// OpNormalize computes (x - Mean[c]) / Std[c] per channel, so exported graphs take pixels/255.
	OpNormalize Op = "normalize"
	// OpScale multiplies by Factor (the reference MLP divides its input by 255 a second time).
	OpScale Op = "scale"
	// OpFlatten turns [N, ...] into [N, prod(...)].
	OpFlatten Op = "flatten"
	// OpLinear is y = x Wᵀ + b with W of shape [Out, In].
	OpLinear Op = "linear"
	// OpConv is a 2-D convolution with square kernel, W of shape [Out, In, K, K].
	OpConv Op = "conv"
	// OpBatchNorm is BatchNorm2d over In channels (eps 1e-5, momentum 0.1, as PyTorch).
	OpBatchNorm Op = "batchnorm"
	// OpReLU is max(x, 0).
	OpReLU Op = "relu"
	// OpMaxPool is max pooling with square Kernel, Stride and Pad.
	OpMaxPool Op = "maxpool"
	// OpGlobalAvgPool averages over H and W and flattens: [N, C, H, W] -> [N, C].
	OpGlobalAvgPool Op = "gap"
	// OpAdd sums its two inputs (residual connections).
	OpAdd Op = "add"
)

// Input is the name a node uses to refer to the network's input.
const Input = "input"

// BatchNorm constants shared by trainer and exporter.
const (
	BNEps      = 1e-5
	BNMomentum = 0.1
)

// Node is one operation. Fields that an op does not use stay zero.
type Node struct {
	Name   string
	Op     Op
	Inputs []string // names of earlier nodes, or Input
	In     int      // input features or channels
	Out    int      // output features or channels
	Kernel int
	Stride int
	Pad    int
	Bias   bool      // linear/conv carry a bias
	Mean   []float32 // normalize
	Std    []float32 // normalize
	Factor float32   // scale
}

// Arch is a whole network: a topologically ordered list of nodes whose last node yields logits.
type Arch struct {
	Name    string
	Input   [3]int // C, H, W of one sample
	Classes int
	Nodes   []Node
	// Feature names the node whose output is the penultimate feature vector used by SupCon.
	Feature string
	// Granularity is what one pruning score gates; "" is GranWeight (the paper's).
	Granularity Granularity
}

// Output is the name of the node that yields the logits.
func (a *Arch) Output() string { return a.Nodes[len(a.Nodes)-1].Name }

// Node returns the node with the given name.
func (a *Arch) Node(name string) (Node, bool) {
	for _, n := range a.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Kind tells what role a parameter plays.
type Kind string

const (
	Weight      Kind = "weight"
	Bias        Kind = "bias"
	BNWeight    Kind = "bn_weight"
	BNBias      Kind = "bn_bias"
	RunningMean Kind = "running_mean"
	RunningVar  Kind = "running_var"
)

// Param is one named tensor of the network.
type Param struct {
	Name   string // "<node>.<suffix>", torchvision-style
	Node   string
	Kind   Kind
	Shape  []int
	Masked bool // a pruning score exists
	// ScoreShape is the shape of the score of a masked weight: Shape, or [Out, 1, ...]
	// when one score gates a whole output unit (Granularity); nil when not masked.
	ScoreShape []int
}

// Trainable reports whether an optimizer updates the parameter (running statistics are buffers).
func (p Param) Trainable() bool { return p.Kind != RunningMean && p.Kind != RunningVar }

// Numel is the number of elements.
func (p Param) Numel() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Params lists every parameter and buffer in node order.
func (a *Arch) Params() []Param {
	var ps []Param
	for _, n := range a.Nodes {
		for _, p := range n.params() {
			if p.Masked {
				p.ScoreShape = a.scoreShape(p)
			}
			ps = append(ps, p)
		}
	}
	return ps
}

// ScoreNumel is the number of scores of a masked weight.
func (p Param) ScoreNumel() int {
	n := 1
	for _, d := range p.ScoreShape {
		n *= d
	}
	return n
}

func (n Node) params() []Param {
	s, err := n.Op.Spec()
	if err != nil || s.Params == nil {
		return nil
	}
	return s.Params(n)
}

// MaskedParams lists the weights that carry pruning scores.
func (a *Arch) MaskedParams() []Param {
	var ps []Param
	for _, p := range a.Params() {
		if p.Masked {
			ps = append(ps, p)
		}
	}
	return ps
}

// MaskedCount is the number of masked weights.
func (a *Arch) MaskedCount() int {
	n := 0
	for _, p := range a.MaskedParams() {
		n += p.Numel()
	}
	return n
}

// Validate checks that inputs refer to earlier nodes, names are unique, channel counts chain,
// every kernel fits what reaches it and the network is within MaxParams and MaxActivations.
func (a *Arch) Validate() error {
	shapes, err := a.Shapes()
	if err != nil {
		return err
	}
	if s := shapes[a.Output()]; len(s) != 1 || s[0] != a.Classes {
		return fmt.Errorf("arch %s: output shape %v, want [%d]", a.Name, s, a.Classes)
	}
	if _, ok := shapes[a.Feature]; !ok {
		return fmt.Errorf("arch %s: feature node %q does not exist", a.Name, a.Feature)
	}
	return a.checkSize(shapes)
}
