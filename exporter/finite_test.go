package exporter

import (
	"math"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/tensor"
)

// TestNonFiniteRefused requires a NaN or infinite weight, or BatchNorm statistics that
// fold to one, to be refused with a message naming the file and the tensor or layer.
func TestNonFiniteRefused(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		name   string
		spec   exportfixture.Spec
		tensor string
		value  float32
		want   string
	}{
		{"NaN weight", specs[0], "fc1.weight", nan, `tensor "fc1.weight" holds NaN at index 3`},
		{"Inf bias", specs[0], "fc2.bias", inf, `tensor "fc2.bias" holds +Inf at index 3`},
		{"-Inf weight", specs[2], "conv1.weight", -inf, `tensor "conv1.weight" holds -Inf`},
		{"NaN running mean", specs[2], "bn1.running_mean", nan, `tensor "bn1.running_mean" holds NaN`},
		{"negative running variance", specs[2], "bn1.running_var", -5, "layer conv1 folds to NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, err := exportfixture.Network(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			net.File = "RUN/dcwp.safetensors"
			p := net.Params[c.tensor]
			v := append([]float32(nil), p.F32...)
			v[3] = c.value
			net.Params[c.tensor] = tensor.F32(v, p.Shape...)
			if m, ok := net.Masks[c.tensor]; ok {
				m.U8[3] = 1
			}
			_, _, err = ExportNetwork(c.spec.Config(), net, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), net.File) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, net.File, c.want)
			}
		})
	}
}
