package exporter

import (
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/tensor"
)

// layer is one step of the exported graph before it is written: the arch node with its
// mask applied and BatchNorm folded, weights in float64 so folding stays exact.
type layer struct {
	name string   // node name
	op   string   // sub div mul flatten gemm conv relu maxpool gap add gather
	in   []string // tensor names read
	out  string   // tensor name written

	// gemm, conv: w is [outC][inC] (gemm) or [outC][inC][k][k] (conv), row-major.
	w, b      []float64
	inC, outC int
	k         int // conv, maxpool kernel
	stride    int
	pad       int

	consts []float32 // sub, div: per channel; mul: one factor
	cname  string    // initializer name of consts
	index  []int64   // gather: kept input columns

	origOut int // outC before compaction
	origIn  int // inC before compaction
}

func (l *layer) param() bool { return l.op == "gemm" || l.op == "conv" }

// taps is the number of weights per (out, in) pair.
func (l *layer) taps() int {
	if l.op == "conv" {
		return l.k * l.k
	}
	return 1
}

// buildIR turns an arch and its folded parameters into layers. Every conv directly followed
// by a BatchNorm that nothing else reads gets that BatchNorm folded in (eval mode).
func buildIR(a *arch.Arch, params map[string]tensor.Tensor) ([]*layer, error) {
	readers := map[string]int{}
	for _, n := range a.Nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	tensor := map[string]string{arch.Input: "input"} // arch node -> tensor name
	get := func(name string) ([]float32, error) {
		t, ok := params[name]
		if !ok || t.F32 == nil {
			return nil, fmt.Errorf("parameter %s missing", name)
		}
		return t.F32, nil
	}
	var ls []*layer
	fused := map[string]bool{}
	for i, n := range a.Nodes {
		if fused[n.Name] {
			continue
		}
		ins := make([]string, len(n.Inputs))
		for j, in := range n.Inputs {
			t, ok := tensor[in]
			if !ok {
				return nil, fmt.Errorf("node %s reads %s before it is defined", n.Name, in)
			}
			ins[j] = t
		}
		out := n.Name
		switch n.Op {
		case arch.OpNormalize:
			c := len(n.Mean)
			if len(n.Std) != c {
				return nil, fmt.Errorf("node %s: %d means and %d stds", n.Name, c, len(n.Std))
			}
			ls = append(ls,
				&layer{name: n.Name + ".sub", op: "sub", in: ins, out: n.Name + ".centered", consts: n.Mean, cname: n.Name + ".mean"},
				&layer{name: n.Name + ".div", op: "div", in: []string{n.Name + ".centered"}, out: out, consts: n.Std, cname: n.Name + ".std"})
		case arch.OpScale:
			ls = append(ls, &layer{name: n.Name, op: "mul", in: ins, out: out, consts: []float32{n.Factor}, cname: n.Name + ".factor"})
		case arch.OpFlatten:
			ls = append(ls, &layer{name: n.Name, op: "flatten", in: ins, out: out})
		case arch.OpReLU:
			ls = append(ls, &layer{name: n.Name, op: "relu", in: ins, out: out})
		case arch.OpMaxPool:
			ls = append(ls, &layer{name: n.Name, op: "maxpool", in: ins, out: out, k: n.Kernel, stride: n.Stride, pad: n.Pad})
		case arch.OpGlobalAvgPool:
			ls = append(ls, &layer{name: n.Name, op: "gap", in: ins, out: out})
		case arch.OpAdd:
			ls = append(ls, &layer{name: n.Name, op: "add", in: ins, out: out})
		case arch.OpBatchNorm:
			return nil, fmt.Errorf("node %s: BatchNorm that does not follow a conv is not supported", n.Name)
		case arch.OpLinear, arch.OpConv:
			w32, err := get(n.Name + ".weight")
			if err != nil {
				return nil, err
			}
			l := &layer{name: n.Name, op: "gemm", in: ins, out: out, inC: n.In, outC: n.Out, origIn: n.In, origOut: n.Out}
			if n.Op == arch.OpConv {
				l.op, l.k, l.stride, l.pad = "conv", n.Kernel, n.Stride, n.Pad
			}
			l.w = make([]float64, len(w32))
			for j, v := range w32 {
				l.w[j] = float64(v)
			}
			l.b = make([]float64, n.Out)
			if n.Bias {
				b32, err := get(n.Name + ".bias")
				if err != nil {
					return nil, err
				}
				for j, v := range b32 {
					l.b[j] = float64(v)
				}
			}
			if n.Op == arch.OpConv && i+1 < len(a.Nodes) {
				bn := a.Nodes[i+1]
				if bn.Op == arch.OpBatchNorm && len(bn.Inputs) == 1 && bn.Inputs[0] == n.Name && readers[n.Name] == 1 {
					if err := foldBN(l, bn, get); err != nil {
						return nil, err
					}
					fused[bn.Name] = true
					out = bn.Name
					tensor[bn.Name] = out
					l.out = out
				}
			}
			ls = append(ls, l)
		default:
			return nil, fmt.Errorf("node %s: op %q not supported by the exporter", n.Name, n.Op)
		}
		tensor[n.Name] = out
	}
	last := ls[len(ls)-1]
	last.out = "logits"
	return ls, nil
}

// foldBN folds y = γ (x - μ) / sqrt(σ² + ε) + β into the conv before it:
// W' = W·s, b' = (b - μ)·s + β with s = γ / sqrt(σ² + ε), computed in float64.
func foldBN(l *layer, bn arch.Node, get func(string) ([]float32, error)) error {
	var vals [4][]float32
	for i, suffix := range []string{"weight", "bias", "running_mean", "running_var"} {
		v, err := get(bn.Name + "." + suffix)
		if err != nil {
			return err
		}
		if len(v) != l.outC {
			return fmt.Errorf("parameter %s.%s has %d values, want %d", bn.Name, suffix, len(v), l.outC)
		}
		vals[i] = v
	}
	per := len(l.w) / l.outC
	for o := 0; o < l.outC; o++ {
		s := float64(vals[0][o]) / math.Sqrt(float64(vals[3][o])+arch.BNEps)
		for j := o * per; j < (o+1)*per; j++ {
			l.w[j] = float64(l.w[j] * s)
		}
		l.b[o] = float64((l.b[o]-float64(vals[2][o]))*s) + float64(vals[1][o])
	}
	return nil
}

// shapes infers every tensor's per-sample shape.
func shapes(ls []*layer, input [3]int) (map[string][]int, error) {
	sh := map[string][]int{"input": input[:]}
	for _, l := range ls {
		x, ok := sh[l.in[0]]
		if !ok {
			return nil, fmt.Errorf("layer %s reads unknown tensor %s", l.name, l.in[0])
		}
		var out []int
		switch l.op {
		case "sub", "div", "mul", "relu":
			out = x
		case "add":
			if fmt.Sprint(x) != fmt.Sprint(sh[l.in[1]]) {
				return nil, fmt.Errorf("layer %s adds %v and %v", l.name, x, sh[l.in[1]])
			}
			out = x
		case "flatten":
			p := 1
			for _, d := range x {
				p *= d
			}
			out = []int{p}
		case "gather":
			out = []int{len(l.index)}
		case "gap":
			out = []int{x[0]}
		case "gemm":
			if len(x) != 1 || x[0] != l.inC {
				return nil, fmt.Errorf("layer %s wants [%d], gets %v", l.name, l.inC, x)
			}
			out = []int{l.outC}
		case "conv", "maxpool":
			if len(x) != 3 {
				return nil, fmt.Errorf("layer %s wants [C H W], gets %v", l.name, x)
			}
			c := x[0]
			if l.op == "conv" {
				if c != l.inC {
					return nil, fmt.Errorf("layer %s wants %d channels, gets %d", l.name, l.inC, c)
				}
				c = l.outC
			}
			out = []int{c, (x[1]+2*l.pad-l.k)/l.stride + 1, (x[2]+2*l.pad-l.k)/l.stride + 1}
		default:
			return nil, fmt.Errorf("layer %s: unknown op %s", l.name, l.op)
		}
		sh[l.out] = out
	}
	return sh, nil
}
