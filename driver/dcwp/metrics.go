package dcwp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/readlimit"
	"github.com/dcwp-go/dcwp/rundir"
)

// metricsLog is the run's metrics.jsonl as the trainer writes it: one rundir.Metric a row,
// appended as training goes, only ever whole rows. Before it is opened for appending, a
// fresh run removes it, a resumed run cuts it back to the checkpoint and a rerun drops the
// rows of the stages it replaces.
type metricsLog struct {
	path string
	f    *os.File // nil until open
}

// remove deletes the file: a fresh run starts with no rows.
func (m *metricsLog) remove() error {
	if err := os.Remove(m.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// truncate drops the rows written after the checkpoint being resumed (size: the file's
// length then), and a partial last row: a file cut shorter than it was at the checkpoint (a
// kill during a copy, a full disk) keeps its whole rows, so the rows the resumed run appends
// start on a line of their own. warn says what was lost.
func (m *metricsLog) truncate(size int64, warn func(format string, args ...any)) error {
	data, err := readlimit.ReadFile(m.path, rundir.MaxMetricsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	keep := int64(rundir.WholeRows(data[:min(int64(len(data)), size)]))
	if keep < size {
		warn("warning: %s holds %d whole bytes of rows, not the %d it had at the checkpoint: rows after byte %d are lost",
			m.path, keep, size, keep)
	}
	if int64(len(data)) > keep {
		return os.Truncate(m.path, keep)
	}
	return nil
}

// dropFrom removes the rows that the stages first, first+1, … of the pipeline wrote (a
// row's stage is the loop that wrote it: rundir.LoopStage), keeping the others byte for byte.
func (m *metricsLog) dropFrom(first int) error {
	data, err := readlimit.ReadFile(m.path, rundir.MaxMetricsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	rows, err := rundir.ParseMetrics(data[:rundir.WholeRows(data)]) // a partial last row is a cut write
	if err != nil {
		return fmt.Errorf("%s %w", m.path, err)
	}
	return atomicfile.Write(m.path, func(w *bufio.Writer) error {
		for _, row := range rows {
			if rundir.LoopStage(row.Stage) < first {
				w.Write(row.Raw)
				w.WriteByte('\n')
			}
		}
		return nil
	})
}

// open opens the file for appending, creating it when there is none.
func (m *metricsLog) open() error {
	f, err := os.OpenFile(m.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.f = f
	return nil
}

// append writes one row. A row that only part fits (a full disk) is taken back, so the file
// never ends in a row cut short.
func (m *metricsLog) append(row rundir.Metric) error {
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	if n, err := m.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", m.path, errors.Join(err, m.unappend(n)))
	}
	return nil
}

// unappend takes back the n bytes a failed append wrote.
func (m *metricsLog) unappend(n int) error {
	if n == 0 {
		return nil
	}
	st, err := m.f.Stat()
	if err != nil {
		return err
	}
	return m.f.Truncate(st.Size() - int64(n))
}

// synced flushes the rows to disk and returns the file's length, for the checkpoint to
// record: a resumed run cuts the file back to it.
func (m *metricsLog) synced() (int64, error) {
	if err := m.f.Sync(); err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	st, err := m.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return st.Size(), nil
}

// close closes the file if it is open.
func (m *metricsLog) close() error {
	if m.f == nil {
		return nil
	}
	return m.f.Close()
}
