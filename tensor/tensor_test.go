package tensor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

// writeRaw writes a safetensors file whose tensors are all 8-byte values of one dtype each.
func writeRaw(t *testing.T, dtypes map[string]safetensors.DType) string {
	t.Helper()
	views := map[string]safetensors.TensorView{}
	for name, dt := range dtypes {
		v, err := safetensors.NewTensorView(dt, []uint64{8 / dt.Size()}, make([]byte, 8))
		if err != nil {
			t.Fatal(err)
		}
		views[name] = v
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := safetensors.SerializeToWriter(views, nil, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadWeights(t *testing.T) {
	cases := []struct {
		name   string
		dtypes map[string]safetensors.DType
		want   []string // names loaded
		err    string
	}{
		{"state_dict with counters", map[string]safetensors.DType{"conv1.weight": safetensors.F32, "bn1.num_batches_tracked": safetensors.I64},
			[]string{"conv1.weight"}, ""},
		{"integer weights", map[string]safetensors.DType{"conv1.weight": safetensors.I64}, nil, "tensor conv1.weight is I64"},
		{"half precision", map[string]safetensors.DType{"fc.weight": safetensors.F16}, nil, "must be float32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeRaw(t, c.dtypes)
			got, err := ReadWeights(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, path, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names := SortedNames(got); strings.Join(names, ",") != strings.Join(c.want, ",") {
				t.Fatalf("loaded %v, want %v", names, c.want)
			}
		})
	}
	if _, err := ReadWeights(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Fatalf("missing file: %v", err)
	}
}
