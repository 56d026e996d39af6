package exit

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/urfave/cli/v2"
)

var errRejected = errors.New("rejected input")

func TestCode(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain error", errors.New("disk full"), Failure},
		{"usage error", Usagef("--batch %q: not a number", "x"), Usage},
		{"wrapped usage error", fmt.Errorf("compare: %w", AsUsage(errors.New("bad"))), Usage},
		{"bad-input sentinel", fmt.Errorf("model m.onnx: %w", errRejected), Usage},
		{"cli exit coder", cli.Exit("No help topic for 'x'", 3), Usage},
		{"message that looks like a flag error", errors.New("flag provided but not defined: -x"), Failure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Code(c.err, errRejected); got != c.want {
				t.Errorf("Code(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
	if AsUsage(nil) != nil {
		t.Error("AsUsage(nil) is not nil")
	}
}

// testApp fails as its action is told to by --do.
func testApp() *cli.App {
	return &cli.App{
		Name:  "tool",
		Flags: []cli.Flag{&cli.StringFlag{Name: "do"}, &cli.IntFlag{Name: "n"}},
		Action: func(c *cli.Context) error {
			if err := Require(c, "do", "n"); err != nil {
				return err
			}
			switch c.String("do") {
			case "fail":
				return errors.New("could not write out.json")
			case "reject":
				return fmt.Errorf("data dir: %w", errRejected)
			case "panic":
				var m map[string]int
				//lint:ignore SA5000 the test needs a real runtime panic, not a call to panic
				m["x"]++
			}
			return nil
		},
		Commands: []*cli.Command{{Name: "sub", Action: func(*cli.Context) error { return nil }}},
	}
}

func TestRun(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		want   int
		stderr []string // substrings of stderr
	}{
		{"ok", []string{"--do", "nothing", "--n", "1"}, OK, nil},
		{"unknown flag", []string{"--frobnicate"}, Usage, []string{"tool: flag provided but not defined", "run 'tool --help'"}},
		{"invalid value", []string{"--n", "x", "--do", "nothing"}, Usage, []string{"invalid value"}},
		{"required flag", []string{"--n", "1"}, Usage, []string{"tool: --do is required"}},
		{"required flags", nil, Usage, []string{"tool: --do, --n are required"}},
		{"subcommand flag", []string{"sub", "--nope"}, Usage, []string{"nope"}},
		{"unknown help topic", []string{"help", "nope"}, Usage, []string{"No help topic"}},
		{"failure", []string{"--n", "1", "--do", "fail"}, Failure, []string{"tool: could not write out.json"}},
		{"rejected input", []string{"--n", "1", "--do", "reject"}, Usage, []string{"tool: data dir: rejected input"}},
		{"panic", []string{"--n", "1", "--do", "panic"}, Internal, []string{"tool: internal error, please report: assignment to entry in nil map", "exit_test.go"}},
		{"flag after an argument", []string{"--n", "1", "runs/x", "--do", "fail"}, Usage,
			[]string{"tool: --do comes after the argument runs/x", `"tool --do fail runs/x"`}},
		{"flags after arguments", []string{"a", "b", "--do", "fail", "c"}, Usage, []string{`--do comes after the argument b`, `"tool --do fail c a b"`}},
		{"subcommand flag after an argument", []string{"sub", "a", "-x"}, Usage, []string{`-x comes after the argument a`, `"tool sub -x a"`}},
		{"after --, arguments as written", []string{"--n", "1", "--do", "nothing", "--", "a", "-b"}, OK, nil},
		{"stdin", []string{"--n", "1", "--do", "nothing", "a", "-"}, OK, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr strings.Builder
			app := testApp()
			app.Writer = &strings.Builder{}
			if got := Run(app, append([]string{"tool"}, c.args...), &stderr, errRejected); got != c.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, c.want, stderr.String())
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
		})
	}
}

// The codes are distinct: a crash, a rejected input and a failure can be told apart.
func TestCodesDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, c := range []int{OK, Failure, Usage, Internal, Signal(syscall.SIGINT), Signal(syscall.SIGTERM)} {
		if seen[c] {
			t.Errorf("code %d used twice", c)
		}
		seen[c] = true
	}
}
