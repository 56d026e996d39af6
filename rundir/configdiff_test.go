package rundir

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// TestConfigDiff: the keys that differ, sorted, the ignored ones left out, and a key one
// configuration omits (omitempty) and the other holds counts, whichever side holds it.
func TestConfigDiff(t *testing.T) {
	var a Config
	if err := json.Unmarshal([]byte(configJSON), &a); err != nil {
		t.Fatal(err)
	}
	if d, err := ConfigDiff(a, a); err != nil || len(d) != 0 {
		t.Fatalf("a config against itself: %v, %v", d, err)
	}
	b := a
	b.Seed, b.Device, b.Threads, b.Precision = 3, "cuda", 0, "bf16"
	b.Pretrain.Iters++
	for _, c := range []struct {
		ignore []string
		want   []string
	}{
		{nil, []string{"device", "precision", "pretrain", "seed", "threads"}},
		{[]string{"device", "threads"}, []string{"precision", "pretrain", "seed"}},
		{[]string{"device", "threads", "precision", "pretrain", "seed"}, nil},
	} {
		for _, order := range [][2]Config{{a, b}, {b, a}} {
			d, err := ConfigDiff(order[0], order[1], c.ignore...)
			if err != nil || !slices.Equal(d, c.want) {
				t.Errorf("ignoring %v: %v, %v; want %v", c.ignore, d, err, c.want)
			}
		}
	}
	b = a
	b.Q = math.NaN()
	if _, err := ConfigDiff(a, b); err == nil {
		t.Error("a NaN setting compared without an error")
	}
}
