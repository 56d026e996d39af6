package exporter

// Alignment pads a compacted layer's units up to a multiple (8, 16) with units that compute
// nothing: a zero row and zero bias in the producer (its output is 0, through ReLU and
// pooling too) and a zero column in the layer that reads it. The network's function is
// unchanged; only its shape is. Compaction leaves whatever counts the mask kept (43, 84, 193
// channels for the cnn at a 50 % budget), and convolution kernels run such widths markedly
// slower per FLOP than multiples of 8 (docs/results.md measures both), so a few zero
// channels buy back more time than they cost.

import "fmt"

// align pads every producer whose units compaction shrank to a multiple of n units, never
// past the arch's own count. n ≤ 1 leaves the layers as they are.
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
		if rs[p] != producer || p.node.Out == p.origOut {
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
