package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// skewedManifest is a manifest with no valid rows: two classes over the values red and blue,
// each class with aligned train images of its own colour and, per conflicting count given,
// that many images of the other colour; every test row is a conflicting and an aligned image.
func skewedManifest(t *testing.T, aligned, conflicting int) string {
	root := t.TempDir()
	rows := []string{"path,label,split,bias"}
	add := func(sp, class, value string) {
		p := fmt.Sprintf("img/%s_%d.png", sp, len(rows))
		writeImg(t, filepath.Join(root, p), len(rows), 4, 4, false)
		rows = append(rows, strings.Join([]string{p, class, sp, value}, ","))
	}
	for _, c := range [][2]string{{"apple", "red"}, {"plum", "blue"}} {
		other := map[string]string{"red": "blue", "blue": "red"}[c[1]]
		for range aligned {
			add(Train, c[0], c[1])
		}
		for range conflicting {
			add(Train, c[0], other)
		}
		add(Test, c[0], c[1])
		add(Test, c[0], other)
	}
	p := filepath.Join(root, "m.csv")
	if err := os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// groupCount counts a split's images of each (label, attribute) group.
func groupCount(s *Split) map[[2]int32]int {
	n := map[[2]int32]int{}
	for i, l := range s.Labels {
		n[[2]int32{l, s.Bias[i]}]++
	}
	return n
}

// A validation split carved from train with attribute values takes a share of every
// (label, attribute) group, so that it holds the conflicting groups (a class-wise 10 % of 48
// aligned and 2 conflicting images would hold them only by chance); a group of one image
// stays in train. A resumed run's carve (Request.Carved) is made as recorded: by class.
func TestCarveByGroup(t *testing.T) {
	cases := []struct {
		name                   string
		aligned, conflicting   int
		carved                 *ValidFrom
		wantBy                 string
		wantValid, wantInTrain map[[2]int32]int // per group; nil: not checked
	}{
		{"two conflicting images a group", 48, 2, nil, CarveByGroup,
			map[[2]int32]int{{0, 1}: 5, {0, 0}: 1, {1, 0}: 5, {1, 1}: 1}, map[[2]int32]int{{0, 1}: 43, {0, 0}: 1, {1, 0}: 43, {1, 1}: 1}},
		{"one conflicting image a group", 48, 1, nil, CarveByGroup,
			map[[2]int32]int{{0, 1}: 5, {1, 0}: 5}, map[[2]int32]int{{0, 1}: 43, {0, 0}: 1, {1, 0}: 43, {1, 1}: 1}},
		{"a run carved before groups", 48, 2, &ValidFrom{From: ValidCarve, Share: 0.1}, CarveByClass, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, _ := quietLoader(t)
			d, err := l.Open(Request{Root: skewedManifest(t, c.aligned, c.conflicting), Name: Folder, Carved: c.carved})
			if err != nil {
				t.Fatal(err)
			}
			if d.ValidFrom.From != ValidCarve || d.ValidFrom.By != c.wantBy {
				t.Fatalf("valid from %+v, want a carve by %q", d.ValidFrom, c.wantBy)
			}
			perClass := map[int32]int{}
			for _, l := range d.Valid.Labels {
				perClass[l]++
			}
			if want := map[int32]int{0: 5, 1: 5}; c.wantBy == CarveByClass && !equalMaps(perClass, want) {
				t.Fatalf("carved by class: %v per class, want %v", perClass, want)
			}
			if c.wantValid != nil && !equalMaps(groupCount(d.Valid), c.wantValid) {
				t.Fatalf("valid groups %v, want %v", groupCount(d.Valid), c.wantValid)
			}
			if c.wantInTrain != nil && !equalMaps(groupCount(d.Train), c.wantInTrain) {
				t.Fatalf("train keeps groups %v, want %v", groupCount(d.Train), c.wantInTrain)
			}
			if want := "of each class"; c.wantBy == CarveByGroup {
				want = "of each (label, attribute) group"
				if !strings.Contains(d.ValidFrom.String(), want) {
					t.Fatalf("ValidFrom says %q, want %q", d.ValidFrom, want)
				}
			}
		})
	}
}

func equalMaps[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// What a validation split can see (its groups named as train's: here bias == label, the
// values being the class names) of the bias: nothing without attribute values or without a
// conflicting sample (why is said); the groups of train it lacks; its counts per class, the
// conflicting groups marked.
func TestViewOfBias(t *testing.T) {
	split := func(labels, bias []int32) *Split {
		return &Split{Dataset: Folder, Classes: 2, ClassNames: []string{"apple", "plum"}, Labels: labels, Bias: bias}
	}
	train := split([]int32{0, 0, 0, 1, 1, 1}, []int32{0, 0, 1, 1, 1, 0})
	cases := []struct {
		name         string
		train, valid *Split
		sees         bool
		why          string
		missing      []string
		counts       []string
	}{
		{"no attribute values", split([]int32{0, 1}, nil), split([]int32{0, 1}, nil), false, "the data has no attribute values", nil, nil},
		{"valid without them", train, split([]int32{0, 1}, nil), false, "it has no attribute values", nil, nil},
		{"only aligned", train, split([]int32{0, 1}, []int32{0, 1}), false, "no bias-conflicting sample", []string{"apple/plum", "plum/apple"},
			[]string{"apple: apple 1", "plum: plum 1"}},
		{"every group", train, split([]int32{0, 0, 1, 1, 1}, []int32{0, 1, 1, 0, 1}), true, "", nil,
			[]string{"apple: apple 1, plum* 1", "plum: apple* 1, plum 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := ViewOfBias(c.train, c.valid)
			if v.Sees != c.sees || !strings.Contains(v.Why, c.why) || (c.sees && v.Why != "") {
				t.Fatalf("sees %v (%q), want %v (%q)", v.Sees, v.Why, c.sees, c.why)
			}
			if !slices.Equal(v.Missing, c.missing) || !slices.Equal(v.Counts(), c.counts) {
				t.Fatalf("missing %q counts %q, want %q and %q", v.Missing, v.Counts(), c.missing, c.counts)
			}
		})
	}
}
