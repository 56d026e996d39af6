package main

import (
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
)

// The per-class line names the network it is of and the classes by name (indices where the
// run has none), a class without test samples shown as "-".
func TestSummaryPerClass(t *testing.T) {
	acc := func(v ...float64) rundir.Eval {
		return rundir.Eval{Test: metrics.Accuracy{PerClass: v, GroupsUnavailable: metrics.NoBias}}
	}
	dcwp := acc(0.5, -1, 1)
	cases := []struct {
		name  string
		sum   rundir.Summary
		names []string
		want  string
	}{
		{"dcwp, named", rundir.Summary{Vanilla: acc(0, 0, 0), DCWP: &dcwp}, []string{"bird", "cat", "dog"},
			"dcwp per-class test accuracy %: bird:50.0 cat:- dog:100.0\n"},
		{"vanilla, indices", rundir.Summary{Vanilla: acc(0.25, 0.75)}, nil, "vanilla per-class test accuracy %: 0:25.0 1:75.0\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			printSummary(&b, &c.sum, c.names)
			if !strings.Contains(b.String(), c.want) {
				t.Fatalf("summary\n%s\nlacks %q", b.String(), c.want)
			}
		})
	}
}
