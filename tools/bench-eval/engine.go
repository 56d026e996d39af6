package main

import (
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/rundir"
)

// engineRows times the training engine's own inference (libtorch, eval mode, fixed mask,
// logits copied back to Go as ONNX Runtime's are) on the batches ONNX Runtime saw.
func engineRows(net *rundir.Network, split *dataset.Split, batches []int, runs, threads int) ([]row, error) {
	defer torch.Pin(threads)()
	m, err := model.New(net.Arch, torch.CPUDevice, 0)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if _, err := m.Load(net.Params, false); err != nil {
		return nil, err
	}
	if err := m.SetMasks(net.Masks); err != nil {
		return nil, err
	}
	chw := net.Arch.Input
	if split != nil {
		chw = split.InputShape()
	}
	total, nonzero := paramCounts(net)
	var rows []row
	for _, b := range batches {
		x, sh := eval.BenchInput(split, chw, b, 0)
		t, err := eval.TimeRuns(func() error { return engineForward(m, x, sh) }, b, runs, 5)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{Format: "engine", BenchResult: eval.BenchResult{Model: "libtorch " + torch.Version(),
			Provider: "cpu", Threads: threads, ParamsTotal: total, ParamsNonzero: nonzero, Timing: t}})
	}
	return rows, nil
}

func engineForward(m *model.Net, x []float32, sh [4]int) error {
	s := torch.NewNoGradScope()
	defer s.Close()
	xt := s.FromFloat32(x, []int64{int64(sh[0]), int64(sh[1]), int64(sh[2]), int64(sh[3])}, torch.CPUDevice)
	logits, _ := m.Run(s, xt, model.Forward{Mask: model.FixedMask})
	s.Float32s(logits)
	return s.Err()
}

// paramCounts counts the trainable parameters the engine holds (BatchNorm affine included,
// running statistics not), with the mask applied.
func paramCounts(net *rundir.Network) (total, nonzero int64) {
	folded := net.Folded()
	for _, p := range net.Arch.Params() {
		if !p.Trainable() {
			continue
		}
		for _, v := range folded[p.Name].F32 {
			total++
			if v != 0 {
				nonzero++
			}
		}
	}
	return total, nonzero
}
