package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/rundir"
)

// Files the sweep adds to a run directory.
const (
	TaskFile = "sweep-task.json" // Task: who runs or ran the run, and how it ended
	LogFile  = "train.log"       // dcwp-train's output, every attempt appended
)

// State is where a run of a plan stands.
type State string

const (
	Pending     State = "pending"     // not started
	Queued      State = "queued"      // waiting in Slurm's queue
	Running     State = "running"     // a process is at it
	Done        State = "done"        // summary.json written, config as planned (whatever the task file says)
	Failed      State = "failed"      // dcwp-train exited non-zero
	Cancelled   State = "cancelled"   // stopped by a signal (scancel, Ctrl-C)
	Interrupted State = "interrupted" // started, not finished, nobody at it (killed)
	Differs     State = "differs"     // its folder holds a run of other settings
)

// Task is sweep-task.json: the last attempt at a run.
type Task struct {
	State    State      `json:"state"` // running, done, failed or cancelled
	Host     string     `json:"host"`
	PID      int        `json:"pid"`
	SlurmJob string     `json:"slurm_job,omitempty"` // "<array job>_<task>"
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended,omitempty"`
	ExitCode int        `json:"exit_code"`
	Resumed  bool       `json:"resumed,omitempty"`
}

// Status is a run's state as its folder tells it.
type Status struct {
	Run    Run
	Dir    string
	State  State
	Log    string // the run's log, "" when it never started
	Detail string // why (the differing setting, the exit code), "" when nothing to add
	Task   *Task
}

// Inspect reads run r's state from its folder under out.
func Inspect(out string, r Run) Status {
	dir := Dir(out, r)
	s := Status{Run: r, Dir: dir, State: Pending}
	if _, err := os.Stat(filepath.Join(dir, LogFile)); err == nil {
		s.Log = filepath.Join(dir, LogFile)
	}
	var t Task
	if err := atomicfile.ReadJSON(filepath.Join(dir, TaskFile), &t); err == nil {
		s.Task = &t
	}
	cfg, err := rundir.ReadConfig(dir)
	started := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		s.State, s.Detail = Differs, err.Error()
		return s
	case started:
		if d := ConfigDiff(cfg, r.Config); d != "" {
			s.State, s.Detail = Differs, d
			return s
		}
		// summary.json is the run's last file of record: a run that wrote it is done, whatever
		// its task file says (a sweep killed while its run went on never marked it done).
		if _, err := os.Stat(filepath.Join(dir, rundir.SummaryFile)); err == nil {
			s.State = Done
			return s
		}
	}
	if s.Task != nil {
		s.fromTask()
		return s
	}
	if started {
		s.State, s.Detail = Interrupted, "started, never finished"
	}
	return s
}

func (s *Status) fromTask() {
	t := s.Task
	switch t.State {
	case Running:
		if host, _ := os.Hostname(); host == t.Host && !alive(t.PID) {
			s.State, s.Detail = Interrupted, fmt.Sprintf("its process %d on %s is gone", t.PID, t.Host)
			return
		}
		s.State = Running
		s.Detail = fmt.Sprintf("pid %d on %s since %s", t.PID, t.Host, t.Started.Format(time.DateTime))
	case Failed:
		s.State, s.Detail = Failed, fmt.Sprintf("dcwp-train exited with status %d", t.ExitCode)
	case Cancelled:
		s.State, s.Detail = Cancelled, "stopped by a signal"
	default: // a done task whose summary is gone
		s.State, s.Detail = Interrupted, "marked done, but summary.json is missing"
	}
	if t.SlurmJob != "" {
		s.Detail += ", slurm job " + t.SlurmJob
	}
}

// alive reports whether a process of this pid exists here and has not exited: a zombie
// (killed, not yet reaped: a container's init may never reap it) is gone.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// "pid (comm) S ...": the state follows the last ')', comm may hold anything
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

// Started reports whether the run's folder holds a run that has begun (a config.json):
// continuing it needs --resume.
func (s Status) Started() bool {
	_, err := os.Stat(filepath.Join(s.Dir, rundir.ConfigFile))
	return err == nil
}

// HasCheckpoint reports whether continuing the run would keep some of its training.
func (s Status) HasCheckpoint() bool {
	_, err := os.Stat(filepath.Join(s.Dir, rundir.CheckpointDir))
	return err == nil
}

// InspectAll is every run's status, in plan order.
func InspectAll(out string, p *Plan) []Status {
	st := make([]Status, len(p.Runs))
	for i, r := range p.Runs {
		st[i] = Inspect(out, r)
	}
	return st
}
