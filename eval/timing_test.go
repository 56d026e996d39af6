package eval

import (
	"testing"
	"time"
)

// Throughput is at the median latency, as the p50 column beside it (it was at the mean,
// which one slow run drags down); the mean's is kept beside it.
func TestTimingThroughputAtMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name             string
		pass             Pass
		p50, sps, spsAvg float64
	}{
		{"one slow run", Pass{Batch: 4, Samples: 12, Latencies: ms(1, 1, 10)}, 1, 4000, 1000},
		{"steady", Pass{Batch: 8, Samples: 16, Latencies: ms(2, 2)}, 2, 4000, 4000},
		{"a pass smaller than the batch", Pass{Batch: 256, Samples: 40, Latencies: ms(4)}, 4, 10000, 10000},
		{"no runs", Pass{Batch: 4}, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.pass.Timing()
			if got.LatencyMsP50 != c.p50 || got.ThroughputSPS != c.sps || got.ThroughputSPSMean != c.spsAvg {
				t.Fatalf("p50 %v ms, %v samples/s (mean's %v); want %v, %v (%v)", got.LatencyMsP50, got.ThroughputSPS, got.ThroughputSPSMean, c.p50, c.sps, c.spsAvg)
			}
		})
	}
}
