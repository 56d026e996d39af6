package grid

import (
	"slices"
	"strings"
	"testing"
)

var testSpec = NewSpec([]Flag{
	{Name: "dataset"}, {Name: "data", Single: true}, {Name: "conflict-pct"}, {Name: "model"},
	{Name: "stages", Raw: true}, {Name: "seed"}, {Name: "threads", Single: true},
	{Name: "pretrained"}, {Name: "no-mining-model", Bool: true}, {Name: "out", NotHere: "the sweep sets each run's"},
})

func TestLists(t *testing.T) {
	cases := []struct {
		name  string
		in    map[string]string
		names []string // run names, in order
		err   string
	}{
		{"one run", map[string]string{"model": "mlp", "seed": "0"}, []string{"run"}, ""},
		{"cross product, flag order", map[string]string{"seed": "0,1", "conflict-pct": "0.5, 1", "model": "mlp"},
			[]string{"conflict-pct=0.5_seed=0", "conflict-pct=0.5_seed=1", "conflict-pct=1_seed=0", "conflict-pct=1_seed=1"}, ""},
		{"stages keep their commas", map[string]string{"stages": "pretrain,mine", "seed": "3,4"}, []string{"seed=3", "seed=4"}, ""},
		{"switch", map[string]string{"no-mining-model": "true,false"}, []string{"no-mining-model=true", "no-mining-model=false"}, ""},
		{"paths by their last element", map[string]string{"pretrained": "/w/a.safetensors,/w/b c/"}, []string{"pretrained=a.safetensors", "pretrained=b-c"}, ""},
		{"list on a single flag", map[string]string{"data": "/a,/b"}, nil, "--data takes one value for the whole sweep, got a list of 2"},
		{"list on threads", map[string]string{"threads": "1,2"}, nil, "--threads takes one value"},
		{"empty item", map[string]string{"seed": "0,,1"}, nil, "empty value"},
		{"twice", map[string]string{"seed": "0,1,0"}, nil, `"0" is listed twice`},
		{"bad switch", map[string]string{"no-mining-model": "yes"}, nil, "want true or false"},
		{"unknown", map[string]string{"frob": "1"}, nil, "--frob: not a dcwp-train flag"},
		{"names collide", map[string]string{"pretrained": "/a/x,/b/x"}, nil, `share the folder "pretrained=x"`},
		{"set by the sweep", map[string]string{"out": "x"}, nil, "--out: the sweep sets each run's"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := testSpec.Lists(c.in)
			var ps []Point
			if err == nil {
				ps, err = testSpec.Points(g)
			}
			if wantErr(t, err, c.err) {
				return
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if !slices.Equal(names, c.names) {
				t.Fatalf("names %q, want %q", names, c.names)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	g, err := testSpec.Lists(map[string]string{"seed": "1", "no-mining-model": "true", "stages": "pretrain,mine"})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := testSpec.Points(g)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--stages", "pretrain,mine", "--seed", "1", "--no-mining-model=true"}
	if got := testSpec.Args(ps[0]); !slices.Equal(got, want) {
		t.Fatalf("args %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, file, text string
		axes             []Axis
		err              string
	}{
		{"yaml", "g.yaml", "conflict-pct: [0.5, 1]\nseed: [0, 1]\nmodel: mlp\nlambda: 1\n", nil, `g.yaml:4: unknown flag "lambda" (dcwp-train has no --lambda`},
		{"yaml ok", "g.yaml", "seed: [0, 1]\nconflict-pct: [0.5, 1e-8]\nmodel: mlp\n",
			[]Axis{{"conflict-pct", []string{"0.5", "1e-8"}}, {"model", []string{"mlp"}}, {"seed", []string{"0", "1"}}}, ""},
		{"json ok", "g.json", `{"seed": [0, 2], "--model": "cnn", "no-mining-model": [true, false]}`,
			[]Axis{{"model", []string{"cnn"}}, {"seed", []string{"0", "2"}}, {"no-mining-model", []string{"true", "false"}}}, ""},
		{"json unknown", "g.json", `{"seed": [0], "epochs": 3}`, nil, `g.json:1: unknown flag "epochs"`},
		{"list on single", "g.yaml", "data: [/a, /b]\n", nil, "g.yaml:1: --data takes one value for the whole sweep"},
		{"stages list", "g.yaml", "stages: [pretrain, 'pretrain,mine']\n", []Axis{{"stages", []string{"pretrain", "pretrain,mine"}}}, ""},
		{"set twice", "g.yaml", "seed: 1\nseed: 2\n", nil, "g.yaml:2"},
		{"not a mapping", "g.yaml", "- seed\n", nil, "g.yaml:1: want a mapping"},
		{"nested", "g.yaml", "seed:\n  a: 1\n", nil, "seed: want a value or a list of values, got a mapping"},
		{"null", "g.yaml", "seed:\n", nil, "seed: no value"},
		{"null item", "g.yaml", "seed: [1, ~]\n", nil, "seed: empty item"},
		{"empty list", "g.yaml", "seed: []\n", nil, "seed: empty list"},
		{"empty file", "g.yaml", "", nil, "g.yaml: empty grid file"},
		{"syntax", "g.json", `{"seed": [0,`, nil, "g.json: not valid JSON or YAML"},
		{"second document", "g.yaml", "seed: [0, 1]\n---\nmodel: cnn\n", nil, "g.yaml:2: a second YAML document"},
		{"second document, empty", "g.yaml", "seed: [0, 1]\n---\n", nil, "g.yaml:2: a second YAML document"},
		{"document start", "g.yaml", "---\nseed: [0, 1]\n...\n", []Axis{{"seed", []string{"0", "1"}}}, ""},
		{"set by the sweep", "g.yaml", "seed: 1\nout: runs/x\n", nil, `g.yaml:2: "out" cannot be set in a grid: the sweep sets each run's`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := testSpec.Parse(c.file, []byte(c.text))
			if wantErr(t, err, c.err) {
				return
			}
			if !slices.EqualFunc(g.Axes, c.axes, func(a, b Axis) bool { return a.Flag == b.Flag && slices.Equal(a.Values, b.Values) }) {
				t.Fatalf("axes %v, want %v", g.Axes, c.axes)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	file, err := testSpec.Parse("g.yaml", []byte("seed: [0, 1, 2]\nmodel: [mlp, cnn]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := testSpec.Lists(map[string]string{"seed": "7", "dataset": "cmnist"})
	if err != nil {
		t.Fatal(err)
	}
	got := testSpec.Merge(file, cli)
	want := []Axis{{"dataset", []string{"cmnist"}}, {"model", []string{"mlp", "cnn"}}, {"seed", []string{"7"}}}
	if !slices.EqualFunc(got.Axes, want, func(a, b Axis) bool { return a.Flag == b.Flag && slices.Equal(a.Values, b.Values) }) {
		t.Fatalf("merged %v, want %v", got.Axes, want)
	}
}

// FuzzParse: no input panics, and a grid that parses names only known flags, each with
// values, and spans distinct run names.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"seed: [0, 1]\nmodel: mlp\n", `{"conflict-pct": [0.5, 1], "data": "/d"}`, "stages: ['a,b', c]", "- 1", "a: &x 1\nb: *x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := testSpec.Parse("fuzz.yaml", b)
		if err != nil {
			return
		}
		for _, a := range g.Axes {
			if _, ok := testSpec.Flag(a.Flag); !ok || len(a.Values) == 0 {
				t.Fatalf("axis %v", a)
			}
		}
		if ps, err := testSpec.Points(g); err == nil {
			seen := map[string]bool{}
			for _, p := range ps {
				if seen[p.Name] || strings.ContainsAny(p.Name, "/\x00") {
					t.Fatalf("name %q", p.Name)
				}
				seen[p.Name] = true
			}
		}
	})
}

// wantErr fails the test unless err is what a case wants: an error containing want, or
// none when want is "". It reports whether the case expected an error (and so is done).
func wantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	return true
}
