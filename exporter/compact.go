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
//   - a Gemm reading a Flatten whose columns are unused gets a Gather that keeps the used
//     columns (the MLP's input pixels).
//
// At least one unit of every layer is kept so no tensor has a zero dimension.

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
func chainFrom(p *layer, cons map[string][]*layer) ([]*layer, *layer) {
	t := p.out
	var chain []*layer
	for {
		cs := cons[t]
		if len(cs) != 1 || len(cs[0].in) != 1 {
			return nil, nil
		}
		l := cs[0]
		switch l.op {
		case "relu", "maxpool", "gap":
			chain = append(chain, l)
			t = l.out
		case "gemm", "conv":
			return chain, l
		default:
			return nil, nil
		}
	}
}

func rowZero(l *layer, o int) bool {
	per := l.inC * l.taps()
	for _, v := range l.w[o*per : (o+1)*per] {
		if v != 0 {
			return false
		}
	}
	return true
}

func colZero(l *layer, j int) bool {
	t := l.taps()
	for o := 0; o < l.outC; o++ {
		base := (o*l.inC + j) * t
		for _, v := range l.w[base : base+t] {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

func removeRows(l *layer, drop []bool) {
	per := l.inC * l.taps()
	var w, b []float64
	for o := 0; o < l.outC; o++ {
		if !drop[o] {
			w = append(w, l.w[o*per:(o+1)*per]...)
			b = append(b, l.b[o])
		}
	}
	l.w, l.b, l.outC = w, b, len(b)
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
	for o := 0; o < l.outC; o++ {
		for j := 0; j < l.inC; j++ {
			if !drop[j] {
				base := (o*l.inC + j) * t
				w = append(w, l.w[base:base+t]...)
			}
		}
	}
	l.w, l.inC = w, kept
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
	drop := make([]bool, p.outC)
	konst := make([]float64, p.outC)
	fold := make([]bool, p.outC)
	any := false
	for j := 0; j < p.outC; j++ {
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
			if l.op == "relu" && v < 0 {
				v = 0
			}
		}
		switch {
		case v == 0:
			drop[j] = true
		case c.op == "gemm" || c.pad == 0:
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
		for o := 0; o < c.outC; o++ {
			base := (o*c.inC + j) * t
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

// compact shrinks the layers in place and may insert Gather layers; it returns the new list.
func compact(ls []*layer) []*layer {
	for changed := true; changed; {
		changed = false
		cons := consumers(ls)
		for _, p := range ls {
			if !p.param() {
				continue
			}
			if chain, c := chainFrom(p, cons); c != nil && compactPair(p, c, chain) {
				changed = true
			}
		}
	}
	// Unused input columns of a Gemm reading a Flatten: select the used ones with a Gather.
	cons := consumers(ls)
	var out []*layer
	for _, l := range ls {
		out = append(out, l)
		if l.op != "flatten" || len(cons[l.out]) != 1 || cons[l.out][0].op != "gemm" {
			continue
		}
		g := cons[l.out][0]
		drop := make([]bool, g.inC)
		n := 0
		for j := range drop {
			if colZero(g, j) {
				drop[j] = true
				n++
			}
		}
		if n == 0 {
			continue
		}
		spareOne(drop)
		var idx []int64
		for j, d := range drop {
			if !d {
				idx = append(idx, int64(j))
			}
		}
		sel := &layer{name: g.name + ".select", op: "gather", in: []string{l.out}, out: g.name + ".inputs", index: idx, cname: g.name + ".kept_inputs"}
		out = append(out, sel)
		g.in = []string{sel.out}
		removeCols(g, drop)
	}
	return out
}
