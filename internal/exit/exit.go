// Package exit is the exit-code policy of dcwp-train, dcwp-export and dcwp-eval: one table
// of codes, one typed error for bad input, and one top-level runner that maps a command's
// error (or panic) to its code, so the three commands cannot drift apart and no command
// has to recognise an error by its message.
package exit

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// The exit codes of every dcwp command.
const (
	// OK: the command did what was asked (dcwp-eval compare: the models agree).
	OK = 0
	// Failure: the command ran and failed: training or export went wrong, an output could not
	// be written, dcwp-eval compare found differences.
	Failure = 1
	// Usage: bad input, rejected before or while reading it: flags, arguments, and (where a
	// command says so) the files, data, runtime library or provider named on the command line.
	Usage = 2
	// Internal: a bug. The command panicked; it printed "internal error, please report" with
	// the panic value and stack. 70 is EX_SOFTWARE of sysexits.h, and no other code of these
	// commands, so a crash is never mistaken for rejected input (Go's own panic exit is 2).
	Internal = 70
)

// Signal is the exit code of a command a signal stopped (SIGINT, SIGTERM) once it has said
// where it stopped: 128 plus the signal's number (130, 143), what a shell reports for a
// process the signal killed, so that scripts see the same either way.
func Signal(sig syscall.Signal) int { return 128 + int(sig) }

// Signalled reports whether code is one a command exits with when SIGINT or SIGTERM
// stopped it.
func Signalled(code int) bool {
	return code == Signal(syscall.SIGINT) || code == Signal(syscall.SIGTERM)
}

// UsageError marks bad input: Code maps it, and anything wrapping it, to Usage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError with a formatted message (%w wraps as in fmt.Errorf).
func Usagef(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// AsUsage marks err as bad input; nil stays nil.
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{err}
}

// OnUsageError is urfave/cli's hook for flag-parsing errors (unknown flag, invalid value,
// missing argument): it types them as UsageError. Run sets it on the App and every command
// that has no hook of its own.
func OnUsageError(_ *cli.Context, err error, _ bool) error { return &UsageError{err} }

func setUsageHooks(app *cli.App, terminated bool) {
	if app.OnUsageError == nil {
		app.OnUsageError = OnUsageError
	}
	app.Action = flagsFirst(app.Action, terminated)
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if c.OnUsageError == nil {
				c.OnUsageError = OnUsageError
			}
			c.Action = flagsFirst(c.Action, terminated)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
}

// flagsFirst wraps a command's action: urfave/cli v2 reads flags only up to the first
// argument and takes the rest as arguments, so "dcwp-report runs/x --out y" would read
// "--out" as a folder. A flag-like argument after the first is refused with the order that
// works, before the action sees it. Where the command line has "--", every word after it
// is an argument, as written.
func flagsFirst(action cli.ActionFunc, terminated bool) cli.ActionFunc {
	if action == nil || terminated {
		return action
	}
	return func(c *cli.Context) error {
		args := c.Args().Slice()
		for i, a := range args {
			if i > 0 && len(a) > 1 && a[0] == '-' {
				name := c.Command.HelpName
				if name == "" {
					name = c.App.Name
				}
				fix := strings.Join(append(append([]string{name}, args[i:]...), args[:i]...), " ")
				return Usagef("%s comes after the argument %s, where it is read as an argument, not a flag "+
					"(flags are read only before the first argument): put the flags first, as in %q", a, args[i-1], fix)
			}
		}
		return action(c)
	}
}

// Require returns a UsageError naming the flags that are not set, or nil. Commands use it
// instead of cli's Required, whose error has no exported type to recognise.
func Require(c *cli.Context, flags ...string) error {
	var missing []string
	for _, f := range flags {
		if !c.IsSet(f) {
			missing = append(missing, "--"+f)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return Usagef("%s is required", missing[0])
	}
	return Usagef("%s are required", strings.Join(missing, ", "))
}

// Code is err's exit code: OK for nil; Usage for a UsageError, an error wrapping one of
// badInput (a command's own sentinels for rejected input), or a cli.ExitCoder (urfave/cli
// makes those only for an unknown help topic; the commands never do); Failure otherwise.
func Code(err error, badInput ...error) int {
	if err == nil {
		return OK
	}
	var ue *UsageError
	var ec cli.ExitCoder
	if errors.As(err, &ue) || errors.As(err, &ec) {
		return Usage
	}
	for _, s := range badInput {
		if errors.Is(err, s) {
			return Usage
		}
	}
	return Failure
}

// Run runs app on args and returns the exit code for main to pass to os.Exit. An error goes
// to stderr as "<app>: <error>" (with a pointer to --help when it is a usage error that does
// not give one); a panic is recovered and reported as an internal error. Errors wrapping one
// of badInput count as bad input (see Code). Flag-parsing errors of app and its commands are
// typed with OnUsageError where they have no hook of their own.
func Run(app *cli.App, args []string, stderr io.Writer, badInput ...error) (code int) {
	app.ErrWriter = stderr
	app.ExitErrHandler = func(*cli.Context, error) {} // cli would os.Exit on an ExitCoder
	setUsageHooks(app, slices.Contains(args, "--"))
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(stderr, "%s: internal error, please report: %v\n%s", app.Name, v, debug.Stack())
			code = Internal
		}
	}()
	err := app.Run(args)
	code = Code(err, badInput...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
		if code == Usage && !strings.Contains(err.Error(), "--help") {
			fmt.Fprintf(stderr, "run '%s --help' for usage\n", app.Name)
		}
	}
	return code
}
