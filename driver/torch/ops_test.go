package torch

import (
	"math/rand"
	"slices"
	"testing"
)

type opCase struct {
	name   string
	inputs []in
	code   string // Python oracle snippet; sets out from x
	fn     func(s *Scope, x []*Tensor) *Tensor
}

func opCases() []opCase {
	r := rand.New(rand.NewSource(1))
	a, b := uni(r, 3, 4), uni(r, 3, 4)
	row := uni(r, 4)
	p := pos(r, 3, 4)
	img := uni(r, 2, 4, 6, 6)
	wc := uni(r, 5, 4, 3, 3)
	wg := uni(r, 6, 2, 3, 3)
	bc := uni(r, 6)
	logits := uni(r, 5, 7)
	tgt := ints(r, 7, 5)
	ia, ib := ints(r, 3, 3, 4), ints(r, 3, 3, 4)
	cond := bools(r, 3, 4)
	bnx := uni(r, 4, 3, 2, 2)
	bnw, bnb, rm, rv := uni(r, 3), uni(r, 3), uni(r, 3), pos(r, 3)
	bnw2, bnb2 := uni(r, 3), uni(r, 3)
	gidx := ints(r, 4, 3, 2)
	sel := ints(r, 3, 5)
	return []opCase{
		{"add", []in{a, row}, "out = x[0] + x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Add(x[0], x[1]) }},
		{"sub", []in{a, b}, "out = x[0] - x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Sub(x[0], x[1]) }},
		{"mul", []in{a, row}, "out = x[0] * x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Mul(x[0], x[1]) }},
		{"div", []in{a, p}, "out = x[0] / x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Div(x[0], x[1]) }},
		{"pow", []in{p, a}, "out = x[0] ** x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Pow(x[0], x[1]) }},
		{"add_s", []in{a}, "out = x[0] + 1.5", func(s *Scope, x []*Tensor) *Tensor { return s.AddScalar(x[0], 1.5) }},
		{"sub_s", []in{a}, "out = x[0] - 1.5", func(s *Scope, x []*Tensor) *Tensor { return s.SubScalar(x[0], 1.5) }},
		{"mul_s", []in{a}, "out = x[0] * -3", func(s *Scope, x []*Tensor) *Tensor { return s.MulScalar(x[0], -3) }},
		{"div_s", []in{a}, "out = x[0] / 7", func(s *Scope, x []*Tensor) *Tensor { return s.DivScalar(x[0], 7) }},
		{"pow_s", []in{p}, "out = x[0] ** 0.7", func(s *Scope, x []*Tensor) *Tensor { return s.PowScalar(x[0], 0.7) }},
		{"rsub_s", []in{a}, "out = 2 - x[0]", func(s *Scope, x []*Tensor) *Tensor { return s.RSubScalar(x[0], 2) }},
		{"neg", []in{a}, "out = -x[0]", func(s *Scope, x []*Tensor) *Tensor { return s.Neg(x[0]) }},
		{"exp", []in{a}, "out = x[0].exp()", func(s *Scope, x []*Tensor) *Tensor { return s.Exp(x[0]) }},
		{"log", []in{p}, "out = x[0].log()", func(s *Scope, x []*Tensor) *Tensor { return s.Log(x[0]) }},
		{"abs", []in{a}, "out = x[0].abs()", func(s *Scope, x []*Tensor) *Tensor { return s.Abs(x[0]) }},
		{"sqrt", []in{p}, "out = x[0].sqrt()", func(s *Scope, x []*Tensor) *Tensor { return s.Sqrt(x[0]) }},
		{"square", []in{a}, "out = x[0] * x[0]", func(s *Scope, x []*Tensor) *Tensor { return s.Square(x[0]) }},
		{"sign", []in{a}, "out = x[0].sign()", func(s *Scope, x []*Tensor) *Tensor { return s.Sign(x[0]) }},
		{"relu", []in{a}, "out = F.relu(x[0])", func(s *Scope, x []*Tensor) *Tensor { return s.Relu(x[0]) }},
		{"sigmoid", []in{a}, "out = torch.sigmoid(x[0])", func(s *Scope, x []*Tensor) *Tensor { return s.Sigmoid(x[0]) }},
		{"tanh", []in{a}, "out = torch.tanh(x[0])", func(s *Scope, x []*Tensor) *Tensor { return s.Tanh(x[0]) }},
		{"maximum", []in{a, b}, "out = torch.maximum(x[0], x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.Maximum(x[0], x[1]) }},
		{"minimum", []in{a, b}, "out = torch.minimum(x[0], x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.Minimum(x[0], x[1]) }},
		{"clamp", []in{a}, "out = x[0].clamp(-0.5, 1)", func(s *Scope, x []*Tensor) *Tensor { return s.Clamp(x[0], -0.5, 1) }},
		{"gt", []in{a, b}, "out = x[0] > x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Gt(x[0], x[1]) }},
		{"ge_int", []in{ia, ib}, "out = x[0] >= x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Ge(x[0], x[1]) }},
		{"eq_int", []in{ia, ib}, "out = x[0] == x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Eq(x[0], x[1]) }},
		{"ne_int", []in{ia, ib}, "out = x[0] != x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Ne(x[0], x[1]) }},
		{"lt", []in{a, b}, "out = x[0] < x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Compare(x[0], CmpLT, x[1]) }},
		{"le", []in{a, b}, "out = x[0] <= x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Compare(x[0], CmpLE, x[1]) }},
		{"gt_s", []in{a}, "out = x[0] > 0.5", func(s *Scope, x []*Tensor) *Tensor { return s.GtScalar(x[0], 0.5) }},
		{"ge_s", []in{a}, "out = x[0] >= 0", func(s *Scope, x []*Tensor) *Tensor { return s.GeScalar(x[0], 0) }},
		{"eq_s", []in{ia}, "out = x[0] == 1", func(s *Scope, x []*Tensor) *Tensor { return s.EqScalar(x[0], 1) }},
		{"ne_s", []in{ia}, "out = x[0] != 1", func(s *Scope, x []*Tensor) *Tensor { return s.NeScalar(x[0], 1) }},
		{"lt_s", []in{a}, "out = x[0] < 0.1", func(s *Scope, x []*Tensor) *Tensor { return s.CompareScalar(x[0], CmpLT, 0.1) }},
		{"to_float", []in{cond}, "out = x[0].float()", func(s *Scope, x []*Tensor) *Tensor { return s.ToFloat(x[0]) }},
		{"to_int64", []in{a}, "out = x[0].long()", func(s *Scope, x []*Tensor) *Tensor { return s.ToDType(x[0], Int64) }},
		{"where", []in{cond, a, b}, "out = torch.where(x[0], x[1], x[2])", func(s *Scope, x []*Tensor) *Tensor { return s.Where(x[0], x[1], x[2]) }},
		{"masked_fill", []in{a, cond}, "out = x[0].masked_fill(x[1], -9)", func(s *Scope, x []*Tensor) *Tensor { return s.MaskedFill(x[0], x[1], -9) }},
		{"logical_not", []in{cond}, "out = ~x[0]", func(s *Scope, x []*Tensor) *Tensor { return s.LogicalNot(x[0]) }},
		{"logical_and", []in{cond, bools(r, 3, 4)}, "out = x[0] & x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.LogicalAnd(x[0], x[1]) }},
		{"logical_or", []in{cond, bools(r, 3, 4)}, "out = x[0] | x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.LogicalOr(x[0], x[1]) }},
		{"matmul", []in{a, uni(r, 4, 5)}, "out = x[0] @ x[1]", func(s *Scope, x []*Tensor) *Tensor { return s.Matmul(x[0], x[1]) }},
		{"linear", []in{a, uni(r, 5, 4), uni(r, 5)}, "out = F.linear(x[0], x[1], x[2])", func(s *Scope, x []*Tensor) *Tensor { return s.Linear(x[0], x[1], x[2]) }},
		{"linear_nobias", []in{a, uni(r, 5, 4)}, "out = F.linear(x[0], x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.Linear(x[0], x[1], nil) }},
		{"conv2d_s2p1", []in{img, wc}, "out = F.conv2d(x[0], x[1], stride=2, padding=1)", func(s *Scope, x []*Tensor) *Tensor {
			return s.Conv2d(x[0], x[1], nil, Conv2dOpts{Stride: [2]int64{2, 2}, Padding: [2]int64{1, 1}})
		}},
		{"conv2d_groups_dil_bias", []in{img, wg, bc}, "out = F.conv2d(x[0], x[1], x[2], padding=(2, 1), dilation=(2, 1), groups=2)", func(s *Scope, x []*Tensor) *Tensor {
			return s.Conv2d(x[0], x[1], x[2], Conv2dOpts{Padding: [2]int64{2, 1}, Dilation: [2]int64{2, 1}, Groups: 2})
		}},
		{"batch_norm_train", []in{bnx, bnw, bnb, rm, rv},
			"y = F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=True, momentum=0.1, eps=1e-5)\nout = torch.cat([y.flatten(), x[3], x[4]])",
			func(s *Scope, x []*Tensor) *Tensor {
				y := s.BatchNorm(x[0], x[1], x[2], x[3], x[4], true, 0.1, 1e-5)
				return s.Cat([]*Tensor{s.Flatten(y, 0, -1), x[3], x[4]}, 0)
			}},
		{"batch_norm_eval", []in{bnx, bnw2, bnb2, rm, rv}, "out = F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=False, eps=1e-3)", func(s *Scope, x []*Tensor) *Tensor {
			return s.BatchNorm(x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-3)
		}},
		{"batch_norm_noaffine", []in{bnx}, "out = F.batch_norm(x[0], None, None, training=True)", func(s *Scope, x []*Tensor) *Tensor {
			return s.BatchNorm(x[0], nil, nil, nil, nil, true, 0.1, 1e-5)
		}},
		{"max_pool2d", []in{img}, "out = F.max_pool2d(x[0], 3, stride=2, padding=1)", func(s *Scope, x []*Tensor) *Tensor {
			return s.MaxPool2d(x[0], MaxPool2dOpts{Kernel: [2]int64{3, 3}, Stride: [2]int64{2, 2}, Padding: [2]int64{1, 1}})
		}},
		{"adaptive_avg_pool2d", []in{img}, "out = F.adaptive_avg_pool2d(x[0], (1, 1))", func(s *Scope, x []*Tensor) *Tensor { return s.AdaptiveAvgPool2d(x[0], 1, 1) }},
		{"adaptive_avg_pool2d_4", []in{img}, "out = F.adaptive_avg_pool2d(x[0], (4, 3))", func(s *Scope, x []*Tensor) *Tensor { return s.AdaptiveAvgPool2d(x[0], 4, 3) }},
		{"softmax", []in{logits}, "out = F.softmax(x[0], 1)", func(s *Scope, x []*Tensor) *Tensor { return s.Softmax(x[0], 1) }},
		{"log_softmax", []in{logits}, "out = F.log_softmax(x[0], 1)", func(s *Scope, x []*Tensor) *Tensor { return s.LogSoftmax(x[0], 1) }},
		{"ce_none", []in{logits, tgt}, "out = F.cross_entropy(x[0], x[1], reduction='none')", func(s *Scope, x []*Tensor) *Tensor { return s.CrossEntropy(x[0], x[1], ReduceNone) }},
		{"ce_mean", []in{logits, tgt}, "out = F.cross_entropy(x[0], x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.CrossEntropy(x[0], x[1], ReduceMean) }},
		{"ce_sum", []in{logits, tgt}, "out = F.cross_entropy(x[0], x[1], reduction='sum')", func(s *Scope, x []*Tensor) *Tensor { return s.CrossEntropy(x[0], x[1], ReduceSum) }},
		{"nll_none", []in{logits, tgt}, "out = F.nll_loss(x[0], x[1], reduction='none')", func(s *Scope, x []*Tensor) *Tensor { return s.NLLLoss(x[0], x[1], ReduceNone) }},
		{"nll_mean", []in{logits, tgt}, "out = F.nll_loss(x[0], x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.NLLLoss(x[0], x[1], ReduceMean) }},
		{"nll_sum", []in{logits, tgt}, "out = F.nll_loss(x[0], x[1], reduction='sum')", func(s *Scope, x []*Tensor) *Tensor { return s.NLLLoss(x[0], x[1], ReduceSum) }},
		{"gather", []in{a, gidx}, "out = x[0].gather(1, x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.Gather(x[0], 1, x[1]) }},
		{"sum", []in{a}, "out = x[0].sum()", func(s *Scope, x []*Tensor) *Tensor { return s.Sum(x[0]) }},
		{"sum_dim_keep", []in{img}, "out = x[0].sum((1, 3), keepdim=True)", func(s *Scope, x []*Tensor) *Tensor { return s.SumDims(x[0], true, 1, 3) }},
		{"sum_bool", []in{cond}, "out = x[0].sum()", func(s *Scope, x []*Tensor) *Tensor { return s.Sum(x[0]) }},
		{"mean", []in{a}, "out = x[0].mean()", func(s *Scope, x []*Tensor) *Tensor { return s.Mean(x[0]) }},
		{"mean_dim", []in{a}, "out = x[0].mean(0)", func(s *Scope, x []*Tensor) *Tensor { return s.MeanDims(x[0], false, 0) }},
		{"max", []in{a}, "out = x[0].max()", func(s *Scope, x []*Tensor) *Tensor { return s.Max(x[0]) }},
		{"amax_dim", []in{a}, "out = x[0].amax(1, keepdim=True)", func(s *Scope, x []*Tensor) *Tensor { return s.AmaxDims(x[0], true, 1) }},
		{"argmax", []in{logits}, "out = x[0].argmax(1)", func(s *Scope, x []*Tensor) *Tensor { return s.Argmax(x[0], 1, false) }},
		{"argmax_all", []in{logits}, "out = x[0].argmax()", func(s *Scope, x []*Tensor) *Tensor { return s.ArgmaxAll(x[0]) }},
		{"logsumexp", []in{logits}, "out = x[0].logsumexp(1)", func(s *Scope, x []*Tensor) *Tensor { return s.LogSumExpDims(x[0], false, 1) }},
		{"normalize", []in{a}, "out = F.normalize(x[0], dim=1)", func(s *Scope, x []*Tensor) *Tensor { return s.L2Normalize(x[0], 1) }},
		{"reshape", []in{img}, "out = x[0].reshape(2, -1)", func(s *Scope, x []*Tensor) *Tensor { return s.Reshape(x[0], 2, -1) }},
		{"view", []in{img}, "out = x[0].view(8, 36)", func(s *Scope, x []*Tensor) *Tensor { return s.View(x[0], 8, 36) }},
		{"flatten", []in{img}, "out = x[0].flatten(1)", func(s *Scope, x []*Tensor) *Tensor { return s.Flatten(x[0], 1, -1) }},
		{"permute", []in{img}, "out = x[0].permute(0, 2, 3, 1)", func(s *Scope, x []*Tensor) *Tensor { return s.Permute(x[0], 0, 2, 3, 1) }},
		{"transpose", []in{a}, "out = x[0].t()", func(s *Scope, x []*Tensor) *Tensor { return s.Transpose(x[0], 0, 1) }},
		{"squeeze", []in{uni(r, 3, 1, 2)}, "out = x[0].squeeze(1)", func(s *Scope, x []*Tensor) *Tensor { return s.Squeeze(x[0], 1) }},
		{"unsqueeze", []in{a}, "out = x[0].unsqueeze(1)", func(s *Scope, x []*Tensor) *Tensor { return s.Unsqueeze(x[0], 1) }},
		{"narrow", []in{a}, "out = x[0][:, 1:3]", func(s *Scope, x []*Tensor) *Tensor { return s.Narrow(x[0], 1, 1, 2) }},
		{"cat", []in{a, b}, "out = torch.cat([x[0], x[1]], 1)", func(s *Scope, x []*Tensor) *Tensor { return s.Cat(x, 1) }},
		{"stack", []in{a, b}, "out = torch.stack([x[0], x[1]], 0)", func(s *Scope, x []*Tensor) *Tensor { return s.Stack(x, 0) }},
		{"index_select", []in{a, sel}, "out = x[0].index_select(0, x[1])", func(s *Scope, x []*Tensor) *Tensor { return s.IndexSelect(x[0], 0, x[1]) }},
		{"one_hot", []in{tgt}, "out = F.one_hot(x[0], 7)", func(s *Scope, x []*Tensor) *Tensor { return s.OneHot(x[0], 7) }},
		{"detach", []in{a}, "out = x[0].detach()", func(s *Scope, x []*Tensor) *Tensor { return s.Detach(x[0]) }},
		{"clone", []in{a}, "out = x[0].clone()", func(s *Scope, x []*Tensor) *Tensor { return s.Clone(x[0]) }},
		{"zeros", nil, "out = torch.zeros(2, 3)", func(s *Scope, x []*Tensor) *Tensor { return s.Zeros([]int64{2, 3}, Float32, CPUDevice) }},
		{"ones", nil, "out = torch.ones(4)", func(s *Scope, x []*Tensor) *Tensor { return s.Ones([]int64{4}, Float32, CPUDevice) }},
		{"full", nil, "out = torch.full((2, 2), 1.5)", func(s *Scope, x []*Tensor) *Tensor { return s.Full([]int64{2, 2}, 1.5, Float32, CPUDevice) }},
		{"eye", nil, "out = torch.eye(3)", func(s *Scope, x []*Tensor) *Tensor { return s.Eye(3, Float32, CPUDevice) }},
		{"arange", nil, "out = torch.arange(5)", func(s *Scope, x []*Tensor) *Tensor { return s.Arange(5, Int64, CPUDevice) }},
	}
}

func TestOpsAgainstPyTorch(t *testing.T) {
	cases := opCases()
	oc := make([]oracleCase, len(cases))
	for i, c := range cases {
		oc[i] = oracleCase{c.name, c.inputs, c.code}
	}
	want := runOracle(t, oc)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := want[c.name]
			if w.Error != "" {
				t.Fatalf("oracle: %s", w.Error)
			}
			s := NewScope()
			defer s.Close()
			x := make([]*Tensor, len(c.inputs))
			for i, inp := range c.inputs {
				x[i] = inp.tensor(s)
			}
			out := c.fn(s, x)
			got, err := out.Float64s()
			if s.Err() != nil {
				t.Fatal(s.Err())
			}
			must(t, err)
			if !slices.Equal(out.Shape(), w.Shape) {
				t.Fatalf("shape %v, want %v", out.Shape(), w.Shape)
			}
			for i := range got {
				if !closeEnough(got[i], w.Data[i], 1e-5, 1e-5) {
					t.Fatalf("element %d = %v, want %v", i, got[i], w.Data[i])
				}
			}
		})
	}
}
