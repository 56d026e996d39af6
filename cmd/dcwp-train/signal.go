package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/sweep"
)

// stopper ends a training run on SIGINT or SIGTERM with a word, where the run stopped and
// the command that continues it, and the exit code a shell gives for the signal (130,
// 143). It stops the run as a kill would: every file of the run is written whole
// (atomically), and --resume continues from the last checkpoint.
type stopper struct {
	w     io.Writer
	out   string
	every int // iterations between checkpoints
	sigs  chan os.Signal
	done  chan struct{}
	mu    sync.Mutex
	loop  string // the training loop of the last iteration, "" before the first
	iter  int
}

// stopOnSignal starts watching for the signals until stop is called.
func stopOnSignal(w io.Writer, out string, every int) *stopper {
	s := &stopper{w: w, out: out, every: every, sigs: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-s.sigs:
			s.mu.Lock() // held to the end: no iteration is recorded after the word
			fmt.Fprintln(s.w, s.word(sig))
			os.Exit(exit.Signal(sig.(syscall.Signal)))
		case <-s.done:
		}
	}()
	return s
}

// afterIter records each finished training iteration (dcwp.Options.AfterIter).
func (s *stopper) afterIter(loop string, iter int) {
	s.mu.Lock()
	s.loop, s.iter = loop, iter
	s.mu.Unlock()
}

func (s *stopper) stop() {
	signal.Stop(s.sigs)
	close(s.done)
}

// word says where the run stopped and how to go on.
func (s *stopper) word(sig os.Signal) string {
	name := map[os.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
	where := "before its first training iteration"
	if s.loop != "" {
		where = fmt.Sprintf("in %s after iteration %d (checkpoints every %d iterations)", s.loop, s.iter, s.every)
	}
	msg := fmt.Sprintf("dcwp-train: stopped by %s %s; ", name, where)
	if _, err := os.Stat(filepath.Join(s.out, rundir.ConfigFile)); err != nil {
		return msg + "nothing of the run was written yet: run the same command again to start it"
	}
	from := "from its last checkpoint"
	if _, err := os.Stat(filepath.Join(s.out, rundir.CheckpointDir)); err != nil {
		from = "from the beginning (no checkpoint was written yet)"
	}
	return msg + fmt.Sprintf("continue %s with: dcwp-train --out %s --resume", from, sweep.Quote(s.out))
}
