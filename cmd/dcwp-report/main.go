// Command dcwp-report turns run directories into the paper's tables: one row per group of
// runs that differ only in seed, mean ± std of the test accuracies, failed and missing runs
// named with their logs. It reads run directories only and links no libtorch, so it runs
// wherever the folders are copied (dcwp-train report is the same command).
//
//	dcwp-report runs/sweep-mlp
//	dcwp-report --format csv --out table.csv runs/sweep-mlp runs/sweep-cnn
package main

import (
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/internal/exit"
	"github.com/dcwp-go/dcwp/report"
	"github.com/dcwp-go/dcwp/version"
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	app := &cli.App{
		Name:      "dcwp-report",
		Usage:     "tables of dcwp-train runs: mean ± std over seeds, failed and missing runs named",
		UsageText: "dcwp-report [--format " + strings.Join(report.Formats(), "|") + "] [--out FILE] [--plot FILE.png] DIR...",
		Version:   version.Version,
		Flags:     report.Flags(),
		Action:    report.Action,
		Writer:    stdout,
	}
	return exit.Run(app, args, stderr)
}
