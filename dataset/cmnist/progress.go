package cmnist

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal and plain periodic lines elsewhere.
// Add is cheap and safe from many goroutines.
type progress struct {
	done  atomic.Int64
	total int64
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{total: int64(total), stop: make(chan struct{})}
	if w == nil || total <= 0 {
		return p
	}
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		start := time.Now()
		if tty {
			bar := progressbar.NewOptions64(p.total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("cmnist"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("img"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					bar.Set64(p.done.Load())
				case <-p.stop:
					bar.Set64(p.done.Load())
					if p.done.Load() >= p.total {
						bar.Finish()
					} else {
						fmt.Fprintln(w)
					}
					return
				}
			}
		}
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		line := func() {
			d := p.done.Load()
			fmt.Fprintf(w, "cmnist: %d/%d images (%.0f%%) %.1fs\n", d, p.total, 100*float64(d)/float64(p.total), time.Since(start).Seconds())
		}
		for {
			select {
			case <-t.C:
				line()
			case <-p.stop:
				line()
				return
			}
		}
	}()
	return p
}

func (p *progress) Add(n int) { p.done.Add(int64(n)) }

// Finish stops the display (idempotent).
func (p *progress) Finish() {
	p.once.Do(func() { close(p.stop); p.wg.Wait() })
}
