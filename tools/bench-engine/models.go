package main

import (
	"fmt"

	"github.com/dcwp-go/dcwp/driver/torch"
)

// model is one benchmarked training configuration; step runs a full
// forward, backward and optimizer update.
type model interface {
	step() error
	close()
}

// params owns the tensors a benchmark allocates outside step scopes.
type params struct {
	s   *torch.Scope
	dev torch.Device
	gen *torch.Generator
}

func newParams(dev torch.Device, seed uint64) (*params, error) {
	g, err := torch.NewGenerator(seed)
	if err != nil {
		return nil, err
	}
	return &params{s: torch.NewNoGradScope(), dev: dev, gen: g}, nil
}

// randn makes a scaled normal tensor; the values only need to be sane.
func (p *params) randn(scale float64, shape ...int64) *torch.Tensor {
	return p.s.MulScalar(p.s.Randn(shape, torch.Float32, p.dev, p.gen), scale)
}

func (p *params) trainable(ts ...*torch.Tensor) []*torch.Tensor {
	for _, t := range ts {
		if err := t.SetRequiresGrad(true); err != nil {
			p.s.Fail(err)
		}
	}
	return ts
}

func (p *params) batch(batch int64, classes int, shape ...int64) (*torch.Tensor, *torch.Tensor) {
	x := p.s.Rand(append([]int64{batch}, shape...), torch.Float32, p.dev, p.gen)
	y := p.s.Multinomial(p.s.Ones([]int64{int64(classes)}, torch.Float32, p.dev), batch, true, p.gen)
	return x, y
}

func (p *params) close() {
	p.s.Close()
	p.gen.Close()
}

var mlpDims = []int64{2352, 100, 100, 32, 10}

// mlp is the CMNIST light model; masked trains only per-weight scores
// through DCWP's straight-through mask, with weights frozen.
type mlp struct {
	*params
	w, b, scores []*torch.Tensor
	x, y         *torch.Tensor
	opt          *torch.Optimizer
	masked       bool
}

func newMLP(dev torch.Device, batch int64, masked bool) (*mlp, error) {
	p, err := newParams(dev, 1)
	if err != nil {
		return nil, err
	}
	m := &mlp{params: p, masked: masked}
	for i := 0; i+1 < len(mlpDims); i++ {
		m.w = append(m.w, p.randn(0.05, mlpDims[i+1], mlpDims[i]))
		m.b = append(m.b, p.s.Zeros([]int64{mlpDims[i+1]}, torch.Float32, dev))
		if masked {
			m.scores = append(m.scores, p.s.Full([]int64{mlpDims[i+1], mlpDims[i]}, 1.5, torch.Float32, dev))
		}
	}
	m.x, m.y = p.batch(batch, 10, mlpDims[0])
	train := append(append([]*torch.Tensor{}, m.w...), m.b...)
	if masked {
		train = m.scores
	}
	p.trainable(train...)
	if err := p.s.Err(); err != nil {
		return nil, err
	}
	m.opt, err = torch.NewAdam(train, torch.AdamOptions{LR: 1e-2, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8})
	return m, err
}

func (m *mlp) step() error {
	s := torch.NewScope()
	defer s.Close()
	h := m.x
	for i := range m.w {
		w := m.w[i]
		if m.masked {
			w = s.Mul(w, s.StraightThroughMask(m.scores[i], 1, false, m.gen))
		}
		h = s.Linear(h, w, m.b[i])
		if i+1 < len(m.w) {
			h = s.Relu(h)
		}
	}
	return finish(s, m.opt, s.CrossEntropy(h, m.y, torch.ReduceMean))
}

func finish(s *torch.Scope, opt *torch.Optimizer, loss *torch.Tensor) error {
	if err := opt.ZeroGrad(); err != nil {
		return err
	}
	s.Backward(loss)
	if err := s.Err(); err != nil {
		return err
	}
	return opt.Step()
}

func (m *mlp) close() {
	m.opt.Close()
	m.params.close()
}

// cnn is the CMNIST reference model of the method spec.
type cnn struct {
	*params
	conv, bnW, bnB, rm, rv []*torch.Tensor
	fcW, fcB, x, y         *torch.Tensor
	opt                    *torch.Optimizer
}

func newCNN(dev torch.Device, batch int64) (*cnn, error) {
	p, err := newParams(dev, 2)
	if err != nil {
		return nil, err
	}
	m := &cnn{params: p}
	ch := []int64{3, 64, 128, 256}
	for i := 0; i < 3; i++ {
		m.conv = append(m.conv, p.randn(0.05, ch[i+1], ch[i], 4, 4))
		m.bnW = append(m.bnW, p.s.Ones([]int64{ch[i+1]}, torch.Float32, dev))
		m.bnB = append(m.bnB, p.s.Zeros([]int64{ch[i+1]}, torch.Float32, dev))
		m.rm = append(m.rm, p.s.Zeros([]int64{ch[i+1]}, torch.Float32, dev))
		m.rv = append(m.rv, p.s.Ones([]int64{ch[i+1]}, torch.Float32, dev))
	}
	m.fcW, m.fcB = p.randn(0.05, 10, 256), p.s.Zeros([]int64{10}, torch.Float32, dev)
	m.x, m.y = p.batch(batch, 10, 3, 28, 28)
	train := append(append(append(append([]*torch.Tensor{}, m.conv...), m.bnW...), m.bnB...), m.fcW, m.fcB)
	p.trainable(train...)
	if err := p.s.Err(); err != nil {
		return nil, err
	}
	m.opt, err = torch.NewAdam(train, torch.AdamOptions{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8})
	return m, err
}

func (m *cnn) step() error {
	s := torch.NewScope()
	defer s.Close()
	h := m.x
	conv := torch.Conv2dOpts{Stride: [2]int64{2, 2}, Padding: [2]int64{1, 1}}
	for i := range m.conv {
		h = s.Conv2d(h, m.conv[i], nil, conv)
		h = s.Relu(s.BatchNorm(h, m.bnW[i], m.bnB[i], m.rm[i], m.rv[i], true, 0.1, 1e-5))
	}
	h = s.Flatten(s.AdaptiveAvgPool2d(h, 1, 1), 1, -1)
	return finish(s, m.opt, s.CrossEntropy(s.Linear(h, m.fcW, m.fcB), m.y, torch.ReduceMean))
}

func (m *cnn) close() {
	m.opt.Close()
	m.params.close()
}

func build(name string, dev torch.Device, batch int64) (model, error) {
	switch name {
	case "mlp":
		return newMLP(dev, batch, false)
	case "masked mlp":
		return newMLP(dev, batch, true)
	case "cnn":
		return newCNN(dev, batch)
	}
	return nil, fmt.Errorf("unknown model %q", name)
}
