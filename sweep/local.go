package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/internal/progress"
)

// Options of one launch of a sweep.
type Options struct {
	Resume bool // continue runs that have a checkpoint
	Force  bool // start over runs whose folder holds other settings
	Log    io.Writer
	Mode   progress.Mode
}

// Todo is the runs of the plan a launch starts: not done, not running elsewhere. It
// refuses, before anything starts, a folder of other settings (unless Force: then the
// folder is emptied) and a run with a checkpoint unless Resume.
func Todo(out string, p *Plan, o Options) ([]Status, error) {
	var todo []Status
	var refused []string
	for _, s := range InspectAll(out, p) {
		switch {
		case s.State == Done, s.State == Running:
			continue
		case s.State == Differs && o.Force:
			fmt.Fprintf(o.Log, "sweep: %s held other settings (%s): starting it over (--force)\n", s.Dir, s.Detail)
			if err := os.RemoveAll(s.Dir); err != nil {
				return nil, fmt.Errorf("--force: %w", err)
			}
			s = Inspect(out, s.Run)
		case s.State == Differs:
			refused = append(refused, fmt.Sprintf("%s holds a run of other settings (%s): pass --force to start it over", s.Dir, s.Detail))
			continue
		case s.HasCheckpoint() && !o.Resume:
			refused = append(refused, fmt.Sprintf("%s is %s with a checkpoint (%s): pass --resume to continue it", s.Dir, s.State, s.Detail))
			continue
		}
		todo = append(todo, s)
	}
	if len(refused) > 0 {
		if len(refused) > 10 {
			refused = append(refused[:10], fmt.Sprintf("and %d more", len(refused)-10))
		}
		return nil, exit.Usagef("not starting the sweep:\n  %s", strings.Join(refused, "\n  "))
	}
	return todo, nil
}

// Local runs the sweep's runs as processes on this machine.
type Local struct {
	Jobs    int
	Threads int      // per run; 0 = the cores shared out between the jobs
	Devices []string // one per job slot, round-robin; nil keeps the plan's device
	Exec    Exec
}

// Slots checks jobs × threads against the cores and returns the threads per run.
func LocalThreads(jobs, threads int) (int, error) {
	cores := runtime.NumCPU()
	switch {
	case jobs < 1:
		return 0, exit.Usagef("--jobs %d: want at least 1", jobs)
	case jobs > cores:
		return 0, exit.Usagef("--jobs %d: this machine has %d cores (each job needs one)", jobs, cores)
	case threads == 0:
		return cores / jobs, nil
	case jobs*threads > cores:
		return 0, exit.Usagef("--jobs %d × --threads %d = %d threads, more than the %d cores", jobs, threads, jobs*threads, cores)
	}
	return threads, nil
}

// Run starts the runs, Jobs at a time, and returns every run's status when all have
// ended. A failed run does not stop the others. Cancelling ctx stops the running ones
// (their checkpoints stay for --resume) and starts no more.
func (l Local) Run(ctx context.Context, out string, todo []Status, o Options) []Status {
	w := newWatch(o, len(todo))
	defer w.finish()
	queue := make(chan int)
	results := make([]Status, len(todo))
	var wg sync.WaitGroup
	for slot := range l.Jobs {
		s := Slot{Threads: l.Threads}
		if len(l.Devices) > 0 {
			s.Device = l.Devices[slot%len(l.Devices)]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				w.started(todo[i])
				results[i] = l.Exec.Do(ctx, out, todo[i].Run, s)
				w.ended(results[i])
			}
		}()
	}
feed:
	for i := range todo {
		select {
		case queue <- i:
		case <-ctx.Done():
			for j := i; j < len(todo); j++ {
				results[j] = todo[j]
			}
			break feed
		}
	}
	close(queue)
	wg.Wait()
	return results
}

// watch shows a launch's progress: runs done, running and failed, and the time left.
type watch struct {
	o       Options
	d       *progress.Display
	mu      sync.Mutex
	running int
	failed  int
	done    int
	start   time.Time
}

func newWatch(o Options, total int) *watch {
	if o.Log == nil {
		o.Log = io.Discard
	}
	d := progress.New(o.Log, progress.Options{Name: "sweep", Unit: "runs", Total: total, Mode: o.Mode, Header: true, Every: 1e-9})
	return &watch{o: o, d: d, start: time.Now()}
}

func (w *watch) started(s Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running++
	w.d.Set(w.done+w.failed, w.note())
}

func (w *watch) ended(s Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running--
	if s.State == Done {
		w.done++
	} else {
		w.failed++
		fmt.Fprintf(w.o.Log, "sweep: run %s %s (%s); log %s\n", s.Run.Name, s.State, s.Detail, s.Log)
	}
	w.d.Set(w.done+w.failed, w.note())
}

func (w *watch) note() string {
	return fmt.Sprintf("(done %d, running %d, failed %d)", w.done, w.running, w.failed)
}

func (w *watch) finish() { w.d.Finish() }
