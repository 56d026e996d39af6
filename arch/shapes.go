package arch

import "fmt"

// Shapes infers the per-sample output shape of every node (batch dimension left out),
// checking on the way that each node's declared In matches what reaches it.
func (a *Arch) Shapes() (map[string][]int, error) {
	shapes := map[string][]int{Input: {a.Input[0], a.Input[1], a.Input[2]}}
	for _, n := range a.Nodes {
		if _, dup := shapes[n.Name]; dup {
			return nil, fmt.Errorf("arch %s: node name %q used twice", a.Name, n.Name)
		}
		ins := make([][]int, len(n.Inputs))
		for i, name := range n.Inputs {
			s, ok := shapes[name]
			if !ok {
				return nil, fmt.Errorf("arch %s: node %s reads %q before it is defined", a.Name, n.Name, name)
			}
			ins[i] = s
		}
		out, err := n.outShape(ins)
		if err != nil {
			return nil, fmt.Errorf("arch %s: node %s: %w", a.Name, n.Name, err)
		}
		shapes[n.Name] = out
	}
	return shapes, nil
}

func (n Node) outShape(ins [][]int) ([]int, error) {
	want := 1
	if n.Op == OpAdd {
		want = 2
	}
	if len(ins) != want {
		return nil, fmt.Errorf("%s takes %d inputs, has %d", n.Op, want, len(ins))
	}
	x := ins[0]
	switch n.Op {
	case OpNormalize, OpScale, OpReLU:
		return x, nil
	case OpFlatten:
		return []int{prod(x)}, nil
	case OpLinear:
		if len(x) != 1 || x[0] != n.In {
			return nil, fmt.Errorf("linear wants [%d], gets %v", n.In, x)
		}
		return []int{n.Out}, nil
	case OpConv, OpMaxPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("%s wants [C H W], gets %v", n.Op, x)
		}
		c := x[0]
		if n.Op == OpConv {
			if c != n.In {
				return nil, fmt.Errorf("conv wants %d channels, gets %d", n.In, c)
			}
			c = n.Out
		}
		return []int{c, pooled(x[1], n), pooled(x[2], n)}, nil
	case OpBatchNorm:
		if len(x) != 3 || x[0] != n.In {
			return nil, fmt.Errorf("batchnorm wants %d channels, gets %v", n.In, x)
		}
		return x, nil
	case OpGlobalAvgPool:
		if len(x) != 3 {
			return nil, fmt.Errorf("gap wants [C H W], gets %v", x)
		}
		return []int{x[0]}, nil
	case OpAdd:
		if fmt.Sprint(x) != fmt.Sprint(ins[1]) {
			return nil, fmt.Errorf("add of %v and %v", x, ins[1])
		}
		return x, nil
	}
	return nil, fmt.Errorf("unknown op %q", n.Op)
}

func pooled(size int, n Node) int { return (size+2*n.Pad-n.Kernel)/n.Stride + 1 }

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}
