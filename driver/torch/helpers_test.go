package torch

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/pyoracle"
)

// in describes one test input; data is float64 whatever the dtype so it can
// go to the Python oracle as JSON unchanged.
type in struct {
	dt    DType
	shape []int64
	data  []float64
}

func randData(r *rand.Rand, n int64, lo, hi float64) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = lo + (hi-lo)*r.Float64()
	}
	return d
}

// uni is a float32 input, uniform in [-2, 2) but kept 0.05 away from 0 so
// kinks (relu, abs, sign) are not hit by rounding or finite differences.
func uni(r *rand.Rand, shape ...int64) in {
	d := randData(r, numel(shape), -2, 2)
	for i, v := range d {
		if math.Abs(v) < 0.05 {
			d[i] = 0.05 + v
		}
	}
	return in{Float32, shape, d}
}

func pos(r *rand.Rand, shape ...int64) in {
	return in{Float32, shape, randData(r, numel(shape), 0.2, 2)}
}

func ints(r *rand.Rand, hi int, shape ...int64) in {
	d := make([]float64, numel(shape))
	for i := range d {
		d[i] = float64(r.Intn(hi))
	}
	return in{Int64, shape, d}
}

func bools(r *rand.Rand, shape ...int64) in {
	d := make([]float64, numel(shape))
	for i := range d {
		if r.Intn(2) == 1 {
			d[i] = 1
		}
	}
	return in{Bool, shape, d}
}

func f64(i in) in { i.dt = Float64; return i }

func (i in) tensor(s *Scope) *Tensor {
	switch i.dt {
	case Float32:
		v := make([]float32, len(i.data))
		for k, x := range i.data {
			v[k] = float32(x)
		}
		return s.FromFloat32(v, i.shape, CPUDevice)
	case Float64:
		return s.FromFloat64(append([]float64(nil), i.data...), i.shape, CPUDevice)
	case Int64:
		v := make([]int64, len(i.data))
		for k, x := range i.data {
			v[k] = int64(x)
		}
		return s.FromInt64(v, i.shape, CPUDevice)
	default:
		v := make([]bool, len(i.data))
		for k, x := range i.data {
			v[k] = x != 0
		}
		return s.FromBool(v, i.shape, CPUDevice)
	}
}

// values reads the data of t as float32-rounded float64 for input fidelity.
func (i in) oracleJSON() map[string]any {
	data := i.data
	if i.dt == Float32 {
		data = make([]float64, len(i.data))
		for k, x := range i.data {
			data[k] = float64(float32(x))
		}
	}
	return map[string]any{"data": data, "shape": i.shape, "dtype": i.dt.String()}
}

type oracleCase struct {
	name   string
	inputs []in
	code   string
}

type oracleResult struct {
	Data  []float64 `json:"data"`
	Shape []int64   `json:"shape"`
	Error string    `json:"error"`
}

// runOracle evaluates all cases in one Python process (importing torch is
// the slow part).
func runOracle(t *testing.T, cases []oracleCase) map[string]oracleResult {
	t.Helper()
	var req struct {
		Cases []map[string]any `json:"cases"`
	}
	for _, c := range cases {
		ins := []map[string]any{}
		for _, i := range c.inputs {
			ins = append(ins, i.oracleJSON())
		}
		req.Cases = append(req.Cases, map[string]any{"name": c.name, "code": c.code, "inputs": ins})
	}
	res := map[string]oracleResult{}
	pyoracle.JSON(t, req, &res, "testdata/oracle.py")
	return res
}

func closeEnough(got, want, atol, rtol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

// fatalUnlessRefused ends the test on err: skipped when err is the engine refusing a setting
// (ErrUnsupported, with a message that must name the engine), failed otherwise.
func fatalUnlessRefused(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrUnsupported) {
		if !strings.Contains(err.Error(), Engine) {
			t.Fatalf("a refusal that does not name the engine %q: %v", Engine, err)
		}
		t.Skipf("refused: %v", err)
	}
	t.Fatal(err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func nan() float64 { return math.NaN() }

// Float64sOf reads t, failing the test on any scope or read error.
func (s *Scope) Float64sOf(x *Tensor, t *testing.T) []float64 {
	t.Helper()
	must(t, s.Err())
	v, err := x.Float64s()
	must(t, err)
	return v
}
