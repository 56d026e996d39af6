package loss

import (
	"math"
	"testing"

	"github.com/dcwp-go/dcwp/driver/torch"
)

func TestGCEClosedForm(t *testing.T) {
	cases := []struct {
		name   string
		logits [][]float32
		y      []int64
		q      float64
	}{
		{"two samples q0.7", [][]float32{{2, 0.5, -1}, {0.1, 0.2, 0.3}}, []int64{0, 2}, 0.7},
		{"wrong class q0.7", [][]float32{{3, -3, 0}}, []int64{1}, 0.7},
		{"q1", [][]float32{{1, 2}, {0, 0}, {-1, 4}}, []int64{1, 0, 0}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, k := len(c.logits), len(c.logits[0])
			flat := make([]float32, 0, n*k)
			for _, r := range c.logits {
				flat = append(flat, r...)
			}
			s := torch.NewScope()
			defer s.Close()
			lg := s.FromFloat32(flat, []int64{int64(n), int64(k)}, torch.CPUDevice)
			if err := lg.SetRequiresGrad(true); err != nil {
				t.Fatal(err)
			}
			y := s.FromInt64(c.y, []int64{int64(n)}, torch.CPUDevice)
			l := GCE(s, lg, y, c.q)
			got := s.Item(l)
			s.Backward(l)
			grad := s.Float32s(s.Grad(lg))
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			// closed form: mean_i CE_i q p_i^q; gradient q p_i^q (softmax_i - onehot_i) / n (p constant)
			want := 0.0
			for i, r := range c.logits {
				z := 0.0
				for _, v := range r {
					z += math.Exp(float64(v))
				}
				p := math.Exp(float64(r[c.y[i]])) / z
				w := c.q * math.Pow(p, c.q)
				want += -math.Log(p) * w / float64(n)
				for j, v := range r {
					g := math.Exp(float64(v)) / z
					if int64(j) == c.y[i] {
						g--
					}
					g *= w / float64(n)
					if math.Abs(float64(grad[i*k+j])-g) > 1e-5 {
						t.Fatalf("grad[%d,%d] = %v, want %v", i, j, grad[i*k+j], g)
					}
				}
			}
			if math.Abs(got-want) > 1e-5 {
				t.Fatalf("GCE = %v, want %v", got, want)
			}
		})
	}
}

// supconRef is SupCon in float64, straight from the definition.
func supconRef(z [][]float64, labels []int32, flags []bool, temp float64, asCoded bool) float64 {
	n := len(z)
	norm := make([][]float64, n)
	for i, v := range z {
		l := 0.0
		for _, x := range v {
			l += x * x
		}
		l = math.Sqrt(l)
		for _, x := range v {
			norm[i] = append(norm[i], x/l)
		}
	}
	dot := func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	total, anchors := 0.0, 0
	for i := 0; i < n; i++ {
		den := 0.0
		for k := 0; k < n; k++ {
			if k != i {
				den += math.Exp(dot(norm[i], norm[k]) / temp)
			}
		}
		sum, np := 0.0, 0
		for j := 0; j < n; j++ {
			if j == i || labels[j] != labels[i] || !(flags[j] || (!asCoded && flags[i])) {
				continue
			}
			sum += dot(norm[i], norm[j])/temp - math.Log(den)
			np++
		}
		if np > 0 {
			total += sum / float64(np)
			anchors++
		}
	}
	return -total / float64(anchors)
}

func TestSupCon(t *testing.T) {
	hand := math.Log(1+math.E) - 1 // z=(1,0),(1,0),(0,1), labels 0,0,1, T=1: anchors 1 and 2, each -log(e/(e+1))
	cases := []struct {
		name    string
		z       [][]float64
		labels  []int32
		flags   []bool
		temp    float64
		asCoded bool
		want    float64 // NaN: expect NaN; 0 with ref false: exact value
		ref     bool    // compare with supconRef instead of want
	}{
		{"hand clean", [][]float64{{1, 0}, {1, 0}, {0, 1}}, []int32{0, 0, 1}, []bool{true, true, true}, 1, false, hand, false},
		{"hand as-coded", [][]float64{{1, 0}, {1, 0}, {0, 1}}, []int32{0, 0, 1}, []bool{true, true, true}, 1, true, hand, false},
		{"hand one flagged as-coded", [][]float64{{1, 0}, {1, 0}, {0, 1}}, []int32{0, 0, 1}, []bool{true, false, false}, 1, true, hand, false},
		{"clean uses flag_i or flag_j", [][]float64{{1, 0}, {0.6, 0.8}, {0, 1}, {0.8, -0.6}}, []int32{0, 0, 1, 0}, []bool{true, false, false, false}, 0.5, false, 0, true},
		{"as-coded uses flag_j", [][]float64{{1, 0}, {0.6, 0.8}, {0, 1}, {0.8, -0.6}}, []int32{0, 0, 1, 0}, []bool{true, false, false, false}, 0.5, true, 0, true},
		{"random T0.07", [][]float64{{0.3, -1, 2}, {1, 1, 1}, {-0.5, 0.2, 0.1}, {2, 0, -1}, {0.1, 0.1, 0.9}}, []int32{1, 1, 0, 0, 1}, []bool{false, true, true, false, false}, 0.07, false, 0, true},
		{"no anchor clean is 0", [][]float64{{1, 0}, {0, 1}}, []int32{0, 1}, []bool{true, true}, 1, false, 0, false},
		{"no anchor as-coded is NaN", [][]float64{{1, 0}, {0, 1}}, []int32{0, 1}, []bool{true, true}, 1, true, math.NaN(), false},
		{"nothing mined clean is 0", [][]float64{{1, 0}, {1, 0}}, []int32{0, 0}, []bool{false, false}, 1, false, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if c.ref {
				want = supconRef(c.z, c.labels, c.flags, c.temp, c.asCoded)
			}
			var flat []float32
			for _, r := range c.z {
				for _, v := range r {
					flat = append(flat, float32(v))
				}
			}
			s := torch.NewScope()
			defer s.Close()
			f := s.FromFloat32(flat, []int64{int64(len(c.z)), int64(len(c.z[0]))}, torch.CPUDevice)
			got := s.Item(SupCon(s, f, c.labels, c.flags, c.temp, c.asCoded))
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(want) {
				if !math.IsNaN(got) {
					t.Fatalf("SupCon = %v, want NaN", got)
				}
				return
			}
			if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("SupCon = %v, want %v", got, want)
			}
		})
	}
	// the clean and as-coded positives differ on the mixed-flag batch
	a := supconRef([][]float64{{1, 0}, {0.6, 0.8}, {0, 1}, {0.8, -0.6}}, []int32{0, 0, 1, 0}, []bool{true, false, false, false}, 0.5, false)
	b := supconRef([][]float64{{1, 0}, {0.6, 0.8}, {0, 1}, {0.8, -0.6}}, []int32{0, 0, 1, 0}, []bool{true, false, false, false}, 0.5, true)
	if math.Abs(a-b) < 1e-6 {
		t.Fatal("test batch does not separate the variants")
	}
}

func TestObjectiveTerms(t *testing.T) {
	logits := []float32{2, 0.5, -1, 0.1, 0.2, 0.3, 1, -1, 0}
	feat := []float32{1, 0, 0.6, 0.8, 0.8, -0.6}
	labels, flags := []int32{0, 2, 0}, []bool{true, false, false}
	scoreVals := [][]float32{{-1, 2, -0.25}, {0.5}}
	cases := []struct {
		name       string
		o          Objective
		withScores bool
		sparse     float64 // want; -1: no sparsity term
	}{
		{"pruning, clean: Σ|Θ|", Objective{LambdaSparse: 0.1, LambdaCon: 0.05, Temperature: 0.5}, true, 3.75},
		{"pruning, as coded: ΣΘ", Objective{LambdaSparse: 0.1, LambdaCon: 0.05, Temperature: 0.5, AsCoded: true}, true, 1.25},
		{"fine-tuning: no scores, no sparsity term", Objective{LambdaCon: 1, Temperature: 0.07}, false, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := torch.NewScope()
			defer s.Close()
			lg := s.FromFloat32(logits, []int64{3, 3}, torch.CPUDevice)
			ft := s.FromFloat32(feat, []int64{3, 2}, torch.CPUDevice)
			y := s.FromInt64([]int64{0, 2, 0}, []int64{3}, torch.CPUDevice)
			var scores []*torch.Tensor
			if c.withScores {
				for _, v := range scoreVals {
					scores = append(scores, s.FromFloat32(v, []int64{int64(len(v))}, torch.CPUDevice))
				}
			}
			got := c.o.Terms(s, lg, ft, y, labels, flags, scores)
			if (got.Sparse == nil) != (c.sparse < 0) {
				t.Fatalf("sparsity term present: %v, want %v", got.Sparse != nil, c.sparse >= 0)
			}
			want := s.Item(CE(s, lg, y)) + c.o.LambdaCon*s.Item(SupCon(s, ft, labels, flags, c.o.Temperature, c.o.AsCoded))
			if c.sparse >= 0 {
				if sp := s.Item(got.Sparse); math.Abs(sp-c.sparse) > 1e-6 {
					t.Fatalf("sparsity %v, want %v", sp, c.sparse)
				}
				want += c.o.LambdaSparse * c.sparse
			}
			if tot := s.Item(got.Total); math.Abs(tot-want) > 1e-5 {
				t.Fatalf("total %v, want %v", tot, want)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
