// Package progress is the one progress display of the commands: a bar when the output is a
// terminal, plain periodic lines when it is a log or a pipe, nothing when quiet. A display is
// safe to use from many goroutines.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode chooses how progress is shown.
type Mode int

const (
	Auto  Mode = iota // a bar when the writer is a terminal, else lines
	Lines             // plain lines, even on a terminal (logs kept from an interactive run)
	Quiet             // nothing
)

// Terminal is the one rule for "is this a terminal": a bar is drawn only on an *os.File
// that is one; anything else (a buffer, a pipe, a file) gets lines.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Options of one display.
type Options struct {
	Name  string // first word of every line and the bar's label ("pretrain", "cmnist")
	Unit  string // what is counted, shown after the count ("images"); "" says nothing and rates "it/s"
	Total int
	Start int // already done before this display (a resumed loop)
	Mode  Mode
	// Header, in line mode, writes "<name>: <total> <unit> (from <start>)" first.
	Header bool
	// Line mode writes a line each time the count has moved by Every·Total (default 5 %),
	// or Interval has passed (default 30 s) since the last one, and at the total; none but
	// the last before Delay has passed (so a short job writes one line).
	Every    float64
	Interval time.Duration
	Delay    time.Duration
}

// Display shows the progress of one counted job.
type Display struct {
	o    Options
	w    io.Writer
	now  func() time.Time // the clock; tests replace it
	bar  *progressbar.ProgressBar
	mu   sync.Mutex
	done int
	note string

	start, lastAt time.Time
	lastDone      int
	everyCount    int
	ended         bool // the line of the total is written
}

// New starts a display on w (nil is quiet).
func New(w io.Writer, o Options) *Display {
	return newAt(w, o, time.Now)
}

func newAt(w io.Writer, o Options, now func() time.Time) *Display {
	if w == nil {
		o.Mode = Quiet
	}
	if o.Every <= 0 {
		o.Every = 0.05
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	d := &Display{o: o, w: w, now: now, done: o.Start, lastDone: o.Start,
		everyCount: max(int(o.Every*float64(o.Total)), 1)}
	d.start, d.lastAt = now(), now()
	switch {
	case o.Mode == Quiet:
	case o.Mode == Auto && Terminal(w):
		d.bar = d.newBar()
	case o.Header:
		fmt.Fprintf(w, "%s: %d %s (from %d)\n", o.Name, o.Total, d.unit("iterations"), o.Start)
	}
	return d
}

func (d *Display) newBar() *progressbar.ProgressBar {
	opts := []progressbar.Option{progressbar.OptionSetWriter(d.w), progressbar.OptionSetDescription(d.o.Name),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200 * time.Millisecond), progressbar.OptionClearOnFinish()}
	if d.o.Unit != "" {
		opts = append(opts, progressbar.OptionSetItsString(d.o.Unit))
	}
	b := progressbar.NewOptions(d.o.Total, opts...)
	b.Set(d.o.Start)
	return b
}

func (d *Display) unit(none string) string {
	if d.o.Unit == "" {
		return none
	}
	return d.o.Unit
}

// Set says that done of the total are done; note (may be "") follows the count, e.g. "loss 0.1234".
func (d *Display) Set(done int, note string) {
	if d.o.Mode == Quiet {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done, d.note = done, note
	d.show()
}

// Add says that n more are done.
func (d *Display) Add(n int) {
	if d.o.Mode == Quiet {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done += n
	d.show()
}

// show updates the bar or writes a line when one is due; d.mu is held.
func (d *Display) show() {
	if d.bar != nil {
		if d.note != "" {
			d.bar.Describe(d.o.Name + " " + d.note)
		}
		d.bar.Set(d.done)
		return
	}
	now := d.now()
	end := d.done >= d.o.Total
	due := d.done-d.lastDone >= d.everyCount || now.Sub(d.lastAt) >= d.o.Interval
	switch {
	case end && d.ended:
		return // the total's line is written once
	case end:
		d.ended = true
	case !due || now.Sub(d.start) < d.o.Delay:
		return
	}
	d.lastAt, d.lastDone = now, d.done
	fmt.Fprintln(d.w, d.line(now))
}

// line is "<name> <done>/<total>[ unit][ note] (<pct>%, <rate> <unit>/s, <eta>s left)".
func (d *Display) line(now time.Time) string {
	s := fmt.Sprintf("%s %d/%d", d.o.Name, d.done, d.o.Total)
	if d.o.Unit != "" {
		s += " " + d.o.Unit
	}
	if d.note != "" {
		s += " " + d.note
	}
	s += fmt.Sprintf(" (%.0f%%", 100*float64(d.done)/float64(max(d.o.Total, 1)))
	if el := now.Sub(d.start).Seconds(); el > 0 && d.done > d.o.Start {
		rate := float64(d.done-d.o.Start) / el
		s += fmt.Sprintf(", %.1f %s/s, %.0fs left", rate, d.unit("it"), float64(d.o.Total-d.done)/rate)
	}
	return s + ")"
}

// Finish ends the display: a finished bar is cleared, an unfinished one is left as it
// stands, on a line of its own. Lines need no ending.
func (d *Display) Finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar == nil {
		return
	}
	if d.done >= d.o.Total {
		d.bar.Finish()
	} else {
		d.bar.Exit()
		fmt.Fprintln(d.w)
	}
	d.bar = nil
}

// Staged is a display for a job told about in stages, each with its own count (dcwp-eval's
// "batch 1", "batch 32"): a new stage ends the display of the last.
type Staged struct {
	w     io.Writer
	o     Options // Name is prefixed to every stage's name
	stage string
	d     *Display
}

// NewStaged returns a staged display on w; o.Total and o.Start are set per stage.
func NewStaged(w io.Writer, o Options) *Staged { return &Staged{w: w, o: o} }

// Update says that done of the stage's total are done.
func (s *Staged) Update(stage string, done, total int) {
	if s.d == nil || stage != s.stage {
		s.Finish()
		o := s.o
		o.Name, o.Total, o.Start = s.o.Name+stage, total, 0
		s.stage, s.d = stage, New(s.w, o)
	}
	s.d.Set(done, "")
}

// Finish ends the current stage's display.
func (s *Staged) Finish() {
	if s.d != nil {
		s.d.Finish()
		s.d = nil
	}
}
