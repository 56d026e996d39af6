package arch

import (
	"fmt"
	"strconv"
)

// Options select the variant of a model for a dataset.
type Options struct {
	Classes int
	Input   [3]int
	// Mean and Std, when set, put a per-channel normalisation at the front of the graph.
	Mean, Std []float32
	// AsCoded reproduces the reference code's quirks (the MLP's second division by 255).
	AsCoded bool
}

// model is one architecture Build knows: its name (the Arch's Name too) and its builder.
type model struct {
	name  string
	build func(Options) *Arch
}

// models is every architecture, in the order the commands list them. Adding one is its
// builder and its row here.
func models() []model {
	return []model{{"mlp", MLP}, {"cnn", CNN}, {"resnet18", ResNet18}}
}

// Models lists the model names Build accepts.
func Models() []string {
	var out []string
	for _, m := range models() {
		out = append(out, m.name)
	}
	return out
}

// Build returns the named architecture.
func Build(name string, o Options) (*Arch, error) {
	m, err := lookup(name)
	if err != nil {
		return nil, err
	}
	a := m.build(o)
	if err := a.Validate(); err != nil {
		return nil, sizeHint(name, o, err)
	}
	return a, nil
}

// lookup is the table's row of a model name.
func lookup(name string) (model, error) {
	for _, m := range models() {
		if m.name == name {
			return m, nil
		}
	}
	return model{}, fmt.Errorf("unknown model %q (want one of %v)", name, Models())
}

// prelude is the input normalisation shared by every model.
func prelude(o Options) (nodes []Node, last string) {
	last = Input
	if len(o.Mean) > 0 {
		nodes = append(nodes, Node{Name: "normalize", Op: OpNormalize, Inputs: []string{last}, Mean: o.Mean, Std: o.Std})
		last = "normalize"
	}
	return nodes, last
}

// MLP is the light Colored MNIST model: flatten, 100, 100, 32, classes with ReLU between.
func MLP(o Options) *Arch {
	nodes, last := prelude(o)
	if o.AsCoded {
		nodes = append(nodes, Node{Name: "scale", Op: OpScale, Inputs: []string{last}, Factor: 1.0 / 255})
		last = "scale"
	}
	nodes = append(nodes, Node{Name: "flatten", Op: OpFlatten, Inputs: []string{last}})
	last = "flatten"
	in := o.Input[0] * o.Input[1] * o.Input[2]
	for i, out := range []int{100, 100, 32} {
		fc := "fc" + strconv.Itoa(i+1)
		relu := "relu" + strconv.Itoa(i+1)
		nodes = append(nodes,
			Node{Name: fc, Op: OpLinear, Inputs: []string{last}, In: in, Out: out, Bias: true},
			Node{Name: relu, Op: OpReLU, Inputs: []string{fc}})
		last, in = relu, out
	}
	nodes = append(nodes, Node{Name: "fc", Op: OpLinear, Inputs: []string{last}, In: in, Out: o.Classes, Bias: true})
	return &Arch{Name: "mlp", Input: o.Input, Classes: o.Classes, Nodes: nodes, Feature: last}
}

// CNN is the reference Colored MNIST model: three conv4x4/s2 + BN + ReLU blocks, global pool, linear.
func CNN(o Options) *Arch {
	nodes, last := prelude(o)
	in := o.Input[0]
	for i, out := range []int{64, 128, 256} {
		k := strconv.Itoa(i + 1)
		nodes = append(nodes,
			Node{Name: "conv" + k, Op: OpConv, Inputs: []string{last}, In: in, Out: out, Kernel: 4, Stride: 2, Pad: 1},
			Node{Name: "bn" + k, Op: OpBatchNorm, Inputs: []string{"conv" + k}, In: out},
			Node{Name: "relu" + k, Op: OpReLU, Inputs: []string{"bn" + k}})
		last, in = "relu"+k, out
	}
	nodes = append(nodes,
		Node{Name: "pool", Op: OpGlobalAvgPool, Inputs: []string{last}},
		Node{Name: "fc", Op: OpLinear, Inputs: []string{"pool"}, In: in, Out: o.Classes, Bias: true})
	return &Arch{Name: "cnn", Input: o.Input, Classes: o.Classes, Nodes: nodes, Feature: "pool"}
}

// ResNet18 is torchvision's ResNet-18 with torchvision's parameter names, so ImageNet
// weights saved from torchvision load by name.
func ResNet18(o Options) *Arch {
	nodes, last := prelude(o)
	nodes = append(nodes,
		Node{Name: "conv1", Op: OpConv, Inputs: []string{last}, In: o.Input[0], Out: 64, Kernel: 7, Stride: 2, Pad: 3},
		Node{Name: "bn1", Op: OpBatchNorm, Inputs: []string{"conv1"}, In: 64},
		Node{Name: "relu", Op: OpReLU, Inputs: []string{"bn1"}},
		Node{Name: "maxpool", Op: OpMaxPool, Inputs: []string{"relu"}, Kernel: 3, Stride: 2, Pad: 1})
	last, in := "maxpool", 64
	for layer, out := range []int{64, 128, 256, 512} {
		for block := 0; block < 2; block++ {
			stride := 1
			if layer > 0 && block == 0 {
				stride = 2
			}
			prefix := fmt.Sprintf("layer%d.%d", layer+1, block)
			var bn []Node
			bn, last = basicBlock(prefix, last, in, out, stride)
			nodes = append(nodes, bn...)
			in = out
		}
	}
	nodes = append(nodes,
		Node{Name: "avgpool", Op: OpGlobalAvgPool, Inputs: []string{last}},
		Node{Name: "fc", Op: OpLinear, Inputs: []string{"avgpool"}, In: 512, Out: o.Classes, Bias: true})
	return &Arch{Name: "resnet18", Input: o.Input, Classes: o.Classes, Nodes: nodes, Feature: "avgpool"}
}

func basicBlock(p, from string, in, out, stride int) ([]Node, string) {
	nodes := []Node{
		{Name: p + ".conv1", Op: OpConv, Inputs: []string{from}, In: in, Out: out, Kernel: 3, Stride: stride, Pad: 1},
		{Name: p + ".bn1", Op: OpBatchNorm, Inputs: []string{p + ".conv1"}, In: out},
		{Name: p + ".relu1", Op: OpReLU, Inputs: []string{p + ".bn1"}},
		{Name: p + ".conv2", Op: OpConv, Inputs: []string{p + ".relu1"}, In: out, Out: out, Kernel: 3, Stride: 1, Pad: 1},
		{Name: p + ".bn2", Op: OpBatchNorm, Inputs: []string{p + ".conv2"}, In: out},
	}
	shortcut := from
	if stride != 1 || in != out {
		nodes = append(nodes,
			Node{Name: p + ".downsample.0", Op: OpConv, Inputs: []string{from}, In: in, Out: out, Kernel: 1, Stride: stride},
			Node{Name: p + ".downsample.1", Op: OpBatchNorm, Inputs: []string{p + ".downsample.0"}, In: out})
		shortcut = p + ".downsample.1"
	}
	nodes = append(nodes,
		Node{Name: p + ".add", Op: OpAdd, Inputs: []string{p + ".bn2", shortcut}},
		Node{Name: p + ".relu2", Op: OpReLU, Inputs: []string{p + ".add"}})
	return nodes, p + ".relu2"
}
