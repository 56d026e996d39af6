package tensor

import (
	"math"
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

// FuzzDecode feeds arbitrary bytes to the safetensors reader every run file and
// checkpoint goes through: it must return an error or tensors whose data fill
// their shapes, never panic.
func FuzzDecode(f *testing.F) {
	for _, ts := range []map[string]Tensor{
		{"w": F32([]float32{1, 2, 3, 4, 5, 6}, 2, 3), "m": U8([]uint8{1, 0, 1}, 3)},
		{"scalar": F32([]float32{7}, 1)},
	} {
		path := filepath.Join(f.TempDir(), "seed.safetensors")
		if err := WriteFile(path, ts, map[string]string{"role": "vanilla"}); err != nil {
			f.Fatal(err)
		}
		seed, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Add([]byte{})
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := Decode(data)
		if err != nil {
			return
		}
		for name, tn := range ts {
			if n := len(tn.F32) + len(tn.U8); n != tn.Numel() {
				t.Fatalf("tensor %s: %d values for shape %v", name, n, tn.Shape)
			}
		}
	})
}

func TestFirstNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		x    []float32
		want int
	}{{nil, -1}, {[]float32{1, 2}, -1}, {[]float32{1, nan, inf}, 1}, {[]float32{0, 0, -inf}, 2}} {
		if got := FirstNonFinite(c.x); got != c.want {
			t.Errorf("FirstNonFinite(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}
