package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
)

// groupRow is one test image of the land/water manifest: its class, its attribute value and
// the class the linear model predicts for it (the lit pixel).
type groupRow struct {
	class, value string
	pred         int
}

var groupClasses = []string{"bird", "cat", "dog"}

// groupRows: every (class, value) pair, with predictions that make each pair's accuracy
// differ: pair (c, v) holds 3 + c + v images, the first c + 2v + 1 of them predicted right
// (bird 1/3 on land, 3/4 on water; cat 2/4, 4/5; dog 3/5, 5/6).
func groupRows() []groupRow {
	var rows []groupRow
	for c, class := range groupClasses {
		for v, value := range []string{"land", "water"} {
			for k := range 3 + c + v {
				pred := c
				if k >= c+2*v+1 {
					pred = (c + 1) % 3
				}
				rows = append(rows, groupRow{class, value, pred})
			}
		}
	}
	return rows
}

// writeGroupManifest writes the rows' 4×4 images and a test-only manifest whose bias column
// is the value, renamed by attr.
func writeGroupManifest(t *testing.T, rows []groupRow, attr map[string]string) string {
	dir := t.TempDir()
	lines := []string{"path,label,split,bias"}
	for i, r := range rows {
		img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
		for p := range 16 {
			img.SetNRGBA(p%4, p/4, color.NRGBA{0, 0, 0, 255})
		}
		img.SetNRGBA(r.pred, 0, color.NRGBA{255, 0, 0, 255})
		name := fmt.Sprintf("%03d.png", i)
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
		lines = append(lines, fmt.Sprintf("%s,%s,test,%s", name, r.class, attr[r.value]))
	}
	p := filepath.Join(dir, "test.csv")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return p
}

// independent computes the group figures from the rows' strings and an aligned value per
// class: cell accuracy, means over aligned and conflicting cells, the smallest cell.
func independent(rows []groupRow, aligned map[string]string) (acc, alignedAcc, conflicting, worst float64) {
	type cell struct{ n, ok int }
	cells := map[[2]string]*cell{}
	correct := 0
	for _, r := range rows {
		k := [2]string{r.class, r.value}
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		cells[k].n++
		if groupClasses[r.pred] == r.class {
			cells[k].ok++
			correct++
		}
	}
	var sa, sc float64
	var na, nc int
	worst = 1
	for k, c := range cells {
		v := float64(c.ok) / float64(c.n)
		worst = math.Min(worst, v)
		if aligned[k[0]] == k[1] {
			sa, na = sa+v, na+1
		} else {
			sc, nc = sc+v, nc+1
		}
	}
	return float64(correct) / float64(len(rows)), sa / float64(na), sc / float64(nc), worst
}

// dcwp-eval on a manifest whose bias is an attribute of its own, with no training data: the
// groups come from the model's metadata; the table names classes and values; the figures
// are the ones computed from the manifest's text; bias values as digits give the same.
func TestGroupsByName(t *testing.T) {
	rows := groupRows()
	wantAcc, wantAligned, wantConfl, wantWorst := independent(rows, map[string]string{"bird": "water", "cat": "land", "dog": "land"})
	type figures struct {
		Accuracy    float64 `json:"accuracy"`
		Aligned     float64 `json:"aligned_accuracy"`
		Conflicting float64 `json:"conflicting_accuracy"`
		Worst       float64 `json:"worst_group_accuracy"`
	}
	var got []figures
	for _, c := range []struct {
		name   string
		attr   map[string]string
		groups string
		table  []string
	}{
		{"names", map[string]string{"land": "land", "water": "water"}, `{"attributes":["land","water"],"aligned":[1,0,0]}`,
			[]string{"class    land   water", "bird     33.3   *75.0", "cat     *50.0    80.0", "dog     *60.0    83.3"}},
		{"digits", map[string]string{"land": "0", "water": "1"}, `{"attributes":["0","1"],"aligned":[1,0,0]}`,
			[]string{"class       0       1", "bird     33.3   *75.0", "cat     *50.0    80.0", "dog     *60.0    83.3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			model := evaltest.WriteLinear(t, dir, "m.onnx", evaltest.LinearSpec{Classes: 3, HW: 4,
				Meta: [][2]string{{"class_names", `["bird","cat","dog"]`}, {"groups", c.groups}}})
			report := filepath.Join(dir, "r.json")
			var out, errb strings.Builder
			code := run([]string{"dcwp-eval", "--model", model, "--dataset", "folder", "--data", writeGroupManifest(t, rows, c.attr),
				"--threads", "1", "--json", report}, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			t.Logf("dcwp-eval prints:\n%s", out.String())
			for _, w := range c.table {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			var f figures
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			for _, x := range [][2]float64{{f.Accuracy, wantAcc}, {f.Aligned, wantAligned}, {f.Conflicting, wantConfl}, {f.Worst, wantWorst}} {
				if math.Abs(x[0]-x[1]) > 1e-12 {
					t.Fatalf("figures %+v, from the manifest: %v %v %v %v", f, wantAcc, wantAligned, wantConfl, wantWorst)
				}
			}
			got = append(got, f)
		})
	}
	if len(got) == 2 && got[0] != got[1] {
		t.Fatalf("digits give %+v, names %+v", got[1], got[0])
	}

	// a value the model was not trained with is refused by name
	dir := t.TempDir()
	model := evaltest.WriteLinear(t, dir, "m.onnx", evaltest.LinearSpec{Classes: 3, HW: 4,
		Meta: [][2]string{{"class_names", `["bird","cat","dog"]`}, {"groups", `{"attributes":["land","water"],"aligned":[1,0,0]}`}}})
	var out, errb strings.Builder
	code := run([]string{"dcwp-eval", "--model", model, "--dataset", "folder", "--data",
		writeGroupManifest(t, rows, map[string]string{"land": "land", "water": "sea"})}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), `"sea"`) || !strings.Contains(errb.String(), "the model was trained with") {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
}
