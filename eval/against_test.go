package eval

import (
	"reflect"
	"testing"
)

func TestAgainstFirst(t *testing.T) {
	r := func(model string, batch int, sps, p50 float64, file, params int64) BenchResult {
		return BenchResult{Model: model, FileBytes: file, ParamsTotal: params,
			Timing: Timing{Batch: batch, ThroughputSPS: sps, LatencyMsP50: p50}}
	}
	cases := []struct {
		name string
		res  []BenchResult
		want []Against
	}{
		{"none", nil, nil},
		{"one model", []BenchResult{r("d", 1, 10, 1, 100, 50)}, nil},
		{"dense then compact", []BenchResult{r("d", 1, 1000, 1, 400, 100), r("d", 256, 2e5, 1.28, 400, 100),
			r("c", 1, 2000, 0.5, 100, 25), r("c", 256, 5e5, 0.512, 100, 25)},
			[]Against{{Model: "c", Batch: 1, Throughput: 2, Latency: 2, File: 0.25, Params: 0.25},
				{Model: "c", Batch: 256, Throughput: 2.5, Latency: 2.5, File: 0.25, Params: 0.25}}},
		{"a batch the first lacks", []BenchResult{r("d", 1, 1000, 1, 400, 100), r("c", 64, 2000, 0.5, 100, 25)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AgainstFirst(c.res); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
