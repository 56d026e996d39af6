package arch

import (
	"fmt"
	"slices"
)

// Granularity is what one pruning score gates. The trainer (score shapes, the mask's
// broadcast, what else the mask multiplies) and the exporter (what a pruned unit zeroes)
// both read it from the Arch, so they cannot disagree.
type Granularity string

const (
	// GranWeight is the paper's: one score per weight.
	GranWeight Granularity = "weight"
	// GranChannel: one score per output channel of a convolution or output neuron of a
	// linear layer. The score's mask multiplies the unit's whole weight row, its bias and
	// the affine weight and bias of the BatchNorm that reads it, so a pruned unit outputs
	// exactly 0 (in training and in eval mode) and compaction can remove it. The head's
	// outputs are the classes, which cannot be removed: it keeps one score per weight.
	GranChannel Granularity = "channel"
)

// Granularities lists every granularity, the default first.
var Granularities = []Granularity{GranWeight, GranChannel}

// ParseGranularity reads a granularity as flags and config.json spell it ("" is weight).
func ParseGranularity(s string) (Granularity, error) {
	if s == "" {
		return GranWeight, nil
	}
	if g := Granularity(s); slices.Contains(Granularities, g) {
		return g, nil
	}
	return "", fmt.Errorf("unknown mask granularity %q (want one of %v)", s, Granularities)
}

// WithGranularity returns a copy of a whose scores gate at granularity g.
func (a *Arch) WithGranularity(g Granularity) (*Arch, error) {
	g, err := ParseGranularity(string(g))
	if err != nil {
		return nil, err
	}
	b := *a
	b.Granularity = g
	return &b, nil
}

// unitGated reports whether the masked weight of node n has one score per output unit.
func (a *Arch) unitGated(node string) bool {
	return a.Granularity == GranChannel && node != a.Output()
}

// scoreShape is the shape of the score of masked weight p: p's own shape, or under unit
// gating [Out, 1, ...] so that its mask broadcasts over the unit's row.
func (a *Arch) scoreShape(p Param) []int {
	if !a.unitGated(p.Node) {
		return p.Shape
	}
	s := make([]int, len(p.Shape))
	for i := range s {
		s[i] = 1
	}
	s[0] = p.Shape[0]
	return s
}

// GatedWith maps each per-unit vector that a unit-gated score also multiplies (the layer's
// bias, the affine weight and bias of a BatchNorm reading the layer) to the name of the
// masked weight whose score gates it. Empty under weight granularity.
func (a *Arch) GatedWith() map[string]string {
	out := map[string]string{}
	for _, p := range a.MaskedParams() {
		if !a.unitGated(p.Node) {
			continue
		}
		for _, q := range a.Params() {
			if q.Node == p.Node && q.Kind == Bias {
				out[q.Name] = p.Name
			}
		}
		for _, n := range a.Nodes {
			if n.Op != OpBatchNorm || len(n.Inputs) != 1 || n.Inputs[0] != p.Node {
				continue
			}
			for _, q := range n.params() {
				if q.Kind == BNWeight || q.Kind == BNBias {
					out[q.Name] = p.Name
				}
			}
		}
	}
	return out
}

// Check refuses a granularity no run can have ("" is weight).
func (g Granularity) Check() error {
	_, err := ParseGranularity(string(g))
	return err
}
