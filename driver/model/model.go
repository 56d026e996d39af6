// Package model builds a libtorch network from an arch description: it holds the
// parameters (and, for DCWP, the pruning scores Θ of every masked weight) and runs a
// forward interpreter over the arch's node list, so the trainer never hard-codes a model.
package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// MaskMode selects how masked weights are used in a forward pass.
type MaskMode int

const (
	// NoMask uses the weights as they are (the vanilla network).
	NoMask MaskMode = iota
	// SampleMask draws one straight-through hard mask per layer from the scores (pruning).
	SampleMask
	// FixedMask multiplies each weight by 1[Θ ≥ 0] (fine-tuning and the final subnetwork).
	FixedMask
)

// Precision is what a network's forward computes in: a run's setting, so rundir defines it.
type Precision = rundir.Precision

const (
	FP32 = rundir.FP32
	BF16 = rundir.BF16
)

// ParseMemoryFormat reads a memory format as the flags spell it ("" is contiguous).
func ParseMemoryFormat(s string) (torch.MemoryFormat, error) {
	switch s {
	case "", "contiguous", "nchw":
		return torch.Contiguous, nil
	case "channels-last", "channels_last", "nhwc":
		return torch.ChannelsLast, nil
	}
	return 0, fmt.Errorf("unknown memory format %q (want contiguous or channels-last)", s)
}

// Options are how a network computes; neither changes what it computes beyond rounding.
type Options struct {
	Precision Precision
	// Format lays out the 4-D tensors (conv weights, their scores and masks, the input and
	// so every activation after it) in this memory format. Channels-last changes only the
	// kernels' summation order; exports and checkpoints are the same logical values.
	Format torch.MemoryFormat
}

// Net is one network: every arch parameter as a libtorch tensor, plus scores and masks.
type Net struct {
	Arch   *arch.Arch
	Dev    torch.Device
	Opts   Options
	Params map[string]*torch.Tensor // every arch.Param, running stats included
	Scores map[string]*torch.Tensor // Θ per masked weight, of its ScoreShape; nil until InitScores
	Masks  map[string]*torch.Tensor // float 0/1 per masked weight, of its ScoreShape; nil until FixMasks
	consts map[string]*torch.Tensor // normalisation mean/std
	// gatedWith is Arch.GatedWith: the biases and BatchNorm affines a unit's score also gates.
	gatedWith map[string]string
}

// New builds a network with PyTorch's default initialisation (kaiming-uniform a=√5 for conv
// and linear weights, uniform ±1/√fan_in for their biases, BatchNorm weight 1 bias 0, running
// mean 0 var 1), drawn from a Go-side generator seeded with seed.
func New(a *arch.Arch, dev torch.Device, seed uint64) (*Net, error) {
	return NewWith(a, dev, seed, Options{})
}

// NewWith is New computing as o says; the initial values are New's.
func NewWith(a *arch.Arch, dev torch.Device, seed uint64, o Options) (*Net, error) {
	if _, err := rundir.ParsePrecision(string(o.Precision)); err != nil {
		return nil, err
	}
	n := &Net{Arch: a, Dev: dev, Opts: o, Params: map[string]*torch.Tensor{}, consts: map[string]*torch.Tensor{}, gatedWith: a.GatedWith()}
	rng := rand.New(rand.NewPCG(seed, 0x6d6f64656c))
	fanIn := map[string]int{} // per node: a weight's elements per output unit, as torch's fan_in
	for _, p := range a.Params() {
		if p.Kind == arch.Weight {
			fanIn[p.Node] = p.Numel() / p.Shape[0]
		}
	}
	for _, p := range a.Params() {
		v := make([]float32, p.Numel())
		switch p.Kind {
		case arch.Weight, arch.Bias:
			bound := 1 / math.Sqrt(float64(fanIn[p.Node]))
			for i := range v {
				v[i] = float32((rng.Float64()*2 - 1) * bound)
			}
		case arch.BNWeight, arch.RunningVar:
			for i := range v {
				v[i] = 1
			}
		}
		t, err := n.tensor(v, shape64(p.Shape))
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("model %s: %s: %w", a.Name, p.Name, err)
		}
		n.Params[p.Name] = t
	}
	for _, nd := range a.Nodes {
		if nd.Op != arch.OpNormalize {
			continue
		}
		c := int64(len(nd.Mean))
		m, err := torch.FromFloat32(nd.Mean, []int64{1, c, 1, 1}, dev)
		if err != nil {
			n.Close()
			return nil, err
		}
		s, err := torch.FromFloat32(nd.Std, []int64{1, c, 1, 1}, dev)
		if err != nil {
			m.Close()
			n.Close()
			return nil, err
		}
		n.consts[nd.Name+".mean"], n.consts[nd.Name+".std"] = m, s
	}
	return n, nil
}

// tensor is a network tensor of host values on the net's device, 4-D ones in its format.
func (n *Net) tensor(v []float32, shape []int64) (*torch.Tensor, error) {
	t, err := torch.FromFloat32(v, shape, n.Dev)
	if err != nil || len(shape) != 4 || n.Opts.Format == torch.Contiguous {
		return t, err
	}
	s := torch.NewNoGradScope()
	defer s.Close()
	out := s.Keep(s.ToFormat(t, n.Opts.Format))
	t.Close()
	return out, s.Err()
}

func shape64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

// Close frees every tensor the network owns.
func (n *Net) Close() {
	for _, m := range []map[string]*torch.Tensor{n.Params, n.Scores, n.Masks, n.consts} {
		for _, t := range m {
			t.Close()
		}
	}
}

// Trainable lists the parameters an optimizer updates (weights, biases, BN affine), in arch order.
func (n *Net) Trainable() []*torch.Tensor {
	var out []*torch.Tensor
	for _, p := range n.Arch.Params() {
		if p.Trainable() {
			out = append(out, n.Params[p.Name])
		}
	}
	return out
}

// TrainableNames lists the names of Trainable, in the same order.
func (n *Net) TrainableNames() []string {
	var out []string
	for _, p := range n.Arch.Params() {
		if p.Trainable() {
			out = append(out, p.Name)
		}
	}
	return out
}

// ScoreList lists the scores in arch order (for the pruning optimizer).
func (n *Net) ScoreList() ([]*torch.Tensor, []string) {
	var ts []*torch.Tensor
	var names []string
	for _, p := range n.Arch.MaskedParams() {
		ts = append(ts, n.Scores[p.Name])
		names = append(names, p.Name)
	}
	return ts, names
}

// SetRequiresGrad switches gradient tracking of the trainable parameters.
func (n *Net) SetRequiresGrad(on bool) error {
	for _, t := range n.Trainable() {
		if err := t.SetRequiresGrad(on); err != nil {
			return err
		}
	}
	return nil
}

// InitScores creates Θ = init for every masked weight, requiring grad.
func (n *Net) InitScores(init float64) error {
	n.Scores = map[string]*torch.Tensor{}
	for _, p := range n.Arch.MaskedParams() {
		v := make([]float32, p.ScoreNumel())
		for i := range v {
			v[i] = float32(init)
		}
		t, err := n.tensor(v, shape64(p.ScoreShape))
		if err != nil {
			return err
		}
		n.Scores[p.Name] = t
		if err := t.SetRequiresGrad(true); err != nil {
			return err
		}
	}
	return nil
}

// FixMasks sets Masks = 1[Θ ≥ 0] from the current scores, and returns them as bytes.
func (n *Net) FixMasks() (map[string]tensor.Tensor, error) { return n.FixMasksAt(0) }

// FixMasksAt sets Masks = 1[Θ ≥ t] from the current scores, and returns them as bytes of
// each weight's shape (a unit's score repeated over its row).
func (n *Net) FixMasksAt(t float64) (map[string]tensor.Tensor, error) {
	// Pruning fixes masks at every validation; free the ones it replaces.
	for _, t := range n.Masks {
		t.Close()
	}
	n.Masks = map[string]*torch.Tensor{}
	out := map[string]tensor.Tensor{}
	for _, p := range n.Arch.MaskedParams() {
		sc, err := n.Scores[p.Name].Float32s()
		if err != nil {
			return nil, err
		}
		f := make([]float32, len(sc))
		for i, v := range sc {
			if float64(v) >= t {
				f[i] = 1
			}
		}
		m, err := n.tensor(f, shape64(p.ScoreShape))
		if err != nil {
			return nil, err
		}
		n.Masks[p.Name] = m
		u := make([]uint8, p.Numel())
		per := p.Numel() / p.ScoreNumel()
		for i := range u {
			u[i] = uint8(f[i/per])
		}
		out[p.Name] = tensor.U8(u, p.Shape...)
	}
	return out, nil
}

// SetMasks installs fixed masks given as bytes (from mask.safetensors or a checkpoint).
func (n *Net) SetMasks(ms map[string]tensor.Tensor) error {
	n.Masks = map[string]*torch.Tensor{}
	for _, p := range n.Arch.MaskedParams() {
		m, ok := ms[p.Name]
		if !ok || m.Numel() != p.Numel() {
			return fmt.Errorf("mask for %s missing or of the wrong size", p.Name)
		}
		if len(m.U8) != m.Numel() {
			return fmt.Errorf("mask for %s is not uint8", p.Name)
		}
		f, err := unitMask(p, m.U8)
		if err != nil {
			return err
		}
		t, err := n.tensor(f, shape64(p.ScoreShape))
		if err != nil {
			return err
		}
		n.Masks[p.Name] = t
	}
	return nil
}

// unitMask is a weight-shaped byte mask as the float mask of p's scores; a mask that
// differs within one unit cannot come from unit scores and is an error.
func unitMask(p arch.Param, u []uint8) ([]float32, error) {
	f := make([]float32, p.ScoreNumel())
	per := p.Numel() / p.ScoreNumel()
	for j := range f {
		row := u[j*per : (j+1)*per]
		for _, v := range row {
			if (v != 0) != (row[0] != 0) {
				return nil, fmt.Errorf("mask for %s varies within output unit %d: the arch gates whole units (one score each)", p.Name, j)
			}
		}
		if row[0] != 0 {
			f[j] = 1
		}
	}
	return f, nil
}

// Kept is the kept ratio of masked weights, #(Θ ≥ 0) weighted by the weights each score
// gates, overall and per masked weight.
func (n *Net) Kept() (float64, map[string]float64, error) {
	per := map[string]float64{}
	kept, total := 0, 0
	for _, p := range n.Arch.MaskedParams() {
		sc, err := n.Scores[p.Name].Float32s()
		if err != nil {
			return 0, nil, err
		}
		k := 0
		for _, v := range sc {
			if v >= 0 {
				k++
			}
		}
		per[p.Name] = float64(k) / float64(len(sc))
		w := p.Numel() / p.ScoreNumel()
		kept += k * w
		total += len(sc) * w
	}
	return float64(kept) / float64(total), per, nil
}

// Forward options.
type Forward struct {
	Train   bool // BatchNorm uses batch statistics and updates its running stats
	Mask    MaskMode
	Gen     *torch.Generator // SampleMask noise
	Tau     float64          // SampleMask temperature
	AsCoded bool             // SampleMask: noise added to sigmoid(Θ)
}

// Run evaluates the network on x (NCHW) and returns the logits and the feature node's output,
// both float32 whatever the precision (the losses stay in float32).
func (n *Net) Run(s *torch.Scope, x *torch.Tensor, f Forward) (logits, feature *torch.Tensor) {
	if n.Opts.Format != torch.Contiguous {
		x = s.ToFormat(x, n.Opts.Format)
	}
	if n.Opts.Precision != BF16 {
		return n.run(s, x, f)
	}
	s.AutocastBF16(func() { logits, feature = n.run(s, x, f) })
	return s.ToFloat(logits), s.ToFloat(feature)
}

func (n *Net) run(s *torch.Scope, x *torch.Tensor, f Forward) (logits, feature *torch.Tensor) {
	out := map[string]*torch.Tensor{arch.Input: x}
	masks := map[string]*torch.Tensor{} // per masked weight, this pass's mask (one draw per layer)
	for _, nd := range n.Arch.Nodes {
		in := out[nd.Inputs[0]]
		var y *torch.Tensor
		switch nd.Op {
		case arch.OpNormalize:
			y = s.Div(s.Sub(in, n.consts[nd.Name+".mean"]), n.consts[nd.Name+".std"])
		case arch.OpScale:
			y = s.MulScalar(in, float64(nd.Factor))
		case arch.OpFlatten:
			y = s.Flatten(in, 1, -1)
		case arch.OpLinear:
			w := n.weight(s, nd.Name+".weight", f, masks)
			y = s.Linear(in, w, n.param(s, nd.Name+".bias", masks))
		case arch.OpConv:
			o := torch.Conv2dOpts{Stride: [2]int64{int64(nd.Stride), int64(nd.Stride)}, Padding: [2]int64{int64(nd.Pad), int64(nd.Pad)}}
			w := n.weight(s, nd.Name+".weight", f, masks)
			y = s.Conv2d(in, w, n.param(s, nd.Name+".bias", masks), o)
		case arch.OpBatchNorm:
			p := nd.Name + "."
			y = s.BatchNorm(in, n.param(s, p+"weight", masks), n.param(s, p+"bias", masks), n.Params[p+"running_mean"], n.Params[p+"running_var"],
				f.Train, arch.BNMomentum, arch.BNEps)
		case arch.OpReLU:
			y = s.Relu(in)
		case arch.OpMaxPool:
			k, st, pd := int64(nd.Kernel), int64(nd.Stride), int64(nd.Pad)
			y = s.MaxPool2d(in, torch.MaxPool2dOpts{Kernel: [2]int64{k, k}, Stride: [2]int64{st, st}, Padding: [2]int64{pd, pd}})
		case arch.OpGlobalAvgPool:
			y = s.Flatten(s.AdaptiveAvgPool2d(in, 1, 1), 1, -1)
		case arch.OpAdd:
			y = s.Add(in, out[nd.Inputs[1]])
		default:
			s.Fail(fmt.Errorf("model %s: node %s: op %q not supported", n.Arch.Name, nd.Name, nd.Op))
		}
		out[nd.Name] = y
	}
	return out[n.Arch.Output()], out[n.Arch.Feature]
}

// weight is the masked weight name as this pass uses it; the mask it applies (broadcast
// over a unit's row where one score gates a unit) is recorded in masks for param.
func (n *Net) weight(s *torch.Scope, name string, f Forward, masks map[string]*torch.Tensor) *torch.Tensor {
	w := n.Params[name]
	var m *torch.Tensor
	switch f.Mask {
	case SampleMask:
		m = s.StraightThroughMask(n.Scores[name], f.Tau, f.AsCoded, f.Gen)
	case FixedMask:
		m = n.Masks[name]
	default:
		return w
	}
	masks[name] = m
	return s.Mul(w, m)
}

// param is a bias or BatchNorm affine as this pass uses it: multiplied by the unit mask of
// the weight that gates it (Arch.GatedWith), or as it is.
func (n *Net) param(s *torch.Scope, name string, masks map[string]*torch.Tensor) *torch.Tensor {
	t := n.Params[name]
	if t == nil {
		return nil
	}
	m, ok := masks[n.gatedWith[name]]
	if !ok {
		return t
	}
	return s.Mul(t, s.Flatten(m, 0, -1))
}

// Export copies every parameter to the host as rundir tensors.
func (n *Net) Export() (map[string]tensor.Tensor, error) {
	return export(n.Arch.Params(), n.Params)
}

// ExportScores copies Θ to the host.
func (n *Net) ExportScores() (map[string]tensor.Tensor, error) {
	ps := n.Arch.MaskedParams()
	for i := range ps {
		ps[i].Shape = ps[i].ScoreShape
	}
	return export(ps, n.Scores)
}

// export copies ts[p.Name] for each of params to the host, shaped as p.
func export(params []arch.Param, ts map[string]*torch.Tensor) (map[string]tensor.Tensor, error) {
	out := map[string]tensor.Tensor{}
	for _, p := range params {
		v, err := ts[p.Name].Float32s()
		if err != nil {
			return nil, err
		}
		out[p.Name] = tensor.F32(v, p.Shape...)
	}
	return out, nil
}

// Load overwrites parameters from host tensors. With partial, parameters that are absent or
// of another shape keep their values and are returned as skipped (a pretrained file whose head
// has another class count); otherwise they are an error.
func (n *Net) Load(ts map[string]tensor.Tensor, partial bool) (skipped []string, err error) {
	for _, p := range n.Arch.Params() {
		t, ok := ts[p.Name]
		if !fills(t, ok, p) {
			if partial {
				skipped = append(skipped, p.Name)
				continue
			}
			return nil, fmt.Errorf("parameter %s missing, of the wrong shape or dtype", p.Name)
		}
		if err := copyInto(n.Params[p.Name], t.F32, p.Shape); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	return skipped, nil
}

// Unfilled lists the parameters of a that ts cannot fill (absent, of another shape or not
// float32): those Load with partial skips, known before a network is built.
func Unfilled(a *arch.Arch, ts map[string]tensor.Tensor) []string {
	var out []string
	for _, p := range a.Params() {
		if t, ok := ts[p.Name]; !fills(t, ok, p) {
			out = append(out, p.Name)
		}
	}
	return out
}

func fills(t tensor.Tensor, ok bool, p arch.Param) bool {
	return ok && fmt.Sprint(t.Shape) == fmt.Sprint(p.Shape) && t.F32 != nil
}

// LoadScores overwrites Θ from host tensors (InitScores must have run).
func (n *Net) LoadScores(ts map[string]tensor.Tensor) error {
	for _, p := range n.Arch.MaskedParams() {
		t, ok := ts[p.Name]
		if !ok || t.Numel() != p.ScoreNumel() || t.F32 == nil {
			return fmt.Errorf("score %s missing or of the wrong size (%v, want %v)", p.Name, t.Shape, p.ScoreShape)
		}
		if err := copyInto(n.Scores[p.Name], t.F32, p.ScoreShape); err != nil {
			return err
		}
	}
	return nil
}

func copyInto(dst *torch.Tensor, v []float32, shape []int) error {
	src, err := torch.FromFloat32(v, shape64(shape), dst.Device())
	if err != nil {
		return err
	}
	defer src.Close()
	return dst.CopyFrom(src)
}

// CopyInto copies host values into a tensor in place (outside autograd).
func CopyInto(dst *torch.Tensor, v []float32, shape []int) error { return copyInto(dst, v, shape) }
