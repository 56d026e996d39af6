package exporter

// Compaction removes neurons and channels the mask has cut off, without changing what
// the network computes (up to float rounding of folded biases):
//
//   - a unit whose outgoing weights in the next layer are all zero is unused: its row in
//     its own layer and its column in the next layer are removed;
//   - a unit whose incoming weights are all zero outputs a constant (its bias, BN folded),
//     which ReLU, max pooling and global average pooling keep constant. Its contribution
//     to the next layer is folded into that layer's bias when this is exact: always for a
//     Gemm, for a Conv only when it has no zero padding (the border taps that read
//     padding would otherwise see 0 instead of the constant) or the constant is 0;
//     otherwise the unit is kept;
//   - only units on a single-reader chain param -> [Relu|MaxPool|GAP]* -> param are
//     touched, so residual streams (ResNet Add inputs and outputs) keep every channel and
//     only the channels inside a basic block (conv1 -> conv2) shrink;
//   - the network's input keeps every column: the MLP's unused input pixels stay as zero
//     columns of its first Gemm. Selecting the used ones with a Gather made ONNX Runtime
//     12x slower at batch 256 (a Gather on axis 1 copies row by row; 17 ms against the
//     Gemm's 1.2 ms for the 2352-pixel mlp), far more than the zero columns cost.
//
// At least one unit of every layer is kept so no tensor has a zero dimension.

import (
	"fmt"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/onnx"
)

// Compact removes pruned neurons and channels, folding constant outputs into biases.
const Compact Format = "compact"

func compactFormat() format {
	return format{name: Compact, help: "pruned neurons/channels removed, constant outputs folded into the next bias",
		pass: compact, weights: (*onnx.Builder).Dense}
}

// role is what compaction may do across a layer of an op.
type role int

const (
	// barrier ends a chain: the op mixes channels, reads two inputs or changes a constant
	// channel in a way compaction does not track.
	barrier role = iota
	// passThrough is channel-wise and keeps a constant channel constant (ReLU clips it at 0).
	passThrough
	// producer has weights whose rows (output units) and columns (inputs) can be removed.
	producer
)

func roleOf(op arch.Op) (role, error) {
	switch op {
	case arch.OpReLU, arch.OpMaxPool, arch.OpGlobalAvgPool:
		return passThrough, nil
	case arch.OpLinear, arch.OpConv:
		return producer, nil
	case arch.OpNormalize, arch.OpScale, arch.OpFlatten, arch.OpAdd, arch.OpBatchNorm:
		return barrier, nil
	default:
		return barrier, fmt.Errorf("op %q has no compaction role", op)
	}
}

func roles(ls []*layer) (map[*layer]role, error) {
	rs := map[*layer]role{}
	for _, l := range ls {
		r, err := roleOf(l.node.Op)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.name(), err)
		}
		rs[l] = r
	}
	return rs, nil
}

func consumers(ls []*layer) map[string][]*layer {
	c := map[string][]*layer{}
	for _, l := range ls {
		for _, in := range l.in {
			c[in] = append(c[in], l)
		}
	}
	return c
}

// chainFrom follows p's output through channel-wise single-reader layers to the next
// parameter layer; nil when the path forks, merges or ends.
func chainFrom(p *layer, cons map[string][]*layer, rs map[*layer]role) ([]*layer, *layer) {
	t := p.out
	var chain []*layer
	for {
		cs := cons[t]
		if len(cs) != 1 || len(cs[0].in) != 1 {
			return nil, nil
		}
		l := cs[0]
		switch rs[l] {
		case passThrough:
			chain = append(chain, l)
			t = l.out
		case producer:
			return chain, l
		default:
			return nil, nil
		}
	}
}

func rowZero(l *layer, o int) bool {
	per := l.node.In * l.taps()
	for _, v := range l.w[o*per : (o+1)*per] {
		if v != 0 {
			return false
		}
	}
	return true
}

func colZero(l *layer, j int) bool {
	t := l.taps()
	for o := 0; o < l.node.Out; o++ {
		base := (o*l.node.In + j) * t
		for _, v := range l.w[base : base+t] {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

func removeRows(l *layer, drop []bool) {
	per := l.node.In * l.taps()
	var w, b []float64
	for o := 0; o < l.node.Out; o++ {
		if !drop[o] {
			w = append(w, l.w[o*per:(o+1)*per]...)
			b = append(b, l.b[o])
		}
	}
	l.w, l.b, l.node.Out = w, b, len(b)
}

func removeCols(l *layer, drop []bool) {
	t := l.taps()
	var w []float64
	kept := 0
	for j := range drop {
		if !drop[j] {
			kept++
		}
	}
	for o := 0; o < l.node.Out; o++ {
		for j := 0; j < l.node.In; j++ {
			if !drop[j] {
				base := (o*l.node.In + j) * t
				w = append(w, l.w[base:base+t]...)
			}
		}
	}
	l.w, l.node.In = w, kept
}

// spareOne un-drops one unit when every unit would go.
func spareOne(drop []bool) {
	for _, d := range drop {
		if !d {
			return
		}
	}
	drop[0] = false
}

// compactPass shrinks one producer/consumer pair; it reports whether anything changed.
func compactPair(p, c *layer, chain []*layer) bool {
	drop := make([]bool, p.node.Out)
	konst := make([]float64, p.node.Out)
	fold := make([]bool, p.node.Out)
	any := false
	for j := 0; j < p.node.Out; j++ {
		if colZero(c, j) {
			drop[j] = true
			any = true
			continue
		}
		if !rowZero(p, j) {
			continue
		}
		v := p.b[j]
		for _, l := range chain {
			if l.node.Op == arch.OpReLU && v < 0 {
				v = 0
			}
		}
		switch {
		case v == 0:
			drop[j] = true
		case c.node.Op == arch.OpLinear || c.node.Pad == 0:
			drop[j], fold[j], konst[j] = true, true, v
		}
		any = any || drop[j]
	}
	if !any {
		return false
	}
	spareOne(drop)
	n := 0
	for _, d := range drop {
		if d {
			n++
		}
	}
	if n == 0 {
		return false
	}
	t := c.taps()
	for j := range drop {
		if !drop[j] || !fold[j] {
			continue
		}
		for o := 0; o < c.node.Out; o++ {
			base := (o*c.node.In + j) * t
			sum := 0.0
			for _, w := range c.w[base : base+t] {
				sum += w
			}
			c.b[o] += float64(sum * konst[j])
		}
	}
	removeRows(p, drop)
	removeCols(c, drop)
	return true
}

// compact shrinks the layers in place.
func compact(ls []*layer) error {
	rs, err := roles(ls)
	if err != nil {
		return err
	}
	for changed := true; changed; {
		changed = false
		cons := consumers(ls)
		for _, p := range ls {
			if rs[p] != producer {
				continue
			}
			if chain, c := chainFrom(p, cons, rs); c != nil && compactPair(p, c, chain) {
				changed = true
			}
		}
	}
	return nil
}
