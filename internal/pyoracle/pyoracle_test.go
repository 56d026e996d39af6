package pyoracle

import "testing"

func TestJSONRoundTrip(t *testing.T) {
	var got map[string]float64
	JSON(t, map[string]float64{"x": 1.5}, &got, "-c", "import json, sys; d = json.load(sys.stdin); print(json.dumps({'y': d['x'] * 2}))")
	if got["y"] != 3 {
		t.Fatalf("oracle answered %v, want y = 3", got)
	}
}
