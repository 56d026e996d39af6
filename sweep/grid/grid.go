// Package grid turns a sweep's settings — comma lists on dcwp-train's flags, or a grid file
// in JSON or YAML — into the runs they span: the cross product of every flag's values, each
// run named by the settings that vary. It knows flags only by name (Spec), not what they mean.
package grid

import (
	"fmt"
	"slices"
	"strings"
)

// Flag is one dcwp-train flag a grid may set.
type Flag struct {
	Name   string
	Bool   bool // a switch: its values are true and false, passed as --name=true
	Single bool // one value for the whole sweep: a list is refused (--data, --threads)
	Raw    bool // commas belong to the value (--stages): a list only in a grid file
	// NotHere, when set, says why a grid cannot set this flag of dcwp-train's (the sweep
	// sets it itself): the flag is refused with that reason rather than as unknown.
	NotHere string
}

// Axis is one flag and its values; one value sets the flag for every run.
type Axis struct {
	Flag   string   `json:"flag"`
	Values []string `json:"values"`
}

// Setting is one flag's value in one run.
type Setting struct {
	Flag  string `json:"flag"`
	Value string `json:"value"`
}

// Point is one run of a grid.
type Point struct {
	Name     string    // the varying settings, readable: "conflict-pct=0.5_seed=1"; "run" when none vary
	Settings []Setting // every flag the grid sets, in the Spec's order
	Varying  []Setting // the settings whose axis has more than one value
}

// Spec is the set of flags a grid may set, in the order names are built in.
type Spec struct {
	flags []Flag
	index map[string]int
}

// NewSpec returns the spec of these flags; their order is the order of every run's name.
func NewSpec(flags []Flag) *Spec {
	s := &Spec{flags: flags, index: make(map[string]int, len(flags))}
	for i, f := range flags {
		s.index[f.Name] = i
	}
	return s
}

// Flag returns the named flag.
func (s *Spec) Flag(name string) (Flag, bool) {
	i, ok := s.index[name]
	if !ok {
		return Flag{}, false
	}
	return s.flags[i], true
}

// Grid is a set of axes, one per flag, in the Spec's order.
type Grid struct {
	Axes []Axis
}

// Lists builds a grid from command-line values: each is split at commas, except a Raw
// flag's.
func (s *Spec) Lists(values map[string]string) (Grid, error) {
	var g Grid
	for name, v := range values {
		f, ok := s.Flag(name)
		if !ok {
			return g, fmt.Errorf("--%s: not a dcwp-train flag", name)
		}
		if f.NotHere != "" {
			return g, fmt.Errorf("--%s: %s", name, f.NotHere)
		}
		vals := []string{v}
		if !f.Raw {
			vals = strings.Split(v, ",")
		}
		a, err := s.axis(f, vals)
		if err != nil {
			return g, fmt.Errorf("--%s %q: %w", name, v, err)
		}
		g.Axes = append(g.Axes, a)
	}
	s.sort(&g)
	return g, nil
}

// axis checks one flag's values.
func (s *Spec) axis(f Flag, vals []string) (Axis, error) {
	if f.Single && len(vals) > 1 {
		return Axis{}, fmt.Errorf("--%s takes one value for the whole sweep, got a list of %d", f.Name, len(vals))
	}
	seen := map[string]bool{}
	for i, v := range vals {
		v = strings.TrimSpace(v)
		vals[i] = v
		switch {
		case v == "":
			return Axis{}, fmt.Errorf("empty value in the list")
		case seen[v]:
			return Axis{}, fmt.Errorf("%q is listed twice", v)
		case f.Bool && v != "true" && v != "false":
			return Axis{}, fmt.Errorf("--%s is a switch: want true or false, got %q", f.Name, v)
		}
		seen[v] = true
	}
	return Axis{Flag: f.Name, Values: vals}, nil
}

func (s *Spec) sort(g *Grid) {
	slices.SortFunc(g.Axes, func(a, b Axis) int { return s.index[a.Flag] - s.index[b.Flag] })
}

// Merge returns base with over's axes replacing base's for the same flags: the command
// line's lists win over a grid file's.
func (s *Spec) Merge(base, over Grid) Grid {
	out := Grid{Axes: slices.Clone(over.Axes)}
	for _, a := range base.Axes {
		if !slices.ContainsFunc(over.Axes, func(b Axis) bool { return b.Flag == a.Flag }) {
			out.Axes = append(out.Axes, a)
		}
	}
	s.sort(&out)
	return out
}

// maxRuns bounds a sweep: a typo in a list should not plan a billion runs.
const maxRuns = 100000

// maxName bounds a run's folder name (file systems allow 255 bytes).
const maxName = 200

// Points is the cross product of the grid's axes, the first axis outermost. Names are
// checked to be distinct and short enough to be folder names.
func (s *Spec) Points(g Grid) ([]Point, error) {
	n := 1
	for _, a := range g.Axes {
		if n *= len(a.Values); n > maxRuns {
			return nil, fmt.Errorf("the grid spans more than %d runs", maxRuns)
		}
	}
	points := []Point{{}}
	for _, a := range g.Axes {
		next := make([]Point, 0, len(points)*len(a.Values))
		for _, p := range points {
			for _, v := range a.Values {
				q := Point{Settings: append(slices.Clone(p.Settings), Setting{a.Flag, v}), Varying: slices.Clone(p.Varying)}
				if len(a.Values) > 1 {
					q.Varying = append(q.Varying, Setting{a.Flag, v})
				}
				next = append(next, q)
			}
		}
		points = next
	}
	byName := map[string]int{}
	for i := range points {
		points[i].Name = Name(points[i].Varying)
		if len(points[i].Name) > maxName {
			return nil, fmt.Errorf("run name %q is longer than %d bytes: vary fewer flags per sweep", points[i].Name, maxName)
		}
		if j, ok := byName[points[i].Name]; ok {
			return nil, fmt.Errorf("runs %v and %v would share the folder %q: their values differ only in characters a folder name cannot hold",
				points[j].Varying, points[i].Varying, points[i].Name)
		}
		byName[points[i].Name] = i
	}
	return points, nil
}

// Name is a run's folder name from its varying settings: "flag=value" joined by "_", each
// value with characters other than letters, digits and ".+-" replaced by "-" (a path by its
// last element). Stable: the same settings always give the same name.
func Name(varying []Setting) string {
	if len(varying) == 0 {
		return "run"
	}
	parts := make([]string, len(varying))
	for i, s := range varying {
		parts[i] = s.Flag + "=" + cleanValue(s.Value)
	}
	return strings.Join(parts, "_")
}

func cleanValue(v string) string {
	if i := strings.LastIndexByte(strings.TrimRight(v, "/"), '/'); i >= 0 {
		v = strings.TrimRight(v, "/")[i+1:]
	}
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-') {
			b[i] = '-'
		}
	}
	if s := string(b); s != "" && s != "." && s != ".." {
		return s
	}
	return "-"
}

// Args is the point as dcwp-train flags: "--flag value", a switch as "--flag=true".
func (s *Spec) Args(p Point) []string {
	var args []string
	for _, st := range p.Settings {
		if f, _ := s.Flag(st.Flag); f.Bool {
			args = append(args, "--"+st.Flag+"="+st.Value)
			continue
		}
		args = append(args, "--"+st.Flag, st.Value)
	}
	return args
}
