// Package loss holds DCWP's losses over libtorch tensors: generalized cross-entropy for the
// biased network and the supervised contrastive term with mined positives.
package loss

import (
	"math"

	"github.com/dcwp-go/dcwp/driver/torch"
)

// GCE is the mean over the batch of CE_i · q · p_i^q, p_i = softmax(logits)[y_i] held constant.
func GCE(s *torch.Scope, logits, y *torch.Tensor, q float64) *torch.Tensor {
	ce := s.CrossEntropy(logits, y, torch.ReduceNone)
	p := s.Exp(s.Neg(s.Detach(ce))) // softmax(logits)[y] without a gradient
	return s.Mean(s.MulScalar(s.Mul(ce, s.PowScalar(p, q)), q))
}

// CE is the mean cross-entropy.
func CE(s *torch.Scope, logits, y *torch.Tensor) *torch.Tensor {
	return s.CrossEntropy(logits, y, torch.ReduceMean)
}

// SupConPairs builds the positive-pair matrix (row-major N×N, 1 = positive) and the number of
// positives per anchor: j is a positive of anchor i when j != i, y_j == y_i and j is mined
// (asCoded: flag_j; clean: flag_i || flag_j).
func SupConPairs(labels []int32, flags []bool, asCoded bool) (pos []float32, count []float32) {
	n := len(labels)
	pos = make([]float32, n*n)
	count = make([]float32, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j || labels[i] != labels[j] {
				continue
			}
			ok := flags[j]
			if !asCoded {
				ok = ok || flags[i]
			}
			if ok {
				pos[i*n+j] = 1
				count[i]++
			}
		}
	}
	return pos, count
}

// SupCon is the supervised contrastive loss on features (N×D, L2-normalised here) with
// temperature: for anchor i, log p_ij = z_i·z_j/T - log Σ_{k≠i} exp(z_i·z_k/T); the loss is
// -mean over anchors with at least one positive of the mean log p_ij over its positives.
// A batch without a valid anchor yields 0 (clean, no gradient) or NaN (asCoded).
func SupCon(s *torch.Scope, features *torch.Tensor, labels []int32, flags []bool, temperature float64, asCoded bool) *torch.Tensor {
	n := len(labels)
	dev := torch.CPUDevice
	if features != nil {
		dev = features.Device()
	}
	pos, count := SupConPairs(labels, flags, asCoded)
	valid := make([]float32, n)
	nValid := 0
	for i, c := range count {
		if c > 0 {
			valid[i] = 1
			nValid++
		} else {
			count[i] = 1 // avoid 0/0; the anchor is weighted 0 below
		}
	}
	if nValid == 0 {
		v := 0.0
		if asCoded {
			v = math.NaN()
		}
		return s.Full([]int64{}, v, torch.Float32, dev)
	}
	notSelf := make([]float32, n*n)
	for i := range notSelf {
		if i/n != i%n {
			notSelf[i] = 1
		}
	}
	z := s.L2Normalize(features, 1)
	sim := s.DivScalar(s.Matmul(z, s.Transpose(z, 0, 1)), temperature)
	logits := s.Sub(sim, s.Detach(s.AmaxDims(sim, true, 1)))
	ns := s.FromFloat32(notSelf, []int64{int64(n), int64(n)}, dev)
	denom := s.Log(s.SumDims(s.Mul(s.Exp(logits), ns), true, 1))
	logProb := s.Sub(logits, denom)
	pm := s.FromFloat32(pos, []int64{int64(n), int64(n)}, dev)
	meanPos := s.Div(s.SumDims(s.Mul(pm, logProb), false, 1), s.FromFloat32(count, []int64{int64(n)}, dev))
	vm := s.FromFloat32(valid, []int64{int64(n)}, dev)
	return s.DivScalar(s.Neg(s.Sum(s.Mul(meanPos, vm))), float64(nValid))
}

// Sparsity is pruning's sparsity term over the scores Θ, Σ|Θ|; signed gives the reference
// code's ΣΘ, which keeps pushing scores below 0 once they reach it.
func Sparsity(s *torch.Scope, scores []*torch.Tensor, signed bool) *torch.Tensor {
	var sum *torch.Tensor
	for _, sc := range scores {
		term := sc
		if !signed {
			term = s.Abs(sc)
		}
		if sum == nil {
			sum = s.Sum(term)
		} else {
			sum = s.Add(sum, s.Sum(term))
		}
	}
	return sum
}

// Objective is what pruning and fine-tuning descend, CE + λ_sparse·Sparsity + λ_con·SupCon,
// in one place for the stages and the benchmark that times their step. Fine-tuning passes no
// scores, and so has no sparsity term.
type Objective struct {
	LambdaSparse, LambdaCon, Temperature float64
	AsCoded                              bool // the reference code's ΣΘ and SupCon pairs
}

// Terms are the objective's parts (logged; Sparse nil without scores) and their weighted
// Total (descended).
type Terms struct{ CE, Sparse, Con, Total *torch.Tensor }

// Terms evaluates the objective on a batch: the network's logits and features, the labels y
// (as a tensor and on the host), the batch's mined flags and the scores Θ being learned.
func (o Objective) Terms(s *torch.Scope, logits, feat, y *torch.Tensor, labels []int32, flags []bool, scores []*torch.Tensor) Terms {
	t := Terms{CE: CE(s, logits, y)}
	t.Total = t.CE
	if len(scores) > 0 {
		t.Sparse = Sparsity(s, scores, o.AsCoded)
		t.Total = s.Add(t.Total, s.MulScalar(t.Sparse, o.LambdaSparse))
	}
	t.Con = SupCon(s, feat, labels, flags, o.Temperature, o.AsCoded)
	t.Total = s.Add(t.Total, s.MulScalar(t.Con, o.LambdaCon))
	return t
}
