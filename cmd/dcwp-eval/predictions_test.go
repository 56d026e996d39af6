package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/evaltest"
)

// --predictions writes one row per image of the land/water manifest, in its order: its path,
// its class and attribute value by name, whether it is conflicting under the model's groups,
// the predicted class (the argmax of the logits written beside it, and the image's lit
// pixel); the rows give the report's accuracy. An output that is an input is refused.
func TestPredictionsCSV(t *testing.T) {
	rows := groupRows()
	dir := t.TempDir()
	model := evaltest.WriteLinear(t, dir, "m.onnx", evaltest.LinearSpec{Classes: 3, HW: 4,
		Meta: [][2]string{{"class_names", `["bird","cat","dog"]`}, {"groups", `{"attributes":["land","water"],"aligned":[1,0,0]}`}}})
	manifest := writeGroupManifest(t, rows, map[string]string{"land": "land", "water": "water"})
	aligned := map[string]string{"bird": "water", "cat": "land", "dog": "land"}
	pred := filepath.Join(dir, "pred.csv")
	var out, errb strings.Builder
	if code := run([]string{"dcwp-eval", "--model", model, "--dataset", "folder", "--data", manifest, "--threads", "1",
		"--predictions", pred}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	f, err := os.Open(pred)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"path", "label", "label_name", "attribute", "conflicting", "predicted", "predicted_name", "logit_0", "logit_1", "logit_2"}
	if !slices.Equal(recs[0], wantHead) || len(recs) != len(rows)+1 {
		t.Fatalf("header %q and %d rows, want %q and %d", recs[0], len(recs)-1, wantHead, len(rows))
	}
	correct := 0
	for i, r := range rows {
		rec := recs[i+1]
		logits := make([]float64, 3)
		for k := range logits {
			if logits[k], err = strconv.ParseFloat(rec[7+k], 32); err != nil {
				t.Fatalf("row %d: logit %q: %v", i, rec[7+k], err)
			}
		}
		argmax := 0
		for k, v := range logits {
			if v > logits[argmax] {
				argmax = k
			}
		}
		want := []string{filepath.Join(filepath.Dir(manifest), fmt.Sprintf("%03d.png", i)), strconv.Itoa(slices.Index(groupClasses, r.class)),
			r.class, r.value, strconv.FormatBool(aligned[r.class] != r.value), strconv.Itoa(r.pred), groupClasses[r.pred]}
		if !slices.Equal(rec[:7], want) || argmax != r.pred {
			t.Fatalf("row %d: %q, want %q, argmax %d", i, rec, want, argmax)
		}
		if r.pred == slices.Index(groupClasses, r.class) {
			correct++
		}
	}
	wantAcc, _, _, _ := independent(rows, aligned)
	if got := float64(correct) / float64(len(rows)); got != wantAcc {
		t.Fatalf("accuracy from the rows %v, want %v", got, wantAcc)
	}
	if !strings.Contains(out.String(), "images: 27 (27 decoded): none converted") {
		t.Fatalf("stdout lacks the images line:\n%s", out.String())
	}

	for _, c := range []struct{ name, path, want string }{
		{"the manifest", manifest, "is the input"},
		{"the model", model, "is the input"},
		{"the JSON report", filepath.Join(dir, "r.json"), "the same file"},
		{"a missing folder", filepath.Join(dir, "no", "p.csv"), "does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := run([]string{"dcwp-eval", "--model", model, "--dataset", "folder", "--data", manifest, "--json", filepath.Join(dir, "r.json"),
				"--predictions", c.path}, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), c.want) {
				t.Fatalf("exit %d, stderr %s; want 2 and %q", code, errb.String(), c.want)
			}
		})
	}
}
