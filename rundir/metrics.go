package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// MetricRow is one row of metrics.jsonl: the decoded Metric and the bytes it was read from
// (without the newline), so a rewrite can keep the rows it does not drop byte for byte.
type MetricRow struct {
	Metric
	Raw  []byte
	Line int // 1-based
}

// ParseMetrics decodes the rows of a metrics.jsonl file's content. Blank lines are skipped;
// a row that is not a JSON object, or a last row cut short (no newline and not valid JSON:
// a write a kill interrupted), is an error naming its line.
func ParseMetrics(data []byte) ([]MetricRow, error) {
	var rows []MetricRow
	for n := 1; len(data) > 0; n++ {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m Metric
		if err := json.Unmarshal(line, &m); err != nil {
			return rows, &MetricsError{Line: n, Err: err}
		}
		if m.Iter < 0 {
			return rows, &MetricsError{Line: n, Err: fmt.Errorf("iteration %d is negative", m.Iter)}
		}
		rows = append(rows, MetricRow{Metric: m, Raw: line, Line: n})
	}
	return rows, nil
}

// MetricsError is a bad row of metrics.jsonl.
type MetricsError struct {
	Line int
	Err  error
}

func (e *MetricsError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *MetricsError) Unwrap() error { return e.Err }

// MaxMetricsFile bounds metrics.jsonl: a row is about 200 bytes, a run writes one per
// evaluation, so a gigabyte is millions of evaluations.
const MaxMetricsFile = 1 << 30

// ReadMetrics reads the metrics.jsonl file at path; errors name the file and the line.
func ReadMetrics(path string) ([]Metric, error) {
	data, err := readlimit.ReadFile(path, MaxMetricsFile)
	if err != nil {
		return nil, err
	}
	rows, err := ParseMetrics(data)
	if err != nil {
		var me *MetricsError
		if errors.As(err, &me) {
			return nil, fmt.Errorf("%s:%d: %w", path, me.Line, me.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ms := make([]Metric, len(rows))
	for i, r := range rows {
		ms[i] = r.Metric
	}
	return ms, nil
}

// WholeRows is the length of the longest prefix of data that ends with a whole row (a
// newline): where to cut a metrics.jsonl that a kill left with a partial last row.
func WholeRows(data []byte) int {
	return bytes.LastIndexByte(data, '\n') + 1
}
