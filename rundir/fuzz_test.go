package rundir

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The run-directory readers take files from anywhere (a copied run, a CI artefact): they
// must return an error, never panic, and what they accept must survive a round trip.
// Seeds in testdata/fuzz come from a real run of the tiny fixture.

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(configJSON))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("accepted config does not encode: %v", err)
		}
		c2, err := ParseConfig(b)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, c, c2)
		}
	})
}

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("{\"stage\":\"prune\",\"iter\":1,\"kept\":0.5}\n{\"stage\":\"finetune\",\"iter\":2}\n"))
	f.Add([]byte("{\"stage\":\"prune\",\"iter\":1}\n{\"stage\":\"fine"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cut := WholeRows(data)
		if cut < 0 || cut > len(data) || cut > 0 && data[cut-1] != '\n' || bytes.IndexByte(data[cut:], '\n') >= 0 {
			t.Fatalf("WholeRows = %d of %d bytes", cut, len(data))
		}
		rows, err := ParseMetrics(data)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Line < 1 || r.Iter < 0 || bytes.IndexByte(r.Raw, '\n') >= 0 {
				t.Fatalf("row %+v", r)
			}
			again, err := ParseMetrics(r.Raw)
			if err != nil || len(again) != 1 {
				t.Fatalf("row %q does not parse alone: %v", r.Raw, err)
			}
		}
	})
}

func FuzzParseSummary(f *testing.F) {
	f.Add([]byte(`{"vanilla":{"valid":{"accuracy":0.5,"samples":2,"correct":1},"test":{"accuracy":0.4,"samples":5,"correct":2}},"kept_ratio":0.1,"mined":{"flagged":3,"precision":1,"recall":0.5},"stage_seconds":{"prune":2}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSummary(data)
		if err != nil {
			return
		}
		if s.KeptRatio < 0 || s.KeptRatio > 1 || s.Vanilla.Test.Correct > s.Vanilla.Test.Samples {
			t.Fatalf("accepted %+v", s)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("accepted summary does not encode: %v", err)
		}
		if _, err := ParseSummary(b); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}
