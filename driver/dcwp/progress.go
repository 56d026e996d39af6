package dcwp

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a bar on a terminal, else a line every ~5 % or 30 s.
type progress struct {
	r          *runner
	name       string
	total      int
	bar        *progressbar.ProgressBar
	last       time.Time
	lastIt     int
	start      time.Time
	startIt    int
	everyIters int
}

func (r *runner) newProgress(name string, total, start int) *progress {
	p := &progress{r: r, name: name, total: total, last: time.Now(), start: time.Now(), startIt: start, lastIt: start,
		everyIters: max(total/20, 1)}
	if r.o.Bar {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(r.o.Log),
			progressbar.OptionSetDescription(name), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
		p.bar.Set(start)
	} else {
		r.logf("%s: %d iterations (from %d)", name, total, start)
	}
	return p
}

func (p *progress) add(it int, loss float64) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s loss %.4f", p.name, loss))
		p.bar.Set(it)
		return
	}
	if it-p.lastIt >= p.everyIters || time.Since(p.last) > 30*time.Second || it == p.total {
		el := time.Since(p.start).Seconds()
		rate := float64(it-p.startIt) / el
		eta := float64(p.total-it) / rate
		p.r.logf("%s %d/%d loss %.4f (%.1f it/s, %.0fs left)", p.name, it, p.total, loss, rate, eta)
		p.last, p.lastIt = time.Now(), it
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.r.o.Log)
		p.bar = nil
	}
}
