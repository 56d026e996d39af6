package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is one call on a display, after the clock has moved by after.
type step struct {
	after time.Duration
	done  int
	note  string
}

func TestLines(t *testing.T) {
	cases := []struct {
		name  string
		o     Options
		steps []step
		want  []string
	}{
		{"every 5 % and the total",
			Options{Name: "prune", Total: 40}, []step{{time.Second, 1, "loss 2"}, {time.Second, 2, "loss 1.5"}, {2 * time.Second, 4, "loss 1"}, {time.Second, 40, "loss 0.5"}},
			[]string{"prune 2/40 loss 1.5 (5%, 1.0 it/s, 38s left)", "prune 4/40 loss 1 (10%, 1.0 it/s, 36s left)", "prune 40/40 loss 0.5 (100%, 8.0 it/s, 0s left)"}},
		{"interval without enough progress",
			Options{Name: "pretrain", Total: 1000, Interval: 10 * time.Second}, []step{{5 * time.Second, 1, ""}, {6 * time.Second, 2, ""}, {time.Second, 3, ""}},
			[]string{"pretrain 2/1000 (0%, 0.2 it/s, 5489s left)"}},
		{"header, resumed start, unit",
			Options{Name: "cmnist", Unit: "images", Total: 10, Start: 5, Header: true}, []step{{time.Second, 7, ""}},
			[]string{"cmnist: 10 images (from 5)", "cmnist 7/10 images (70%, 2.0 images/s, 2s left)"}},
		{"header without a unit",
			Options{Name: "finetune", Total: 10, Header: true}, nil,
			[]string{"finetune: 10 iterations (from 0)"}},
		{"delay keeps a short job to its last line",
			Options{Name: "batch 1", Unit: "samples", Total: 100, Every: 0.1, Delay: 2 * time.Second}, []step{{time.Second / 2, 50, ""}, {time.Second / 2, 100, ""}},
			[]string{"batch 1 100/100 samples (100%, 100.0 samples/s, 0s left)"}},
		{"the total's line once",
			Options{Name: "x", Total: 2}, []step{{time.Second, 2, ""}, {time.Minute, 2, ""}},
			[]string{"x 2/2 (100%, 2.0 it/s, 0s left)"}},
		{"lines mode on a buffer", Options{Name: "x", Total: 1, Mode: Lines}, []step{{time.Second, 1, ""}},
			[]string{"x 1/1 (100%, 1.0 it/s, 0s left)"}},
		{"quiet", Options{Name: "x", Total: 2, Mode: Quiet, Header: true}, []step{{time.Second, 1, ""}, {time.Second, 2, ""}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			clock := time.Unix(0, 0)
			d := newAt(&buf, c.o, func() time.Time { return clock })
			for _, s := range c.steps {
				clock = clock.Add(s.after)
				d.Set(s.done, s.note)
			}
			d.Finish()
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if buf.Len() == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestConcurrentAdd counts from many goroutines (as the cmnist build does): every Add counts
// and the total's line comes once, last.
func TestConcurrentAdd(t *testing.T) {
	var buf bytes.Buffer
	const workers, each = 8, 1000
	d := New(&buf, Options{Name: "cmnist", Unit: "images", Total: workers * each})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				d.Add(1)
			}
		}()
	}
	wg.Wait()
	d.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "cmnist 8000/8000 images (100%") || strings.Count(buf.String(), "8000/8000") != 1 {
		t.Fatalf("lines:\n%s", buf.String())
	}
}

func TestTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := []struct {
		name string
		w    any
	}{{"buffer", &bytes.Buffer{}}, {"regular file", f}, {"nil", nil}}
	for _, c := range cases {
		w, _ := c.w.(interface{ Write([]byte) (int, error) })
		if Terminal(w) {
			t.Errorf("%s: taken for a terminal", c.name)
		}
	}
	if d := New(nil, Options{Name: "x", Total: 1, Header: true}); d.bar != nil {
		t.Error("a nil writer got a bar")
	}
}

// TestStaged requires each stage to count on its own and to be named after the prefix.
func TestStaged(t *testing.T) {
	var buf bytes.Buffer
	s := NewStaged(&buf, Options{Name: "dcwp-eval: ", Unit: "samples"})
	for _, st := range []string{"batch 1", "batch 32"} {
		s.Update(st, 5, 10)
		s.Update(st, 10, 10)
	}
	s.Finish()
	for _, want := range []string{"dcwp-eval: batch 1 10/10 samples (100%", "dcwp-eval: batch 32 10/10 samples (100%"} {
		if strings.Count(buf.String(), want) != 1 {
			t.Errorf("no single line %q in\n%s", want, buf.String())
		}
	}
}
