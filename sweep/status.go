package sweep

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Overview is every run's status: its folder's, refined by Slurm's word where the sweep
// was submitted there and squeue or sacct answer.
func Overview(ctx context.Context, out string, p *Plan) ([]Status, error) {
	st, _, _, err := overview(ctx, out, p, nil)
	return st, err
}

// overview is Overview, and Slurm's word per job as it asked it (ok as SlurmStates'),
// extra among the jobs asked about when jobs.json lacks it.
func overview(ctx context.Context, out string, p *Plan, extra *Job) ([]Status, jobStates, bool, error) {
	st := InspectAll(out, p)
	jobs, err := ReadJobs(out)
	if err != nil {
		return nil, nil, false, err
	}
	if extra != nil && !slices.ContainsFunc(jobs, func(j Job) bool { return j.ID == extra.ID }) {
		jobs = append(jobs, *extra)
	}
	byJob, ok := slurmByJob(ctx, jobs)
	slurm := byJob.merged(jobs)
	for i := range st {
		st[i] = Merge(st[i], slurm[st[i].Run.Index])
	}
	return st, byJob, ok, nil
}

// Counts is how many runs are in each state.
func Counts(st []Status) map[State]int {
	n := map[State]int{}
	for _, s := range st {
		n[s.State]++
	}
	return n
}

// states in the order a summary line lists them.
var states = []State{Done, Running, Queued, Pending, Interrupted, Cancelled, Failed, Differs}

// CountLine is "12 runs: 3 done, 1 running, …", the states with runs only.
func CountLine(st []Status) string {
	n := Counts(st)
	var parts []string
	for _, s := range states {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return fmt.Sprintf("%d runs: %s", len(st), strings.Join(parts, ", "))
}

// PrintStatus writes one line per run (index, state, name, detail, log) and the counts.
func PrintStatus(w io.Writer, st []Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tstate\trun\tdetail\tlog")
	for _, s := range st {
		log := s.Log
		if log == "" {
			log = "-"
		}
		detail := s.Detail
		if detail == "" {
			detail = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.Run.Index, s.State, s.Run.Name, detail, log)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, CountLine(st))
	return err
}

// WaitSlurm follows a submitted array until Slurm holds none of its tasks, showing runs
// done, running and failed, and returns every run's status then.
func WaitSlurm(ctx context.Context, out string, p *Plan, job Job, o Options, poll time.Duration) ([]Status, error) {
	w := newWatch(o, len(job.Indices))
	defer w.finish()
	for {
		st, byJob, ok, err := overview(ctx, out, p, &job) // one sacct and one squeue a tick
		if err != nil {
			return nil, err
		}
		slurm := byJob[job.ID]
		active, done, failed, running := false, 0, 0, 0
		for _, i := range job.Indices {
			switch {
			case Active(slurm[i]):
				active = true
				if slurm[i] != "PENDING" {
					running++
				}
			case st[i].State == Done:
				done++
			default:
				failed++
			}
		}
		w.mu.Lock()
		w.done, w.failed, w.running = done, failed, running
		w.d.Set(done+failed, w.note())
		w.mu.Unlock()
		if !ok || !active { // !ok: the controller has forgotten the job, so it ended
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// PrintCommands writes, for the print launcher, one shell command per run: dcwp-train's
// sweep task, which any scheduler can start (GNU parallel, a Kubernetes Indexed Job).
func PrintCommands(w io.Writer, train []string, out string, todo []Status, resume bool) error {
	var prefix []string
	for _, a := range train {
		prefix = append(prefix, Quote(a))
	}
	for _, s := range todo {
		line := fmt.Sprintf("%s sweep task --out %s --index %d", strings.Join(prefix, " "), Quote(out), s.Run.Index)
		if resume {
			line += " --resume"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
