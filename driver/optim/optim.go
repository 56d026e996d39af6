// Package optim implements Adam and SGD (PyTorch's update rules) over libtorch tensors with
// their state held in tensors this package owns, so a checkpoint can save and restore the
// moments exactly and a resumed run ends with bit-identical weights. Adam's update is one
// in-place libtorch call per parameter (torch.AdamUpdate); SGD's is composed of ops.
package optim

import (
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// Settings of one optimizer.
type Settings struct {
	Kind        string // "adam" or "sgd"
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
	Momentum    float64
	StepSize    int // StepLR period in steps; 0 = constant
	Gamma       float64
}

// FromConfig turns run settings into optimizer settings.
func FromConfig(s rundir.Optim) Settings {
	o := Settings{Kind: string(s.Optimizer), LR: s.LR, Beta1: s.Beta1, Beta2: s.Beta2, Eps: 1e-8,
		WeightDecay: s.WeightDecay, Momentum: s.Momentum, StepSize: s.StepSize, Gamma: s.Gamma}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	return o
}

// Optimizer updates Params from their gradients.
type Optimizer struct {
	S      Settings
	Params []*torch.Tensor
	Names  []string
	Steps  int             // updates done so far
	m, v   []*torch.Tensor // Adam moments or SGD momentum buffers (m only)
	shapes [][]int64
}

// New builds an optimizer over params (names are used as checkpoint keys).
func New(s Settings, params []*torch.Tensor, names []string) (*Optimizer, error) {
	if s.Kind != "adam" && s.Kind != "sgd" {
		return nil, fmt.Errorf("unknown optimizer %q (want adam or sgd)", s.Kind)
	}
	o := &Optimizer{S: s, Params: params, Names: names}
	for _, p := range params {
		o.shapes = append(o.shapes, p.Shape())
		m, err := stateLike(p)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.m = append(o.m, m)
		if s.Kind == "adam" {
			v, err := stateLike(p)
			if err != nil {
				o.Close()
				return nil, err
			}
			o.v = append(o.v, v)
		}
	}
	return o, nil
}

// stateLike is a zero state tensor laid out like p: a channels-last weight gets
// channels-last state, so the in-place update walks the parameter, its gradient and its
// state in the same order instead of striding through one of them.
func stateLike(p *torch.Tensor) (*torch.Tensor, error) {
	sh := p.Shape()
	z, err := torch.FromFloat32(make([]float32, numel(sh)), sh, p.Device())
	if err != nil {
		return nil, err
	}
	cl, err := p.IsFormat(torch.ChannelsLast)
	if err != nil || !cl || len(sh) != 4 {
		return z, err
	}
	s := torch.NewNoGradScope()
	defer s.Close()
	out := s.Keep(s.ToFormat(z, torch.ChannelsLast))
	z.Close()
	return out, s.Err()
}

func numel(sh []int64) int {
	n := 1
	for _, d := range sh {
		n *= int(d)
	}
	return n
}

// Close frees the state tensors.
func (o *Optimizer) Close() {
	for _, t := range o.m {
		t.Close()
	}
	for _, t := range o.v {
		t.Close()
	}
}

// LR is the learning rate the next Step uses (StepLR stepped once per iteration).
func (o *Optimizer) LR() float64 {
	lr := o.S.LR
	if o.S.StepSize > 0 {
		lr *= math.Pow(o.S.Gamma, float64(o.Steps/o.S.StepSize))
	}
	return lr
}

// ZeroGrad drops the gradients of every parameter.
func (o *Optimizer) ZeroGrad() error {
	for _, p := range o.Params {
		if err := p.ZeroGrad(); err != nil {
			return err
		}
	}
	return nil
}

// Update is one training iteration's end: Step, then ZeroGrad for the next
// backward pass.
func (o *Optimizer) Update() error {
	if err := o.Step(); err != nil {
		return err
	}
	return o.ZeroGrad()
}

// Step applies one update. Parameters without a gradient are left alone (their state too).
func (o *Optimizer) Step() error {
	lr := o.LR()
	o.Steps++
	s := torch.NewNoGradScope()
	defer s.Close()
	for i, p := range o.Params {
		g := s.Grad(p)
		if err := s.Err(); err != nil {
			return err
		}
		if g == nil {
			continue
		}
		switch o.S.Kind {
		case "adam":
			a := torch.AdamStep{LR: lr, Beta1: o.S.Beta1, Beta2: o.S.Beta2, Eps: o.S.Eps, WeightDecay: o.S.WeightDecay, Step: o.Steps}
			if err := torch.AdamUpdate(p, g, o.m[i], o.v[i], a); err != nil {
				return err
			}
		case "sgd":
			if o.S.WeightDecay != 0 {
				g = s.Add(g, s.MulScalar(p, o.S.WeightDecay))
			}
			buf := g
			if o.S.Momentum != 0 {
				if o.Steps == 1 {
					buf = s.Clone(g)
				} else {
					buf = s.Add(s.MulScalar(o.m[i], o.S.Momentum), g)
				}
			}
			np := s.Sub(p, s.MulScalar(buf, lr))
			if err := s.Err(); err != nil {
				return err
			}
			if err := o.m[i].CopyFrom(buf); err != nil {
				return err
			}
			if err := p.CopyFrom(np); err != nil {
				return err
			}
		}
	}
	return s.Err()
}

// State copies the optimizer state to the host, keyed by prefix + kind + "/" + param name.
func (o *Optimizer) State(prefix string) (map[string]tensor.Tensor, error) {
	out := map[string]tensor.Tensor{}
	put := func(kind string, ts []*torch.Tensor) error {
		for i, t := range ts {
			v, err := t.Float32s()
			if err != nil {
				return err
			}
			sh := make([]int, len(o.shapes[i]))
			for k, d := range o.shapes[i] {
				sh[k] = int(d)
			}
			out[prefix+kind+"/"+o.Names[i]] = tensor.F32(v, sh...)
		}
		return nil
	}
	if err := put("m", o.m); err != nil {
		return nil, err
	}
	if err := put("v", o.v); err != nil {
		return nil, err
	}
	return out, nil
}

// Restore loads what State saved and sets the step count.
func (o *Optimizer) Restore(prefix string, ts map[string]tensor.Tensor, steps int) error {
	get := func(kind string, dst []*torch.Tensor) error {
		for i, t := range dst {
			h, ok := ts[prefix+kind+"/"+o.Names[i]]
			if !ok || h.Numel() != numel(o.shapes[i]) {
				return fmt.Errorf("checkpoint lacks optimizer state %s%s/%s", prefix, kind, o.Names[i])
			}
			src, err := torch.FromFloat32(h.F32, o.shapes[i], t.Device())
			if err != nil {
				return err
			}
			err = t.CopyFrom(src)
			src.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := get("m", o.m); err != nil {
		return err
	}
	if err := get("v", o.v); err != nil {
		return err
	}
	o.Steps = steps
	return nil
}
