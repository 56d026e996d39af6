package onnx_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/exporter"
	"github.com/dcwp-go/dcwp/internal/exportfixture"
	"github.com/dcwp-go/dcwp/onnx"
)

// The fuzz targets replay testdata/fuzz/<Target>/ on every go test: small real exports,
// models from Debian's libonnx-testdata, and what fuzzing found (onnx/testdata/gen_seeds.go
// writes the first two). exportSeeds adds full-size exports of every architecture and
// format, built in-process because they are too large to check in.

var exportSeeds = sync.OnceValues(func() (map[string][]byte, error) {
	out := map[string][]byte{}
	specs := []exportfixture.Spec{
		{Model: "mlp", Seed: 3, Keep: 0.3, DeadRows: 0.2, DeadCols: 0.1},
		{Model: "cnn", Seed: 4, Keep: 0.3, DeadRows: 0.2, DeadCols: 0.1},
		// ResNet-18 dense (45 MB) and compact (its residual adds keep most channels: 24 MB)
		// would take seconds to replay; the sparse export carries the same graph.
		{Model: "resnet18", Seed: 5, Keep: 0.01},
	}
	for _, s := range specs {
		net, err := exportfixture.Network(s)
		if err != nil {
			return nil, err
		}
		for _, f := range exporter.Formats() {
			if s.Model == "resnet18" && f != exporter.Sparse {
				continue
			}
			m, _, err := exporter.ExportNetwork(s.Config(), net, exporter.Options{Format: f, Source: "fuzz-seed"})
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", s.Name(), f, err)
			}
			if out[s.Model+"-"+string(f)], err = onnx.Marshal(m); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
})

// addExportSeeds adds the full-size exports to a replay only: megabyte inputs would slow
// a fuzzing run to a few executions a second, so fuzzing starts from the checked-in seeds.
func addExportSeeds(f *testing.F, pairs bool) {
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		return
	}
	seeds, err := exportSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, a := range arch.Models() {
		for _, other := range exporter.Formats() {
			b := seeds[a+"-"+string(other)]
			switch {
			case b == nil:
			case !pairs:
				f.Add(b)
			case other != exporter.Dense && seeds[a+"-dense"] != nil:
				f.Add(seeds[a+"-dense"], b)
			}
		}
	}
}

// checkParsed holds for every model Parse accepts: it summarises, every initializer's
// values can be read, the summary is valid JSON, and it survives a marshal round trip
// with an identical summary.
func checkParsed(t *testing.T, data []byte) *onnx.Summary {
	m, err := onnx.Parse(data, "fuzz.onnx")
	if err != nil {
		if !strings.Contains(err.Error(), "fuzz.onnx") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return nil
	}
	s, err := onnx.Summarize(m)
	if err != nil {
		t.Fatalf("Parse accepted a model Summarize refuses: %v", err)
	}
	for _, is := range s.Initializers {
		v, _, err := onnx.Values(m, is.Name)
		if err != nil {
			t.Fatalf("initializer %q: %v", is.Name, err)
		}
		if int64(len(v)) != is.Numel {
			t.Fatalf("initializer %q: %d values, summary says %d", is.Name, len(v), is.Numel)
		}
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("summary JSON: %v", err)
	}
	again, err := onnx.Marshal(m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	m2, err := onnx.Parse(again, "again.onnx")
	if err != nil {
		t.Fatalf("re-marshalled model does not parse: %v", err)
	}
	s2, err := onnx.Summarize(m2)
	if err != nil {
		t.Fatal(err)
	}
	if d := onnx.Diff(s, s2); len(d) > 0 {
		t.Fatalf("round trip changed the summary: %v", d)
	}
	return s
}

// FuzzParse: the reader (Parse, Validate, Values, Summarize) on arbitrary bytes never
// panics or allocates beyond its limits, names the file in every error, and what it
// accepts is self-consistent.
func FuzzParse(f *testing.F) {
	addExportSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		if s := checkParsed(t, data); s != nil {
			if d := onnx.Diff(s, s); len(d) > 0 {
				t.Fatalf("a summary differs from itself: %v", d)
			}
		}
	})
}

// FuzzDiff: Diff of any two accepted models is symmetric in what it finds and prints.
func FuzzDiff(f *testing.F) {
	addExportSeeds(f, true)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sa, sb := checkParsed(t, a), checkParsed(t, b)
		if sa == nil || sb == nil {
			return
		}
		ab, ba := onnx.Diff(sa, sb), onnx.Diff(sb, sa)
		if len(ab) != len(ba) {
			t.Fatalf("Diff(a, b) has %d changes, Diff(b, a) %d", len(ab), len(ba))
		}
		for _, c := range ab {
			_ = c.String()
		}
	})
}

// FuzzShapeText: a shape's text form (as JSON reports hold it) parses without panicking,
// and parsing what String prints gives the same shape back.
func FuzzShapeText(f *testing.F) {
	for _, s := range []string{"?", "[]", "[N 3 28 28]", "[1 10]", "[batch -1 0]", "[", "]", "[N  3]", "[9223372036854775808]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var s onnx.Shape
		if err := s.UnmarshalText([]byte(text)); err != nil {
			return
		}
		var back onnx.Shape
		if err := back.UnmarshalText([]byte(s.String())); err != nil {
			t.Fatalf("%q parsed as %v, whose text %q does not parse: %v", text, s, s.String(), err)
		}
		if back.String() != s.String() {
			t.Fatalf("%q: %q then %q", text, s.String(), back.String())
		}
	})
}
