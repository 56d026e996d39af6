package torch

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// bindings are the engines' bindings: their files' prefix and build constraint. A build
// has exactly one of them.
var bindings = []struct{ prefix, tag string }{
	{"shim", "!gotch"},
	{"gotch", "gotch"},
}

// bindingTag is the build constraint of the binding file f belongs to, or false for an API file.
func bindingTag(f string) (string, bool) {
	for _, b := range bindings {
		if strings.HasPrefix(f, b.prefix) {
			return b.tag, true
		}
	}
	return "", false
}

// TestAPIFilesHaveNoCgo holds the split doc.go describes: shim*.go and gotch*.go are the
// engines' bindings, each behind its tag; every other file is the API, which no binding's types reach.
func TestAPIFilesHaveNoCgo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		var imports []string
		for _, im := range ast.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			imports = append(imports, p)
		}
		tag := buildTag(t, f)
		want, binding := bindingTag(f)
		switch {
		case binding && (!slices.Contains(imports, "C") || tag != want):
			t.Errorf("%s: a binding file, but imports C %v with build constraint %q (want %q)", f, slices.Contains(imports, "C"), tag, want)
		case !binding && (slices.Contains(imports, "C") || slices.Contains(imports, "unsafe") || tag != ""):
			t.Errorf("%s: an API file, but imports %v with build constraint %q; move what needs the shim to a shim*.go file", f, imports, tag)
		}
	}
}

// buildTag is the //go:build expression of file f, "" when it has none.
func buildTag(t *testing.T, f string) string {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		if constraint.IsGoBuild(line) {
			e, err := constraint.Parse(line)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			return e.String()
		}
	}
	return ""
}

// TestEnumsReachTheEngine: every dtype and memory format the API names reaches libtorch as
// itself, told apart by what a conversion does to the values (the width of an integer, the
// rounding of a float), and reads back as itself.
func TestEnumsReachTheEngine(t *testing.T) {
	const big = 1<<32 + 7
	third := 1.0 / 3
	cases := []struct {
		dt    DType
		ints  []float64 // {big, -1, 3} as int64, converted to dt
		third float64   // 1/3 as float64, converted to dt
	}{
		{Float32, []float64{1 << 32, -1, 3}, float64(float32(third))},
		{Float64, []float64{big, -1, 3}, third},
		{BFloat16, []float64{1 << 32, -1, 3}, 0.333984375},
		{Int64, []float64{big, -1, 3}, 0},
		{Int32, []float64{7, -1, 3}, 0},
		{Uint8, []float64{7, 255, 3}, 0},
		{Bool, []float64{1, 1, 1}, 1},
	}
	s := NewScope()
	defer s.Close()
	ints := s.FromInt64([]int64{big, -1, 3}, []int64{3}, CPUDevice)
	frac := s.FromFloat64([]float64{third}, []int64{1}, CPUDevice)
	for _, c := range cases {
		x, y := s.ToDType(ints, c.dt), s.ToDType(frac, c.dt)
		xs, _ := x.Float64s()
		ys, _ := y.Float64s()
		info, err := x.Info()
		if err != nil || info.DType != c.dt || info.Device != CPUDevice || !slices.Equal(xs, c.ints) || len(ys) != 1 || ys[0] != c.third {
			t.Errorf("%v: %+v %v %v (%v), want %v %v", c.dt, info, xs, ys, err, c.ints, c.third)
		}
	}
	x := s.FromFloat32(make([]float32, 24), []int64{2, 3, 2, 2}, CPUDevice) // made contiguous
	for _, f := range []MemoryFormat{Contiguous, ChannelsLast} {
		for _, v := range []*Tensor{x, s.ToFormat(x, f)} {
			is, err := v.IsFormat(f)
			if want := v != x || f == Contiguous; err != nil || is != want {
				t.Errorf("IsFormat(%v) = %v, %v; want %v", f, is, err, want)
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if got := s.ToDType(x, DType(42)); got != nil || s.Err() == nil {
		t.Errorf("an unknown dtype was accepted: %v", got)
	}
}
