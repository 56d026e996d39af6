package report

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/internal/exit"
)

// Flags of the report command.
func Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Value: Formats()[0], Usage: FormatUsage()},
		&cli.StringFlag{Name: "out", Usage: "write the table here (atomically) instead of to stdout"},
		&cli.StringFlag{Name: "plot", Usage: "PNG of overall, conflicting and worst-group accuracy against the setting that varies (default with --out: beside it, .png)"},
	}
}

// Command is `report DIR...`, for dcwp-train and dcwp-report.
func Command() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "tables of runs (sweep folders or run directories): mean ± std over seeds, failed and missing runs named",
		ArgsUsage: "DIR...",
		Flags:     Flags(),
		Action:    Action,
	}
}

// Action runs the report over the command line's folders.
func Action(c *cli.Context) error {
	if c.NArg() == 0 {
		return exit.Usagef("give one or more sweep folders or run directories")
	}
	format := c.String("format")
	if !slices.Contains(Formats(), format) {
		return exit.Usagef("--format %q: want one of %v", format, Formats())
	}
	entries, err := Collect(c.Args().Slice())
	if err != nil {
		return exit.AsUsage(err)
	}
	out := c.String("out")
	plot, err := plotPath(out, c.String("plot"))
	if err != nil {
		return err
	}
	if err := CheckOutputs(entries, c.Args().Slice(), Output{"--out", out}, plot); err != nil {
		return err
	}
	t := Build(entries)
	if out == "" {
		err = t.Write(c.App.Writer, format)
	} else {
		err = atomicfile.Write(out, func(w *bufio.Writer) error { return t.Write(w, format) })
	}
	if err != nil {
		return err
	}
	written := []string{out}
	if plot.Path != "" {
		// The plot is a side output: one that cannot be drawn is said, and the table stands.
		if err := t.Plot(plot.Path); err != nil {
			warnf(c.App.ErrWriter, "%s not drawn: %v", plot.Path, err)
		} else {
			written = append(written, plot.Path)
		}
	}
	notDone := 0
	for _, r := range t.Rows {
		notDone += len(r.NotDone)
	}
	if notDone > 0 {
		fmt.Fprintf(c.App.ErrWriter, "report: %d of %d runs have no results (listed in the report)\n", notDone, len(entries))
	}
	if out == "" {
		written = written[1:]
	}
	if len(written) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "report: %s\n", strings.Join(written, ", "))
	}
	return nil
}
