package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/metrics"
)

// landWater is a manifest of three classes over a two-valued attribute of its own: in train
// bird is mostly on water, cat and dog mostly on land (one conflicting sample each); test
// has every (class, value) pair twice. attr renames the values, label the classes.
func landWater(t *testing.T, label func(string) string, attr func(string) string, extra ...string) string {
	root := t.TempDir()
	rows := []string{"path,label,split,bias"}
	add := func(sp, class, value string) {
		p := fmt.Sprintf("img/%s_%d.png", sp, len(rows))
		writeImg(t, filepath.Join(root, p), len(rows), 8, 8, false)
		rows = append(rows, strings.Join([]string{p, label(class), sp, attr(value)}, ","))
	}
	for _, c := range []struct {
		class, major, minor string
	}{{"bird", "water", "land"}, {"cat", "land", "water"}, {"dog", "land", "water"}} {
		for range 4 {
			add("train", c.class, c.major)
		}
		add("train", c.class, c.minor)
		for _, v := range []string{"land", "water", "land", "water"} {
			add("test", c.class, v)
		}
	}
	rows = append(rows, extra...)
	p := filepath.Join(root, "m.csv")
	if err := os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func same(s string) string { return s }

// conflictingFromRows counts, from the manifest's text alone, the train rows whose value is
// not their class's most frequent one in train.
func conflictingFromRows(t *testing.T, manifest string) (conflicting int) {
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	count := map[[2]string]int{}
	var train [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[2] == "train" {
			count[[2]string{f[1], f[3]}]++
			train = append(train, f)
		}
	}
	for _, f := range train {
		for k, n := range count {
			if k[0] == f[1] && k[1] != f[3] && n > count[[2]string{f[1], f[3]}] {
				conflicting++
				break
			}
		}
	}
	return conflicting
}

// A bias column of its own values: land/water over three classes, the same data with the
// values as digits and the classes as indices, and with both swapped for other names: the
// same groups, the same conflicting samples as counted from the manifest's text.
func TestManifestGroups(t *testing.T) {
	digit := map[string]string{"land": "0", "water": "1"}
	index := map[string]string{"bird": "0", "cat": "1", "dog": "2"}
	cases := []struct {
		name         string
		label, attr  func(string) string
		attrs, class []string
	}{
		{"names", same, same, []string{"land", "water"}, []string{"bird", "cat", "dog"}},
		{"bias digits, labels names", same, func(v string) string { return digit[v] }, []string{"0", "1"}, []string{"bird", "cat", "dog"}},
		{"bias names, labels indices", func(c string) string { return index[c] }, same, []string{"land", "water"}, []string{"0", "1", "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := landWater(t, c.label, c.attr)
			l, _ := quietLoader(t)
			d, err := l.Open(Request{Root: m, Name: Folder})
			if err != nil {
				t.Fatal(err)
			}
			want := metrics.Groups{Attributes: c.attrs, Aligned: []int32{1, 0, 0}}
			for _, s := range []*Split{d.Train, d.Valid, d.Test} {
				if s.Groups == nil || !slices.Equal(s.Groups.Attributes, want.Attributes) || !slices.Equal(s.Groups.Aligned, want.Aligned) {
					t.Fatalf("%s groups %+v, want %+v", s.Name, s.Groups, want)
				}
			}
			if d.Spec.Groups == nil || !slices.Equal(d.Spec.ClassNames, c.class) {
				t.Fatalf("spec %+v", d.Spec)
			}
			// train keeps 15 − 1 carved per class; count over train and valid together
			got := d.Train.NumConflicting() + d.Valid.NumConflicting()
			if want := conflictingFromRows(t, m); got != want || want != 3 {
				t.Fatalf("%d conflicting, the manifest's text says %d (want 3)", got, want)
			}
			if n := d.Test.NumConflicting(); n != 6 {
				t.Fatalf("test: %d conflicting, want 6 (half of 12)", n)
			}
		})
	}
}

// A split with values train never had is refused, naming them; so is a value a model was not
// trained with. Without bias values in train a split's values must be class names.
func TestManifestGroupsBadValues(t *testing.T) {
	model := &metrics.Groups{Attributes: []string{"land", "water"}, Aligned: []int32{1, 0, 0}}
	cases := []struct {
		name   string
		groups *metrics.Groups
		extra  []string
		want   []string
	}{
		{"values train never had", nil, []string{"img/test_1.png,cat,valid,sky", "img/test_2.png,dog,valid,sea"},
			[]string{`valid's bias values "sky", "sea"`, "train's bias values", `"land", "water"`}},
		{"values the model lacks", &metrics.Groups{Attributes: []string{"land", "sea"}, Aligned: []int32{1, 0, 0}}, nil,
			[]string{`"water"`, "the model was trained with", `"land", "sea"`}},
		{"groups for other classes", &metrics.Groups{Attributes: []string{"land"}, Aligned: []int32{0}}, nil,
			[]string{"1 aligned values for 3 classes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := landWater(t, same, same, c.extra...)
			l, _ := quietLoader(t)
			_, err := l.Open(Request{Root: m, Name: Folder, Groups: c.groups})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, m) {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// the model's own groups read the test split alone
	m := landWater(t, same, same)
	l, _ := quietLoader(t)
	s, err := l.LoadSplit(Request{Root: m, Name: Folder, Classes: []string{"bird", "cat", "dog"}, Groups: model}, Test)
	if err != nil || s.NumConflicting() != 6 || !slices.Equal(s.Groups.Aligned, model.Aligned) {
		t.Fatalf("test split with the model's groups: %v, %d conflicting", err, s.NumConflicting())
	}

	root := t.TempDir()
	for k, p := range []string{"a.png", "b.png", "c.png", "d.png", "e.png"} {
		writeImg(t, filepath.Join(root, p), k, 8, 8, false)
	}
	const trainRows = "path,label,split,bias\na.png,cat,train,\nb.png,dog,train,\nd.png,cat,train,\ne.png,dog,train,\n"
	noBias := filepath.Join(root, "m.csv")
	os.WriteFile(noBias, []byte(trainRows+"c.png,dog,test,land\n"), 0o644)
	_, err = l.Open(Request{Root: noBias, Name: Folder})
	if err == nil || !strings.Contains(err.Error(), `"land"`) || !strings.Contains(err.Error(), "train has no bias values") || !errors.Is(err, ErrBadCSV) {
		t.Fatalf("test values without train's: %v", err)
	}
	os.WriteFile(noBias, []byte(trainRows+"c.png,dog,test,cat\n"), 0o644)
	d, err := l.Open(Request{Root: noBias, Name: Folder})
	if err != nil || d.Test.Groups != nil || d.Test.NumConflicting() != 1 {
		t.Fatalf("class-name values without train's: %v", err)
	}
}

// The benchmarks keep bias == label: no groups recorded. Attribute values order: whole
// numbers by value, then the rest as strings.
func TestBenchmarkGroupsAndOrder(t *testing.T) {
	if got := attributeOrder([]string{"water", "10", "2", "land", "02"}); !slices.Equal(got, []string{"02", "2", "10", "land", "water"}) {
		t.Fatalf("order %v", got)
	}
	root := t.TempDir()
	for i, lb := range [][2]int{{0, 0}, {0, 0}, {1, 1}, {1, 1}, {1, 0}, {2, 2}} {
		train := "cmnist/1pct/align"
		if lb[0] != lb[1] {
			train = "cmnist/1pct/conflict"
		}
		for _, dir := range []string{train, "cmnist/1pct/valid", "cmnist/test"} {
			writeImg(t, filepath.Join(root, dir, fmt.Sprintf("%d_%d_%d.png", i, lb[0], lb[1])), i, 28, 28, false)
		}
	}
	l, _ := quietLoader(t)
	d, err := l.Open(Request{Root: root, Name: CMNIST, Share: MustShare("1")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Groups != nil || d.Train.Groups != nil || d.Test.NumConflicting() != 1 {
		t.Fatalf("cmnist groups %+v / %+v, %d conflicting", d.Spec.Groups, d.Train.Groups, d.Test.NumConflicting())
	}
}
