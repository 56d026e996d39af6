package rundir

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMinedJSONLeavesOutUnmeasured(t *testing.T) {
	for _, c := range []struct {
		m    Mined
		want []string // keys present
		not  []string // keys absent
	}{
		{Mined{Flagged: 5, Precision: 0.5, Recall: 0.25}, []string{`"precision":0.5`, `"recall":0.25`}, []string{"unscored"}},
		{Mined{Flagged: 5, Unscored: "no bias labels"}, []string{`"flagged":5`, `"unscored"`}, []string{"precision", "recall"}},
	} {
		b, err := json.Marshal(c.m)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range c.want {
			if !strings.Contains(string(b), k) {
				t.Errorf("%s lacks %s", b, k)
			}
		}
		for _, k := range c.not {
			if strings.Contains(string(b), k) {
				t.Errorf("%s has %s", b, k)
			}
		}
		var back Mined
		if err := json.Unmarshal(b, &back); err != nil || back != c.m {
			t.Errorf("read back %+v (%v), want %+v", back, err, c.m)
		}
	}
}
