package exporter

import (
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/tensor"
)

// layer is one arch node of the exported graph before it is written, with its mask
// applied and BatchNorm folded, weights in float64 so folding stays exact. Compaction
// shrinks node.In and node.Out, so the arch shape rule still describes the layer.
type layer struct {
	node arch.Node
	in   []string // tensor names read
	out  string   // tensor name written

	// linear, conv: w is [Out][In] (linear) or [Out][In][K][K] (conv), row-major.
	w, b []float64

	origOut int // node.Out before compaction
	origIn  int // node.In before compaction
}

func (l *layer) name() string { return l.node.Name }

// taps is the number of weights per (out, in) pair: K*K for a conv, 1 for a linear.
func (l *layer) taps() int { return len(l.w) / (l.node.Out * l.node.In) }

// buildIR turns an arch and its folded parameters into layers, one per node. Every conv
// directly followed by a BatchNorm that nothing else reads gets that BatchNorm folded in
// (eval mode); a BatchNorm anywhere else is not supported.
func buildIR(a *arch.Arch, params map[string]tensor.Tensor) ([]*layer, error) {
	readers := map[string]int{}
	for _, n := range a.Nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	get := func(name string) ([]float32, error) {
		t, ok := params[name]
		if !ok || t.F32 == nil {
			return nil, fmt.Errorf("parameter %s missing", name)
		}
		return t.F32, nil
	}
	tensors := map[string]string{arch.Input: arch.Input} // arch node -> tensor name
	var ls []*layer
	for i := 0; i < len(a.Nodes); i++ {
		n := a.Nodes[i]
		l := &layer{node: n, in: make([]string, len(n.Inputs)), out: n.Name}
		for j, in := range n.Inputs {
			t, ok := tensors[in]
			if !ok {
				return nil, fmt.Errorf("node %s reads %s before it is defined", n.Name, in)
			}
			l.in[j] = t
		}
		if n.Op == arch.OpBatchNorm {
			return nil, fmt.Errorf("node %s: BatchNorm that does not follow a conv is not supported", n.Name)
		}
		if n.Op.Masked() {
			if err := loadWeights(l, get); err != nil {
				return nil, err
			}
			if i+1 < len(a.Nodes) && foldable(n, a.Nodes[i+1], readers) {
				bn := a.Nodes[i+1]
				if err := foldBN(l, bn, get); err != nil {
					return nil, err
				}
				l.out = bn.Name
				tensors[bn.Name] = l.out
				i++
			}
		}
		tensors[n.Name] = l.out
		ls = append(ls, l)
	}
	ls[len(ls)-1].out = "logits"
	return ls, nil
}

// foldable reports whether bn reads only p's output and nothing else reads it.
func foldable(p, bn arch.Node, readers map[string]int) bool {
	return bn.Op == arch.OpBatchNorm && len(bn.Inputs) == 1 && bn.Inputs[0] == p.Name && readers[p.Name] == 1
}

// loadWeights copies a masked node's weight and bias (zeros without one) into l.
func loadWeights(l *layer, get func(string) ([]float32, error)) error {
	n := l.node
	w32, err := get(n.Name + ".weight")
	if err != nil {
		return err
	}
	l.origIn, l.origOut = n.In, n.Out
	l.w = make([]float64, len(w32))
	for j, v := range w32 {
		l.w[j] = float64(v)
	}
	l.b = make([]float64, n.Out)
	if !n.Bias {
		return nil
	}
	b32, err := get(n.Name + ".bias")
	if err != nil {
		return err
	}
	for j, v := range b32 {
		l.b[j] = float64(v)
	}
	return nil
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
		if len(v) != l.node.Out {
			return fmt.Errorf("parameter %s.%s has %d values, want %d", bn.Name, suffix, len(v), l.node.Out)
		}
		vals[i] = v
	}
	per := len(l.w) / l.node.Out
	for o := 0; o < l.node.Out; o++ {
		s := float64(vals[0][o]) / math.Sqrt(float64(vals[3][o])+arch.BNEps)
		for j := o * per; j < (o+1)*per; j++ {
			l.w[j] = float64(l.w[j] * s)
		}
		l.b[o] = float64((l.b[o]-float64(vals[2][o]))*s) + float64(vals[1][o])
	}
	return nil
}

// shapes infers every tensor's per-sample shape with the arch's shape rules.
func shapes(ls []*layer, input [3]int) (map[string][]int, error) {
	sh := map[string][]int{arch.Input: input[:]}
	for _, l := range ls {
		ins := make([][]int, len(l.in))
		for i, t := range l.in {
			s, ok := sh[t]
			if !ok {
				return nil, fmt.Errorf("layer %s reads unknown tensor %s", l.name(), t)
			}
			ins[i] = s
		}
		out, err := l.node.OutShape(ins)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.name(), err)
		}
		sh[l.out] = out
	}
	return sh, nil
}
