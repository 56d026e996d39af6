package arch

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestModelTable builds every row of the model table for a 3-channel and a 1-channel
// input: each must validate and carry its row's name, so Models, Build and the files
// that record a run's model agree.
func TestModelTable(t *testing.T) {
	for _, m := range models() {
		for _, o := range []Options{
			{Classes: 10, Input: [3]int{3, 32, 32}, Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}},
			{Classes: 2, Input: [3]int{1, 28, 28}},
		} {
			a, err := Build(m.name, o)
			if err != nil {
				t.Errorf("%s %v: %v", m.name, o.Input, err)
				continue
			}
			if a.Name != m.name || a.MaskedCount() == 0 {
				t.Errorf("%s %v: built %q with %d masked weights", m.name, o.Input, a.Name, a.MaskedCount())
			}
		}
	}
	if got := len(slices.Compact(slices.Sorted(slices.Values(Models())))); got != len(models()) {
		t.Errorf("Models() %v has duplicates", Models())
	}
}

type countCase struct {
	model, dataset string
	masked         int
	params         int // trainable + buffers
}

// TestMaskedCountsMatchSpec holds every model's weight counts to the reference's; a model
// without its row fails.
func TestMaskedCountsMatchSpec(t *testing.T) {
	cases := []countCase{
		{"cnn", "cmnist", 660992, 660992 + 2*(64+128+256)*2 + 10},
		{"mlp", "cmnist", 248720, 248720 + 100 + 100 + 32 + 10},
		// torchvision resnet18 has 11,689,512 parameters with a 1000-way head; with 10 classes
		// the head shrinks by 512*990+990, and running stats add 2*4800 buffers; BN affine is 2*4800 of the total.
		{"resnet18", "cifar10c", 11689512 - 9600 - 1000 - 512*990, 11689512 - 512*990 - 990 + 9600},
	}
	for _, m := range Models() {
		if !slices.ContainsFunc(cases, func(c countCase) bool { return c.model == m }) {
			t.Errorf("model %s has no expected masked and parameter counts here", m)
		}
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			a, err := ForRun(c.model, c.dataset, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.MaskedCount(); got != c.masked {
				t.Errorf("masked weights = %d, want %d", got, c.masked)
			}
			total := 0
			for _, p := range a.Params() {
				total += p.Numel()
			}
			if total != c.params {
				t.Errorf("params = %d, want %d", total, c.params)
			}
		})
	}
}

func TestAsCodedMLPScalesInput(t *testing.T) {
	a, err := ForRun("mlp", "cmnist", true)
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Nodes[0]; n.Op != OpScale || n.Factor != 1.0/255 {
		t.Fatalf("first node %+v, want scale by 1/255", n)
	}
}

func TestValidateRejectsBrokenGraphs(t *testing.T) {
	flat := Node{Name: "f", Op: OpFlatten, Inputs: []string{Input}}
	cases := []struct {
		name string
		a    *Arch
		want string // what the error must say
	}{
		{"forward reference", &Arch{Name: "x", Input: [3]int{1, 2, 2}, Classes: 2, Feature: "a",
			Nodes: []Node{{Name: "a", Op: OpFlatten, Inputs: []string{"b"}}}}, `node a reads "b" before it is defined`},
		{"channel mismatch", &Arch{Name: "x", Input: [3]int{1, 2, 2}, Classes: 2, Feature: "f",
			Nodes: []Node{flat, {Name: "fc", Op: OpLinear, Inputs: []string{"f"}, In: 5, Out: 2}}}, "node fc: linear wants [5], gets [4]"},
		{"wrong classes", &Arch{Name: "x", Input: [3]int{1, 2, 2}, Classes: 3, Feature: "f",
			Nodes: []Node{flat, {Name: "fc", Op: OpLinear, Inputs: []string{"f"}, In: 4, Out: 2}}}, "output shape [2], want [3]"},
		{"unknown feature", &Arch{Name: "x", Input: [3]int{1, 2, 2}, Classes: 2, Feature: "nope",
			Nodes: []Node{flat, {Name: "fc", Op: OpLinear, Inputs: []string{"f"}, In: 4, Out: 2}}}, `feature node "nope" does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.a.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "arch x") {
				t.Fatalf("Validate: %v, want an error naming arch x and saying %q", err, c.want)
			}
		})
	}
}

func TestResNetShapes(t *testing.T) {
	a, err := ForRun("resnet18", "celeba", false)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := a.Shapes()
	if got := s["layer4.1.relu2"]; got[0] != 512 || got[1] != 7 || got[2] != 7 {
		t.Fatalf("layer4 output %v, want [512 7 7]", got)
	}
}

// TestEveryOpHasAShapeRule builds the probe of every op (its shape rule and parameters in
// use) and checks the op's description is whole; an unknown op is rejected, not ignored.
func TestEveryOpHasAShapeRule(t *testing.T) {
	for _, op := range Ops() {
		t.Run(string(op), func(t *testing.T) {
			s, err := op.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if s.Inputs < 1 || s.Shape == nil || len(s.Example) == 0 {
				t.Fatalf("incomplete description %+v", s)
			}
			a, err := Probe(op)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := a.Node(string(op))
			if !ok || n.Op != op || len(n.Inputs) != s.Inputs {
				t.Fatalf("probe has no node %s reading %d inputs: %+v", op, s.Inputs, a.Nodes)
			}
			for _, p := range n.params() {
				if p.Masked != (p.Kind == Weight) || p.Masked && !op.Masked() {
					t.Errorf("%s: masked %v, kind %s, op masked %v", p.Name, p.Masked, p.Kind, op.Masked())
				}
			}
		})
	}
	bad := &Arch{Name: "x", Input: [3]int{1, 2, 2}, Classes: 2, Feature: "f",
		Nodes: []Node{{Name: "f", Op: "softmax", Inputs: []string{Input}}}}
	if _, err := bad.Shapes(); err == nil {
		t.Error("Shapes accepted an unknown op")
	}
	if _, err := Probe("softmax"); err == nil {
		t.Error("Probe accepted an unknown op")
	}
}

func TestShapeRules(t *testing.T) {
	cases := []struct {
		name string
		n    Node
		ins  [][]int
		want []int // nil: an error
	}{
		{"conv stride 2 pad 1", Node{Op: OpConv, In: 3, Out: 8, Kernel: 4, Stride: 2, Pad: 1}, [][]int{{3, 28, 28}}, []int{8, 14, 14}},
		{"conv channel mismatch", Node{Op: OpConv, In: 4, Out: 8, Kernel: 3, Stride: 1}, [][]int{{3, 8, 8}}, nil},
		{"maxpool keeps channels", Node{Op: OpMaxPool, Kernel: 3, Stride: 2, Pad: 1}, [][]int{{64, 112, 112}}, []int{64, 56, 56}},
		{"linear on image", Node{Op: OpLinear, In: 12, Out: 2}, [][]int{{3, 2, 2}}, nil},
		{"flatten", Node{Op: OpFlatten}, [][]int{{3, 2, 2}}, []int{12}},
		{"gap", Node{Op: OpGlobalAvgPool}, [][]int{{5, 3, 3}}, []int{5}},
		{"add mismatch", Node{Op: OpAdd}, [][]int{{5, 3, 3}, {5, 3, 2}}, nil},
		{"add one input", Node{Op: OpAdd}, [][]int{{5, 3, 3}}, nil},
		{"batchnorm channels", Node{Op: OpBatchNorm, In: 4}, [][]int{{5, 3, 3}}, nil},
	}
	for _, c := range cases {
		got, err := c.n.OutShape(c.ins)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: got %v, want an error", c.name, got)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// TestDocsListEveryModel holds docs/commands.md's list of models to the model table.
func TestDocsListEveryModel(t *testing.T) {
	b, err := os.ReadFile("../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(b), "\n- Models:")
	if !ok {
		t.Fatal(`docs/commands.md has no "- Models:" entry`)
	}
	list, _, _ = strings.Cut(list, "\n- ") // up to the next entry
	for _, m := range Models() {
		if !strings.Contains(list, "`"+m+"`") {
			t.Errorf("docs/commands.md's Models entry does not name `%s`", m)
		}
	}
}
