package ort

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
)

// linear reads evaltest's linear classifier: logit c is the red value of pixel c.
func linear(t *testing.T) []byte {
	t.Helper()
	if _, err := FindLib(""); err != nil {
		t.Fatalf("ONNX Runtime library (tools/setup.sh installs it): %v", err)
	}
	b, err := os.ReadFile(evaltest.WriteLinear(t, t.TempDir(), "linear.onnx", evaltest.LinearSpec{}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRun(t *testing.T) {
	s, err := Open(linear(t), "x", []string{"logits"}, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Provider != ProviderCPU || s.Lib == "" || Version() == "" {
		t.Errorf("provider %q, lib %q, version %q", s.Provider, s.Lib, Version())
	}
	x := make([]float32, 2*3*4*4)
	x[3] = 1      // sample 0: pixel 3 lit
	x[48+7] = 0.5 // sample 1: pixel 7
	y, shape, err := s.Run(x, 2, 3, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != 2 || shape[1] != 10 || y[3] != 1 || y[10+7] != 0.5 {
		t.Errorf("shape %v, logits %v", shape, y)
	}
	if _, _, err := s.Run(x[:10], 2, 3, 4, 4); err == nil {
		t.Error("a tensor shorter than its shape ran")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Run(x, 2, 3, 4, 4); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("run after Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	model := linear(t)
	gpu, _ := GPUPresent()
	type openCase struct {
		name  string
		model []byte
		o     Options
		want  error
		says  string
	}
	cases := []openCase{
		{"unknown provider", model, Options{Provider: "tpu"}, ErrOptions, `"tpu"`},
		{"negative threads", model, Options{Threads: -2}, ErrOptions, "--threads -2"},
		{"not a model", []byte("junk"), Options{}, ErrModel, "cannot load"},
		{"missing library", model, Options{Lib: filepath.Join(t.TempDir(), "nolib.so")}, ErrLib, "does not exist"},
	}
	if !gpu {
		cases = append(cases, openCase{"cuda without a GPU", model, Options{Provider: "CUDA"}, ErrProvider, "no NVIDIA GPU"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(c.model, "x", []string{"logits"}, c.o)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("%v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}
