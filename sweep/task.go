package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
)

// Slot is what a launcher gives one run: its libtorch threads and device.
type Slot struct {
	Threads int
	Device  string // "" keeps the plan's
}

// Exec starts runs as dcwp-train processes.
type Exec struct {
	Train    []string // the command that is dcwp-train ([path of the binary])
	SlurmJob string   // "<array job>_<task>" when run as a Slurm task
}

// Do runs r (continuing it with --resume when it has started) and returns its status
// after. A run already done is left alone. Cancelling ctx stops dcwp-train with SIGTERM:
// its checkpoints let a later --resume continue.
func (e Exec) Do(ctx context.Context, out string, r Run, slot Slot) Status {
	st := Inspect(out, r)
	switch st.State {
	case Done, Differs:
		return st
	}
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return e.broken(st, err)
	}
	args := append(append(append([]string(nil), e.Train[1:]...), r.Args...), "--out", st.Dir, "--no-progress")
	if slot.Threads > 0 {
		args = append(args, "--threads", strconv.Itoa(slot.Threads))
	}
	if slot.Device != "" {
		args = append(args, "--device", slot.Device)
	}
	resumed := st.Started()
	if resumed {
		args = append(args, "--resume")
	}
	logPath := filepath.Join(st.Dir, LogFile)
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return e.broken(st, err)
	}
	defer log.Close()
	fmt.Fprintf(log, "== dcwp-train sweep %s, run %d (%s): %s %s\n", time.Now().Format(time.DateTime), r.Index, r.Name,
		e.Train[0], strings.Join(args, " "))
	cmd := exec.Command(e.Train[0], args...)
	cmd.Stdout, cmd.Stderr = log, log
	// The run dies with the sweep (SIGTERM: it says where it stopped): a run left going
	// would finish unrecorded, or run beside the rerun that continues it. Linux sends
	// Pdeathsig when the thread that started the child exits, so that thread is held
	// until the child has been waited for.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(log, "== cannot start dcwp-train: %v\n", err)
		return e.broken(st, err)
	}
	host, _ := os.Hostname()
	t := Task{State: Running, Host: host, PID: cmd.Process.Pid, SlurmJob: e.SlurmJob, Started: time.Now(), Resumed: resumed}
	if err := atomicfile.WriteJSON(filepath.Join(st.Dir, TaskFile), t); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return e.broken(st, err)
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Signal(syscall.SIGTERM) })
	err = cmd.Wait()
	stop()
	end := time.Now()
	t.Ended, t.State, t.ExitCode = &end, Done, cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil || errors.As(err, &ee) && (ee.ProcessState.ExitCode() < 0 || exit.Signalled(ee.ProcessState.ExitCode())):
		t.State = Cancelled
	case err != nil:
		t.State = Failed
	}
	fmt.Fprintf(log, "== %s after %s (exit status %d)\n", t.State, end.Sub(t.Started).Round(time.Second), t.ExitCode)
	if err := atomicfile.WriteJSON(filepath.Join(st.Dir, TaskFile), t); err != nil {
		return e.broken(st, err)
	}
	return Inspect(out, r)
}

// broken is the status of a run the sweep could not start or record.
func (e Exec) broken(st Status, err error) Status {
	st.State, st.Detail = Failed, err.Error()
	return st
}
