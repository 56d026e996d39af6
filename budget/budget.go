// Package budget turns a FLOPs budget into the final pruning mask: a threshold on the scores
// that keeps the top-scored units until the budget, and the share of FLOPs a mask keeps.
//
// FLOPs here are those of the masked layers (every Conv and Linear), two per multiply-add:
// a weight of a linear layer costs 2 per sample, a weight of a convolution 2 per output
// position. A mask keeps the FLOPs of the weights it keeps. This is what the masked network
// computes with zeros skipped; a compact export of a channel mask computes less still,
// since the inputs of a layer that read a removed unit go too (the export reports that).
package budget

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/tensor"
)

// PerWeight is, for each masked weight, the FLOPs per sample one of its elements costs.
func PerWeight(a *arch.Arch) (map[string]float64, error) {
	shapes, err := a.Shapes()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, p := range a.MaskedParams() {
		pos := 1
		for _, d := range shapes[p.Node][1:] { // a conv's [C H W] output: H·W positions
			pos *= d
		}
		out[p.Name] = 2 * float64(pos)
	}
	return out, nil
}

// Dense is the FLOPs per sample of the masked layers with every weight kept.
func Dense(a *arch.Arch) (float64, error) {
	per, err := PerWeight(a)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, p := range a.MaskedParams() {
		total += per[p.Name] * float64(p.Numel())
	}
	return total, nil
}

// Share is the share of the masked layers' dense FLOPs that weight-shaped uint8 masks keep.
func Share(a *arch.Arch, masks map[string]tensor.Tensor) (float64, error) {
	per, err := PerWeight(a)
	if err != nil {
		return 0, err
	}
	kept, total := 0.0, 0.0
	for _, p := range a.MaskedParams() {
		m, ok := masks[p.Name]
		if !ok || m.Numel() != p.Numel() {
			return 0, fmt.Errorf("mask for %s missing or of the wrong size", p.Name)
		}
		if len(m.U8) != m.Numel() {
			return 0, fmt.Errorf("mask for %s is not uint8", p.Name)
		}
		for _, v := range m.U8 {
			if v != 0 {
				kept += per[p.Name]
			}
		}
		total += per[p.Name] * float64(p.Numel())
	}
	return kept / total, nil
}

type unit struct {
	score float32
	flops float64
}

// Threshold is the threshold t ≥ 0 of the final mask 1[Θ ≥ t] that keeps at most the share
// target of the dense FLOPs: the scores Θ ≥ 0 (the units the objective keeps) in descending
// order, until the next would pass the budget. Scores are keyed by weight and shaped as
// arch.Param.ScoreShape; a score that gates a unit costs the FLOPs of the unit's weights.
// When the objective alone keeps less than the budget, t is 0: the budget never adds units
// the objective pruned. Ties at the cut are dropped together, so the budget holds.
func Threshold(a *arch.Arch, scores map[string]tensor.Tensor, target float64) (float64, error) {
	if !(target > 0 && target <= 1) {
		return 0, fmt.Errorf("FLOPs budget %v: want a share in (0, 1]", target)
	}
	per, err := PerWeight(a)
	if err != nil {
		return 0, err
	}
	var us []unit
	total := 0.0
	for _, p := range a.MaskedParams() {
		sc, ok := scores[p.Name]
		if !ok || len(sc.F32) != p.ScoreNumel() {
			return 0, fmt.Errorf("scores of %s missing or not %d values", p.Name, p.ScoreNumel())
		}
		f := per[p.Name] * float64(p.Numel()/p.ScoreNumel())
		total += f * float64(len(sc.F32))
		for _, v := range sc.F32 {
			if v >= 0 {
				us = append(us, unit{v, f})
			}
		}
	}
	slices.SortFunc(us, func(x, y unit) int { return cmp.Compare(y.score, x.score) })
	budget, kept := target*total, 0.0
	for _, u := range us {
		if kept+u.flops > budget {
			return math.Nextafter(float64(u.score), math.Inf(1)), nil
		}
		kept += u.flops
	}
	return 0, nil
}
