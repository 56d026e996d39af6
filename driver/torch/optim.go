package torch

// #include "shim/shim.h"
import "C"

import (
	"errors"
	"fmt"
)

// Optimizer is a libtorch torch::optim optimizer over a fixed parameter set.
// It holds its own references to the parameters, so closing the Go handles
// passed to it does not affect it.
type Optimizer struct {
	h  C.dt_optim
	lr float64
}

// AdamOptions are torch.optim.Adam's hyper-parameters.
type AdamOptions struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

// DefaultAdam is PyTorch's default Adam with the given learning rate.
func DefaultAdam(lr float64) AdamOptions {
	return AdamOptions{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// SGDOptions are torch.optim.SGD's hyper-parameters.
type SGDOptions struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool
}

func handles(params []*Tensor) ([]C.dt_tensor, error) {
	if len(params) == 0 {
		return nil, errors.New("torch: optimizer needs at least one parameter")
	}
	hs := make([]C.dt_tensor, len(params))
	for i, p := range params {
		h, err := p.handle()
		if err != nil {
			return nil, fmt.Errorf("torch: optimizer parameter %d: %w", i, err)
		}
		hs[i] = h
	}
	return hs, nil
}

// NewAdam builds Adam over params.
func NewAdam(params []*Tensor, o AdamOptions) (*Optimizer, error) {
	hs, err := handles(params)
	if err != nil {
		return nil, err
	}
	opt := &Optimizer{lr: o.LR}
	msg := C.dt_adam_new(&hs[0], C.int(len(hs)), C.double(o.LR), C.double(o.Beta1), C.double(o.Beta2),
		C.double(o.Eps), C.double(o.WeightDecay), &opt.h)
	if err := check("adam", msg); err != nil {
		return nil, err
	}
	return opt, nil
}

// NewSGD builds SGD over params.
func NewSGD(params []*Tensor, o SGDOptions) (*Optimizer, error) {
	hs, err := handles(params)
	if err != nil {
		return nil, err
	}
	opt := &Optimizer{lr: o.LR}
	msg := C.dt_sgd_new(&hs[0], C.int(len(hs)), C.double(o.LR), C.double(o.Momentum), C.double(o.Dampening),
		C.double(o.WeightDecay), C.int(b2i(o.Nesterov)), &opt.h)
	if err := check("sgd", msg); err != nil {
		return nil, err
	}
	return opt, nil
}

func (o *Optimizer) handle() (C.dt_optim, error) {
	if o == nil || o.h == nil {
		return nil, errors.New("torch: use of closed optimizer")
	}
	return o.h, nil
}

// Step applies one update from the parameters' accumulated gradients.
func (o *Optimizer) Step() error {
	h, err := o.handle()
	if err != nil {
		return err
	}
	return check("optimizer step", C.dt_optim_step(h))
}

// ZeroGrad drops every parameter's gradient (set_to_none semantics).
func (o *Optimizer) ZeroGrad() error {
	h, err := o.handle()
	if err != nil {
		return err
	}
	return check("optimizer zero_grad", C.dt_optim_zero_grad(h))
}

// SetLR changes the learning rate of every parameter group.
func (o *Optimizer) SetLR(lr float64) error {
	h, err := o.handle()
	if err != nil {
		return err
	}
	if err := check("optimizer set_lr", C.dt_optim_set_lr(h, C.double(lr))); err != nil {
		return err
	}
	o.lr = lr
	return nil
}

// LR is the current learning rate.
func (o *Optimizer) LR() float64 { return o.lr }

// Close frees the optimizer state; it is idempotent.
func (o *Optimizer) Close() {
	if o != nil && o.h != nil {
		C.dt_optim_free(o.h)
		o.h = nil
	}
}

// StepLR multiplies the learning rate by Gamma every StepSize calls to Step,
// like torch.optim.lr_scheduler.StepLR stepped once per iteration.
type StepLR struct {
	Opt      *Optimizer
	BaseLR   float64
	StepSize int
	Gamma    float64
	count    int
}

// NewStepLR starts a schedule at the optimizer's current learning rate.
func NewStepLR(opt *Optimizer, stepSize int, gamma float64) *StepLR {
	return &StepLR{Opt: opt, BaseLR: opt.LR(), StepSize: stepSize, Gamma: gamma}
}

// Step advances the schedule by one iteration and updates the optimizer.
func (s *StepLR) Step() error {
	s.count++
	lr := s.LRAt(s.count)
	if lr == s.Opt.LR() {
		return nil
	}
	return s.Opt.SetLR(lr)
}

// LRAt is the learning rate after n schedule steps.
func (s *StepLR) LRAt(n int) float64 {
	lr := s.BaseLR
	if s.StepSize <= 0 {
		return lr
	}
	for i := 0; i < n/s.StepSize; i++ {
		lr *= s.Gamma
	}
	return lr
}
