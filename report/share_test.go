package report

import (
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/fixture"
	"github.com/dcwp-go/dcwp/rundir"
)

// TestShareSpellingsGroup: config.json files that spell one share differently (runs made
// before the share had one text stored the flag as typed) are one group, shown and plotted
// at the canonical share; different shares stay apart.
func TestShareSpellingsGroup(t *testing.T) {
	var entries []Entry
	for i, pct := range []string{"1", "1.0", "1pct", "0.5"} {
		js := strings.Replace(fixture.ConfigJSON, `"conflict_pct":"1"`, `"conflict_pct":"`+pct+`"`, 1)
		cfg, err := rundir.ParseConfig([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", pct, err)
		}
		cfg.Seed = int64(i)
		entries = append(entries, Entry{Name: pct, Dir: pct, Config: cfg, Summary: &rundir.Summary{}})
	}
	tb := Build(entries)
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows, want 2 (1 %% and 0.5 %%)", len(tb.Rows))
	}
	for _, c := range []struct {
		row  int
		pct  string
		runs int
	}{{0, "1", 3}, {1, "0.5", 1}} {
		r := tb.Rows[c.row]
		if r.ConflictPct.String() != c.pct || value(r, "conflict_pct") != c.pct || len(r.Runs) != c.runs {
			t.Errorf("row %d: share %q (column %q), %d runs; want %s, %d", c.row, r.ConflictPct, value(r, "conflict_pct"), len(r.Runs), c.pct, c.runs)
		}
	}
}
