package sweep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
)

// SlurmDir holds, in the sweep's folder, the submitted job arrays (JobsFile), their
// scripts and each task's own output; every run's log is in its folder.
const (
	SlurmDir = "slurm"
	JobsFile = "jobs.json"
)

// Slurm submits a sweep as one Slurm job array: task i runs run i of the plan.
type Slurm struct {
	Partition   string
	Time        string
	CPUs        int
	GRES        string
	MaxParallel int      // the array's % limit; 0 = none
	Args        []string // passed to sbatch as they are
	Train       []string // the command that is dcwp-train on the compute nodes
	Device      string   // every task's device ("" keeps the plan's)
	Resume      bool     // the tasks continue runs with a checkpoint
}

// Job is one submitted job array.
type Job struct {
	ID        string    `json:"id"`
	Indices   []int     `json:"indices"`
	Submitted time.Time `json:"submitted"`
}

// ErrNoSbatch is returned when sbatch is not on PATH.
var ErrNoSbatch = errors.New("sbatch not found on PATH: install Slurm's client (Debian: apt-get install slurm-client; " +
	"'bash tools/setup.sh slurm && just slurm-local' gives this machine a one-node Slurm), or use --launcher local")

// Submit submits the runs as one array and records it in out/slurm/jobs.json.
func (s Slurm) Submit(out string, todo []Status) (Job, error) {
	// Read first: a damaged jobs.json would otherwise be replaced by one holding only the
	// new array, and the earlier ones be lost to status and WaitSlurm.
	jobs, err := ReadJobs(out)
	if err != nil {
		return Job{}, fmt.Errorf("not submitting, the job arrays recorded there would be lost (repair or remove it): %w", err)
	}
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		return Job{}, exit.AsUsage(ErrNoSbatch)
	}
	dir := filepath.Join(out, SlurmDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Job{}, err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return Job{}, err
	}
	var idx []string
	job := Job{Submitted: time.Now()}
	for _, t := range todo {
		idx = append(idx, strconv.Itoa(t.Run.Index))
		job.Indices = append(job.Indices, t.Run.Index)
	}
	array := strings.Join(idx, ",")
	if s.MaxParallel > 0 {
		array += "%" + strconv.Itoa(s.MaxParallel)
	}
	script := filepath.Join(dir, "task.sh")
	if err := atomicfile.Write(script, func(w *bufio.Writer) error {
		_, err := fmt.Fprintf(w, "#!/bin/sh\n# one run of %s per array task (dcwp-train sweep --launcher slurm)\nexec %s\n",
			filepath.Join(abs, PlanFile), s.taskCommand(abs))
		return err
	}); err != nil {
		return Job{}, err
	}
	args := []string{"--parsable", "--job-name=dcwp-sweep", "--array=" + array,
		"--output=" + filepath.Join(abs, SlurmDir, "%A_%a.out"), "--chdir=" + abs}
	for flag, v := range map[string]string{"--partition=": s.Partition, "--time=": s.Time, "--gres=": s.GRES} {
		if v != "" {
			args = append(args, flag+v)
		}
	}
	if s.CPUs > 0 {
		args = append(args, "--cpus-per-task="+strconv.Itoa(s.CPUs))
	}
	args = append(append(args, s.Args...), script)
	cmd := exec.Command(sbatch, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	o, err := cmd.Output()
	if err != nil {
		return Job{}, fmt.Errorf("sbatch %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	job.ID, _, _ = strings.Cut(strings.TrimSpace(string(o)), ";") // --parsable: "id[;cluster]"
	if _, err := strconv.Atoi(job.ID); err != nil {
		return Job{}, fmt.Errorf("sbatch printed %q, not a job id", o)
	}
	return job, atomicfile.WriteJSON(filepath.Join(dir, JobsFile), append(jobs, job))
}

// taskCommand is the shell command of every task, the plan's index from Slurm.
func (s Slurm) taskCommand(out string) string {
	var q []string
	for _, a := range s.Train {
		q = append(q, Quote(a))
	}
	q = append(q, "sweep", "task", "--out", Quote(out), "--index", `"$SLURM_ARRAY_TASK_ID"`)
	if s.CPUs > 0 {
		q = append(q, "--threads", strconv.Itoa(s.CPUs))
	}
	if s.Device != "" {
		q = append(q, "--device", Quote(s.Device))
	}
	if s.Resume {
		q = append(q, "--resume")
	}
	return strings.Join(q, " ")
}

// ReadJobs reads out/slurm/jobs.json; none is an empty list.
func ReadJobs(out string) ([]Job, error) {
	var jobs []Job
	err := atomicfile.ReadJSON(filepath.Join(out, SlurmDir, JobsFile), &jobs)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return jobs, err
}

// Quote is s as one word for sh.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+%@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SlurmStates is what Slurm knows of the sweep's tasks, by plan index: squeue for the
// jobs it still holds (all states, while the controller remembers them), then sacct where
// accounting is on. Later submissions override earlier ones. ok is false when neither
// command answered (no Slurm here).
func SlurmStates(ctx context.Context, jobs []Job) (states map[int]string, ok bool) {
	byJob, ok := slurmByJob(ctx, jobs)
	return byJob.merged(jobs), ok
}

// jobStates is Slurm's word per job id, then per plan index.
type jobStates map[string]map[int]string

// merged is the state of each plan index, the later of jobs overriding the earlier.
func (b jobStates) merged(jobs []Job) map[int]string {
	states := map[int]string{}
	for _, j := range jobs {
		for i, s := range b[j.ID] {
			states[i] = s
		}
	}
	return states
}

// slurmByJob asks sacct, then squeue, for the jobs' tasks (two commands in all); ok as for
// SlurmStates.
func slurmByJob(ctx context.Context, jobs []Job) (byJob jobStates, ok bool) {
	byJob = jobStates{}
	if len(jobs) == 0 {
		return byJob, false
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	list := strings.Join(ids, ",")
	query := func(name string, args ...string) {
		o, err := exec.CommandContext(ctx, name, args...).Output()
		if err != nil {
			return
		}
		ok = true
		for _, line := range strings.Split(string(o), "\n") {
			f := strings.Fields(strings.ReplaceAll(line, "|", " "))
			if len(f) < 2 {
				continue
			}
			id, task, found := strings.Cut(f[0], "_")
			if i, err := strconv.Atoi(task); found && err == nil {
				if byJob[id] == nil {
					byJob[id] = map[int]string{}
				}
				byJob[id][i] = strings.TrimSuffix(f[1], "+")
			}
		}
	}
	// sacct first, squeue over it: the controller's view is the fresher.
	query("sacct", "-n", "-P", "-X", "-j", list, "-o", "JobID,State")
	query("squeue", "-h", "-r", "-t", "all", "-j", list, "-o", "%i %T")
	return byJob, ok
}

// Merge refines a run's status from the folder with Slurm's word for its task.
func Merge(s Status, slurm string) Status {
	switch {
	case slurm == "":
	case slurm == "PENDING" && s.State != Running && s.State != Done:
		s.State, s.Detail = Queued, "slurm "+slurm
	case slurm == "RUNNING" || slurm == "CONFIGURING" || slurm == "COMPLETING":
		if s.State != Done {
			s.State = Running
		}
		s.Detail = strings.TrimPrefix(s.Detail+", slurm "+slurm, ", ")
	case slurm == "CANCELLED" && s.State != Done:
		s.State, s.Detail = Cancelled, "slurm CANCELLED"
	case s.State != Done && (slurm == "FAILED" || slurm == "TIMEOUT" || slurm == "OUT_OF_MEMORY" || slurm == "NODE_FAIL" || slurm == "PREEMPTED"):
		s.State = Failed
		s.Detail = strings.TrimPrefix(s.Detail+", slurm "+slurm, ", ")
	default:
		s.Detail = strings.TrimPrefix(s.Detail+", slurm "+slurm, ", ")
	}
	return s
}

// Active reports whether Slurm still has the task to run or running.
func Active(slurm string) bool {
	switch slurm {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING":
		return true
	}
	return false
}
