package exporter

// Alignment pads a compacted convolution's output channels up to a multiple (8, 16) with
// channels that compute nothing: a zero filter and zero bias (the channel is 0, through ReLU
// and pooling too) and a zero column in the layer that reads it. The network's function is
// unchanged; only its shape is. Compaction leaves whatever counts the mask kept (43, 84, 193
// channels for the cnn at a 70 % budget); ONNX Runtime's blocked (NCHWc) convolutions want
// channel counts that are multiples of their block, and ran the odd widths markedly slower per
// FLOP, so a few zero channels buy back more time than they cost (docs/results.md). Gemm
// layers are left alone: padding the mlp's neurons changed nothing measurable in speed and
// cost it up to 12 % of its parameters, each padded neuron a full row of inputs.

import (
	"fmt"

	"github.com/dcwp-go/dcwp/arch"
)

// align pads every convolution whose channels compaction shrank to a multiple of n
// channels, never past the arch's own count. n ≤ 1 leaves the layers as they are.
func align(ls []*layer, n int) error {
	if n <= 1 {
		return nil
	}
	rs, err := roles(ls)
	if err != nil {
		return err
	}
	cons := consumers(ls)
	for _, p := range ls {
		if rs[p] != producer || p.node.Op != arch.OpConv || p.node.Out == p.origOut {
			continue
		}
		_, c := chainFrom(p, cons, rs)
		if c == nil {
			return fmt.Errorf("layer %s was compacted but has no single reader to pad", p.name())
		}
		want := min((p.node.Out+n-1)/n*n, p.origOut)
		addRows(p, want-p.node.Out)
		addCols(c, want-c.node.In)
	}
	return nil
}

// addRows appends k output units with zero weights and zero bias.
func addRows(l *layer, k int) {
	per := l.node.In * l.taps()
	l.w = append(l.w, make([]float64, k*per)...)
	l.b = append(l.b, make([]float64, k)...)
	l.node.Out += k
}

// addCols appends k inputs read with zero weights.
func addCols(l *layer, k int) {
	if k == 0 {
		return
	}
	t := l.taps()
	in := l.node.In + k
	w := make([]float64, 0, l.node.Out*in*t)
	for o := 0; o < l.node.Out; o++ {
		w = append(w, l.w[o*l.node.In*t:(o+1)*l.node.In*t]...)
		w = append(w, make([]float64, k*t)...)
	}
	l.w, l.node.In = w, in
}
