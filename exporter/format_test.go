package exporter

import (
	"strings"
	"testing"
)

// TestFormatTable checks the rows every list of formats is read from: unique names, the
// default first, a help line and a weight writer each, and ParseFormat accepting exactly
// the table's names.
func TestFormatTable(t *testing.T) {
	if fs := Formats(); len(fs) == 0 || fs[0] != Dense {
		t.Fatalf("Formats() = %v, want the default %q first", fs, Dense)
	}
	seen := map[Format]bool{}
	for _, f := range table() {
		if seen[f.name] {
			t.Errorf("format %q listed twice", f.name)
		}
		seen[f.name] = true
		if f.help == "" || f.name.Help() != f.help || f.weights == nil {
			t.Errorf("format %q: help %q, weight writer set %v", f.name, f.help, f.weights != nil)
		}
		if got, err := ParseFormat(string(f.name)); err != nil || got != f.name {
			t.Errorf("ParseFormat(%q) = %q, %v", f.name, got, err)
		}
	}
	for _, bad := range []string{"", "Dense", "zip", "dense "} {
		_, err := ParseFormat(bad)
		if err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
			continue
		}
		for _, f := range Formats() {
			if !strings.Contains(err.Error(), string(f)) {
				t.Errorf("ParseFormat(%q): %v does not name %q", bad, err, f)
			}
		}
	}
	if Format("zip").Help() != "" {
		t.Error("an unknown format has a help line")
	}
	fs, got := Formats(), formatList()
	if n := len(fs); n > 2 && !strings.HasSuffix(got, ", "+string(fs[n-2])+" or "+string(fs[n-1])) {
		t.Errorf("formatList() = %q for %v", got, fs)
	}
}
