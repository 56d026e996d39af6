package main

import (
	"fmt"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/driver/loss"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/optim"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/rundir"
)

// bench is one training step of dcwp-train on Colored MNIST (paper preset), made of the
// trainer's own parts: the arch's network (driver/model), driver/optim with the stage's
// settings and driver/loss, on a fixed batch (data loading is not timed).
type bench struct {
	net    *model.Net
	opt    *optim.Optimizer
	x, y   *torch.Tensor
	labels []int32 // host labels and mined flags, for the pruning stage's contrastive term
	flags  []bool
	cfg    rundir.Config
	prune  bool
	iter   int
}

// benchCases names what bench-engine times: the pre-training step of a model, or the
// pruning step (masked: only the scores Θ train).
var benchCases = map[string]struct {
	model string
	prune bool
}{"mlp": {"mlp", false}, "masked mlp": {"mlp", true}, "cnn": {"cnn", false}, "masked cnn": {"cnn", true}}

// refSettings is what torch_ref.py needs to take the same step.
type refSettings struct {
	Model        string  `json:"model"`
	Prune        bool    `json:"prune"`
	Batch        int64   `json:"batch"`
	LR           float64 `json:"lr"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	Eps          float64 `json:"eps"`
	ScoreInit    float64 `json:"score_init"`
	Tau          float64 `json:"tau"`
	LambdaSparse float64 `json:"lambda_sparse"`
	LambdaCon    float64 `json:"lambda_con"`
	Temperature  float64 `json:"temperature"`
	Labels       []int32 `json:"labels"`
	Flags        []bool  `json:"flags"`
	Precision    string  `json:"precision"`     // fp32 or bf16
	ChannelsLast bool    `json:"channels_last"` // 4-D weights and the input
}

func newBench(name string, dev torch.Device, batch int64, o model.Options) (*bench, error) {
	bc, ok := benchCases[name]
	if !ok {
		return nil, fmt.Errorf("unknown model %q", name)
	}
	cfg, err := dcwp.Preset("paper", "cmnist", dataset.MustShare("1"), bc.model, "")
	if err != nil {
		return nil, err
	}
	a, err := arch.ForRun(cfg.Model, cfg.Dataset, cfg.AsCoded())
	if err != nil {
		return nil, err
	}
	net, err := model.NewWith(a, dev, 1, o)
	if err != nil {
		return nil, err
	}
	b := &bench{net: net, cfg: cfg, prune: bc.prune}
	if err := b.init(dev, batch); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// init sets up the optimizer as the stage does, and the batch.
func (b *bench) init(dev torch.Device, batch int64) error {
	stage := b.cfg.Pretrain
	params, names := b.net.Trainable(), b.net.TrainableNames()
	if b.prune {
		stage = b.cfg.Prune
		if err := b.net.InitScores(b.cfg.ScoreInit); err != nil {
			return err
		}
		params, names = b.net.ScoreList()
	} else if err := b.net.SetRequiresGrad(true); err != nil {
		return err
	}
	var err error
	if b.opt, err = optim.New(optim.FromConfig(stage), params, names); err != nil {
		return err
	}
	b.labels, b.flags = fixedLabels(int(batch))
	y := make([]int64, batch)
	for i, l := range b.labels {
		y[i] = int64(l)
	}
	g, err := torch.NewGenerator(1)
	if err != nil {
		return err
	}
	defer g.Close()
	in := b.net.Arch.Input
	s := torch.NewNoGradScope()
	defer s.Close()
	b.x = s.Keep(s.Rand([]int64{batch, int64(in[0]), int64(in[1]), int64(in[2])}, torch.Float32, dev, g))
	b.y = s.Keep(s.FromInt64(y, []int64{batch}, dev))
	return s.Err()
}

// fixedLabels are the batch's labels and mined flags, a quarter of the samples flagged.
// torch_ref.py gets them as they are.
func fixedLabels(n int) ([]int32, []bool) {
	labels, flags := make([]int32, n), make([]bool, n)
	for i := range labels {
		labels[i], flags[i] = int32((7*i+3)%10), i%4 == 0
	}
	return labels, flags
}

func (b *bench) ref(batch int64) refSettings {
	st := optim.FromConfig(b.cfg.Pretrain)
	if b.prune {
		st = optim.FromConfig(b.cfg.Prune)
	}
	return refSettings{Model: b.cfg.Model, Prune: b.prune, Batch: batch, LR: st.LR, Beta1: st.Beta1, Beta2: st.Beta2,
		Eps: st.Eps, ScoreInit: b.cfg.ScoreInit, Tau: b.cfg.MaskTau, LambdaSparse: b.cfg.LambdaSparse,
		LambdaCon: b.cfg.LambdaCon, Temperature: b.cfg.Temperature, Labels: b.labels, Flags: b.flags,
		Precision: string(b.net.Opts.Precision), ChannelsLast: b.net.Opts.Format == torch.ChannelsLast}
}

// step is one iteration as driver/dcwp's stages run it.
func (b *bench) step() error {
	s := torch.NewScope()
	defer s.Close()
	var total *torch.Tensor
	if b.prune {
		gen, err := torch.NewGenerator(uint64(b.iter)) // a generator per iteration, as the stage makes
		if err != nil {
			return err
		}
		defer gen.Close()
		total = b.pruneLoss(s, gen)
	} else {
		logits, _ := b.net.Run(s, b.x, model.Forward{Train: true})
		total = loss.CE(s, logits, b.y)
	}
	b.iter++
	s.Item(total)
	s.Backward(total)
	if err := s.Err(); err != nil {
		return err
	}
	return b.opt.Update()
}

// pruneLoss is the pruning stage's objective (loss.Objective, as the stage builds it).
func (b *bench) pruneLoss(s *torch.Scope, gen *torch.Generator) *torch.Tensor {
	c := b.cfg
	logits, feat := b.net.Run(s, b.x, model.Forward{Train: true, Mask: model.SampleMask, Gen: gen, Tau: c.MaskTau, AsCoded: c.AsCoded()})
	scores, _ := b.net.ScoreList()
	obj := loss.Objective{LambdaSparse: c.LambdaSparse, LambdaCon: c.LambdaCon, Temperature: c.Temperature, AsCoded: c.AsCoded()}
	return obj.Terms(s, logits, feat, b.y, b.labels, b.flags, scores).Total
}

func (b *bench) close() {
	b.x.Close()
	b.y.Close()
	if b.opt != nil {
		b.opt.Close()
	}
	b.net.Close()
}
