package dcwp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// landWaterFixture writes the fixture's digits 0–2 (classes zero, one, two) as a manifest
// whose bias is an attribute of its own: where the fixture's colour matches the digit, zero
// is on water and one and two on land, elsewhere the other way. value names land and water;
// testOnly is the test rows alone (an evaluation without the training data).
func landWaterFixture(t *testing.T, value map[string]string) (manifest, testOnly string, rows [][4]string) {
	dir := t.TempDir()
	names := []string{"zero", "one", "two"}
	for _, p := range []struct{ sub, split string }{{"1pct/align", "train"}, {"1pct/conflict", "train"}, {"1pct/valid", "valid"}, {"test", "test"}} {
		s, err := dataset.LoadDir(filepath.Join(testData, "cmnist", p.sub), "cmnist")
		if err != nil {
			t.Fatal(err)
		}
		for i, path := range s.Paths {
			l := s.Labels[i]
			if l > 2 {
				continue
			}
			v := map[bool]string{true: "land", false: "water"}[(l == 0) != (s.Bias[i] == l)]
			rows = append(rows, [4]string{path, names[l], p.split, v})
		}
	}
	write := func(name string, keep func(split string) bool) string {
		lines := []string{"path,label,split,bias"}
		for _, r := range rows {
			if keep(r[2]) {
				lines = append(lines, fmt.Sprintf("%s,%s,%s,%s", r[0], r[1], r[2], value[r[3]]))
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("m.csv", func(string) bool { return true }), write("test.csv", func(s string) bool { return s == "test" }), rows
}

// minedFromText scores mined flags against the conflicting samples as the manifest's text
// says them: a train row whose value is not its class's most frequent one in train.
func minedFromText(rows [][4]string, flags []uint8) rundir.Mined {
	count := map[[2]string]int{}
	var train [][4]string
	for _, r := range rows {
		if r[2] == "train" {
			count[[2]string{r[1], r[3]}]++
			train = append(train, r)
		}
	}
	conflict := make([]bool, len(train))
	for i, r := range train {
		other := map[string]string{"land": "water", "water": "land"}[r[3]]
		conflict[i] = count[[2]string{r[1], other}] > count[[2]string{r[1], r[3]}]
	}
	f := make([]bool, len(flags))
	for i, x := range flags {
		f[i] = x == 1
	}
	return MinedScore(f, conflict)
}

// A manifest whose bias is land/water over three classes trains, exports and evaluates
// (dcwp-eval without the training data) with the same groups; mined precision/recall are
// those the manifest's text gives; the same data with the values as digits gives the same
// figures.
func TestGroupsOfOwnAttribute(t *testing.T) {
	var sums []*rundir.Summary
	for _, c := range []struct {
		name  string
		value map[string]string
	}{{"names", map[string]string{"land": "land", "water": "water"}}, {"digits", map[string]string{"land": "0", "water": "1"}}} {
		t.Run(c.name, func(t *testing.T) {
			manifest, testOnly, rows := landWaterFixture(t, c.value)
			out := t.TempDir()
			cfg := folderConfig(t, manifest)
			sum, err := Run(Options{Config: cfg, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			sums = append(sums, sum)
			r, err := rundir.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			g := r.Config.DataSpec.Groups
			if g == nil || g.String(r.Config.DataSpec.ClassNames) != fmt.Sprintf("one→%s, two→%s, zero→%s", c.value["land"], c.value["land"], c.value["water"]) {
				t.Fatalf("config.json groups %+v", g)
			}
			ts, _, err := tensor.ReadFile(filepath.Join(out, rundir.MinedFile))
			if err != nil {
				t.Fatal(err)
			}
			if want := minedFromText(rows, ts["flags"].U8); sum.Mined != want {
				t.Fatalf("mined %+v, from the manifest's text %+v", sum.Mined, want)
			}
			m, _, err := exporter.Export(r, exporter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(out, "dcwp.onnx")
			if _, err := exporter.WriteFile(model, m); err != nil {
				t.Fatal(err)
			}
			rep, err := eval.Evaluate(eval.Options{Model: model, Dataset: "folder", Data: testOnly, Batches: []int{64}})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			rep.WriteText(&text)
			t.Logf("dcwp-eval on the export, test rows only:\n%s", text.String())
			if !strings.Contains(text.String(), "zero  ") || !strings.Contains(text.String(), c.value["water"]) {
				t.Fatalf("group table without names:\n%s", text.String())
			}
			a, want := rep.Accuracy, sum.DCWP.Test
			if a.Correct != want.Correct || a.AlignedAccuracy != want.AlignedAccuracy || a.ConflictingAccuracy != want.ConflictingAccuracy ||
				a.WorstGroupAccuracy != want.WorstGroupAccuracy {
				t.Fatalf("dcwp-eval %+v, the trainer %+v", a, want)
			}
		})
	}
	if len(sums) == 2 {
		a, b := sums[0], sums[1]
		for _, p := range [][2]rundir.Eval{{a.Vanilla, b.Vanilla}, {*a.DCWP, *b.DCWP}} {
			if p[0].Test.AlignedAccuracy != p[1].Test.AlignedAccuracy || p[0].Test.ConflictingAccuracy != p[1].Test.ConflictingAccuracy ||
				p[0].Test.WorstGroupAccuracy != p[1].Test.WorstGroupAccuracy || p[0].Test.Accuracy != p[1].Test.Accuracy {
				t.Fatalf("digits %+v, names %+v", p[1].Test, p[0].Test)
			}
		}
		if a.Mined != b.Mined {
			t.Fatalf("mined: digits %+v, names %+v", b.Mined, a.Mined)
		}
		t.Logf("names and digits: vanilla test %.4f aligned %.4f conflicting %.4f worst %.4f; dcwp test %.4f aligned %.4f conflicting %.4f worst %.4f; mined %d precision %.3f recall %.3f",
			a.Vanilla.Test.Accuracy, a.Vanilla.Test.AlignedAccuracy, a.Vanilla.Test.ConflictingAccuracy, a.Vanilla.Test.WorstGroupAccuracy,
			a.DCWP.Test.Accuracy, a.DCWP.Test.AlignedAccuracy, a.DCWP.Test.ConflictingAccuracy, a.DCWP.Test.WorstGroupAccuracy,
			a.Mined.Flagged, a.Mined.Precision, a.Mined.Recall)
	}
}
