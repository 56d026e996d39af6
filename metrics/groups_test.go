package metrics

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
)

// names are the class names "0", "1", … of n numbered classes.
func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

func TestMajority(t *testing.T) {
	cases := []struct {
		name         string
		label, bias  []int32
		classes      int
		attrs        []string
		want         []int32
		conflictings int
	}{
		{"identity", []int32{0, 0, 1, 1, 1}, []int32{0, 1, 1, 1, 0}, 2, []string{"0", "1"}, []int32{0, 1}, 2},
		// three classes over two values: class 0 mostly water, 1 and 2 mostly land
		{"land and water", []int32{0, 0, 0, 1, 1, 1, 2, 2, 2}, []int32{1, 1, 0, 0, 0, 1, 0, 0, 0}, 3,
			[]string{"land", "water"}, []int32{1, 0, 0}, 2},
		{"tie goes to the value listed first", []int32{0, 0, 1}, []int32{1, 0, 1}, 2, []string{"a", "b"}, []int32{0, 1}, 1},
		{"class without a sample", []int32{0, 0}, []int32{1, 1}, 2, []string{"a", "b"}, []int32{1, -1}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := Majority(c.label, c.bias, c.classes, c.attrs)
			if !reflect.DeepEqual(g.Aligned, c.want) || !reflect.DeepEqual(g.Attributes, c.attrs) {
				t.Fatalf("groups %+v, want aligned %v", g, c.want)
			}
			if err := g.Check(c.classes); err != nil {
				t.Fatal(err)
			}
			n := 0
			for i := range c.label {
				if g.Conflicting(c.label[i], c.bias[i]) {
					n++
				}
			}
			if n != c.conflictings {
				t.Fatalf("%d conflicting, want %d", n, c.conflictings)
			}
		})
	}
}

// Score on attribute values of their own: the aligned cells are each label's majority
// value, not the diagonal, and the matrix has a column per value.
func TestScoreGroups(t *testing.T) {
	g := Groups{Attributes: []string{"land", "water"}, Aligned: []int32{1, 0, 0}}
	// cells: (0,water) 1/1 aligned, (0,land) 0/1, (1,land) 1/1 aligned, (1,water) 1/2,
	// (2,land) 1/2 aligned, (2,water) empty
	pred := []int32{0, 1, 1, 1, 0, 2, 0}
	label := []int32{0, 0, 1, 1, 1, 2, 2}
	bias := []int32{1, 0, 0, 1, 1, 0, 0}
	a := Score(pred, label, bias, g)
	want := [][]float64{{0, 1}, {1, 0.5}, {0.5, -1}}
	if !reflect.DeepEqual(a.Groups, want) {
		t.Fatalf("groups %v, want %v", a.Groups, want)
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"aligned", a.AlignedAccuracy, (1 + 1 + 0.5) / 3}, {"conflicting", a.ConflictingAccuracy, (0 + 0.5) / 2},
		{"worst", a.WorstGroupAccuracy, 0}, {"accuracy", a.Accuracy, 4.0 / 7}} {
		if math.Abs(f.got-f.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

func TestParseGroups(t *testing.T) {
	cases := []struct {
		name, in string
		classes  int
		err      bool
	}{
		{"good", `{"attributes":["land","water"],"aligned":[1,0,0]}`, 3, false},
		{"class without sample", `{"attributes":["a"],"aligned":[0,-1]}`, 2, false},
		{"too few classes", `{"attributes":["land","water"],"aligned":[1,0]}`, 3, true},
		{"index out of range", `{"attributes":["land","water"],"aligned":[2,0,0]}`, 3, true},
		{"below -1", `{"attributes":["land"],"aligned":[-2]}`, 1, true},
		{"value twice", `{"attributes":["land","land"],"aligned":[0]}`, 1, true},
		{"empty value", `{"attributes":[""],"aligned":[0]}`, 1, true},
		{"unknown field", `{"attributes":["a"],"aligned":[0],"x":1}`, 1, true},
		{"not JSON", `land`, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in, c.classes)
			if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrGroups)) {
				t.Fatalf("Parse(%s) error %v, want error %v", c.in, err, c.err)
			}
		})
	}
}

func TestGroupsString(t *testing.T) {
	g := Groups{Attributes: []string{"land", "water"}, Aligned: []int32{1, 0, -1}}
	if got, want := g.String([]string{"cat", "dog"}), "cat→water, dog→land, 2→(no training sample)"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

// Parse never panics, and what it accepts fits the classes it was asked for.
func FuzzParseGroups(f *testing.F) {
	f.Add(`{"attributes":["land","water"],"aligned":[1,0,0]}`, 3)
	f.Add(`{"attributes":[],"aligned":[]}`, 0)
	f.Fuzz(func(t *testing.T, s string, classes int) {
		g, err := Parse(s, classes)
		if err != nil {
			return
		}
		for l := range g.Aligned {
			if a := g.Aligned[l]; a >= 0 {
				_ = g.Attributes[a]
			}
			g.Conflicting(int32(l), 0)
		}
	})
}

func ExampleGroups() {
	// Three classes over a two-valued attribute, as a manifest's train rows give them.
	label := []int32{0, 0, 0, 1, 1, 2, 2}
	bias := []int32{1, 1, 0, 0, 0, 0, 1}
	g := Majority(label, bias, 3, []string{"land", "water"})
	fmt.Println(g.String([]string{"bird", "cat", "dog"}))
	fmt.Println(g.Conflicting(0, 0), g.Conflicting(1, 0))
	// Output:
	// bird→water, cat→land, dog→land
	// true false
}
