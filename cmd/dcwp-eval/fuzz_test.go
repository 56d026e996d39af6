package main

import (
	"errors"
	"testing"

	"github.com/dcwp-go/dcwp/internal/exit"
)

// FuzzParseBatches: --batch never panics; what it accepts is a non-empty list of sizes
// in [1, maxBatch], and what it refuses is bad input (exit 2).
func FuzzParseBatches(f *testing.F) {
	for _, s := range []string{"256", "256,1,64", " 1 , 2 ", "", ",", "0", "-1", "50000000", "1e3", "NaN", "9223372036854775808", "1,,2", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := parseBatches(s)
		if err != nil {
			var u *exit.UsageError
			if !errors.As(err, &u) {
				t.Fatalf("%q: error %v is not bad input", s, err)
			}
			return
		}
		if len(bs) == 0 {
			t.Fatalf("%q: accepted with no batch size", s)
		}
		for _, b := range bs {
			if b < 1 || b > maxBatch {
				t.Fatalf("%q: accepted batch size %d", s, b)
			}
		}
	})
}
