// Package cmnist builds Colored MNIST from the real MNIST digits with the LfF
// protocol (shared/spec/dcwp-method.md, "Colored MNIST, built from the real
// MNIST digits") and writes the published DisEnt/LfF folder layout:
//
//	<out>/cmnist/{0.5pct,1pct,2pct,5pct}/{align,conflict,valid}/<label>/<index>_<label>_<bias>.png
//	<out>/cmnist/test/<label>/<index>_<label>_<bias>.png
//
// Train uses the first 55,000 MNIST training digits, valid the last 5,000
// (coloured unbiased, r = 0.1, identical under every pct), test the 10,000
// MNIST test digits (r = 0.1). <index> is the digit's index in its MNIST file.
// Output is a pure function of the seed: the same seed gives byte-identical files.
// Identical images in several pct folders are hard links to one file (see
// Options.NoLinks).
package cmnist

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/dataset/mnist"
)

// Classes is the number of digits and of colours.
const Classes = 10

// MeanColors are the ten reference colours (RGB in [0,1]); colour a is the
// bias-aligned colour of digit a.
var MeanColors = [Classes][3]float32{
	{0.9836823, 0.312519, 0.1685753},
	{0.9905297, 0.9156052, 0.3515122},
	{0.672964, 0.4610705, 0.5798082},
	{0.7832519, 0.8315559, 0.6013294},
	{0.08801579, 0.7779633, 0.9818078},
	{0.3213934, 0.9610546, 0.4464499},
	{0.02461588, 0.2356505, 0.7586663},
	{0.5552469, 0.1015801, 0.7617632},
	{0.2077232, 0.3929485, 0.01870239},
	{0.8336576, 0.2024093, 0.2669431},
}

// Defaults.
const (
	DefaultStd       = 0.005 // colour noise std (LfF severity 4)
	DefaultValidSize = 5000  // last MNIST training digits carved out for valid
	UnbiasedRatio    = 0.1   // r for valid and test: every colour equally likely
)

// DefaultShares are the conflict shares built by default: the published release's
// (dataset.Info.Shares).
func DefaultShares() []dataset.Share {
	in, err := dataset.Lookup(dataset.CMNIST)
	if err != nil {
		panic(err) // the dataset package registers cmnist
	}
	return slices.Clone(in.Shares)
}

// Options configure Build.
type Options struct {
	Out   string // data root; the dataset is written to <Out>/cmnist
	MNIST string // folder with the MNIST IDX files; "" = mnist.DefaultDir()
	Seed  uint64 // colour-noise seed; same seed -> byte-identical output
	// Shares are the conflict shares to build, each once; nil = DefaultShares.
	Shares []dataset.Share
	Std    float64 // colour noise std, finite; 0 = DefaultStd (use a tiny value for ~no noise)
	// SkipTest leaves <Out>/cmnist/test alone (it does not depend on the pct).
	SkipTest bool
	// ValidSize is how many of the last training digits form valid; 0: none (dcwp-train then
	// carves one from train). The command's --valid-size defaults to DefaultValidSize.
	ValidSize int
	// TrainDigits / TestDigits limit the digits used to the first N of each
	// MNIST file (0 = all); for quick tests.
	TrainDigits, TestDigits int
	// Train / Test, when set, are used instead of reading MNIST (for tests).
	Train, Test *mnist.Set
	// Workers encoding PNGs in parallel; 0 = GOMAXPROCS.
	Workers int
	// IOWorkers writing files in parallel; 0 = max(4·Workers, 8).
	IOWorkers int
	// NoLinks writes every file separately. By default an image identical in
	// several pct folders (same digit, colour and noise; e.g. valid, and most
	// aligned train digits) is written once and hard-linked elsewhere, which
	// saves most file creations and disk space. Linked files share contents:
	// do not edit them in place.
	NoLinks bool
}

// SplitStats describes one written split folder.
type SplitStats struct {
	Name        string  // e.g. "1pct/train" (align+conflict), "1pct/valid", "test"
	N           int     // samples
	Conflicting int     // samples with colour != digit
	Share       float64 // Conflicting/N in percent
	Requested   float64 // requested conflict share in percent (90 for unbiased splits)
	// Cells[label][colour] counts samples.
	Cells [Classes][Classes]int
}

// Result summarises a build.
type Result struct {
	Dir     string // <Out>/cmnist
	Splits  []SplitStats
	Files   int
	Elapsed time.Duration // whole build, MNIST reading included
	Encode  time.Duration // of which PNG encoding (wall clock)
	Write   time.Duration // of which file writing and linking (wall clock)
}

// AssignColors gives each sample its colour (bias) index with the LfF
// protocol: per class y, the k-th sample of y in dataset order gets the
// smallest colour a with round(n_y · cumsum(ratio_y)[a]) > k, where ratio_y is
// r at a == y and (1-r)/(classes-1) elsewhere (round half to even, as numpy).
func AssignColors(labels []uint8, r float64, classes int) []uint8 {
	counts := make([]int, classes)
	for _, l := range labels {
		counts[l]++
	}
	milestones := make([][]float64, classes)
	for y := range classes {
		row := make([]float64, classes)
		cum := 0.0
		for a := range classes {
			v := (1 - r) / float64(classes-1)
			if a == y {
				v = r
			}
			cum += v
			row[a] = math.RoundToEven(float64(counts[y]) * cum)
		}
		milestones[y] = row
	}
	seen := make([]int, classes)
	out := make([]uint8, len(labels))
	for i, l := range labels {
		k := float64(seen[l])
		seen[l]++
		a := classes - 1
		for j, m := range milestones[l] {
			if m > k {
				a = j
				break
			}
		}
		out[i] = uint8(a)
	}
	return out
}

// sample is one coloured digit to write.
type sample struct {
	index int // index in its MNIST file
	label uint8
	bias  uint8
	color [3]float32
	digit []uint8 // 28*28 intensities
}

// colorize assigns colours (ratio r) in dataset order and draws each image's
// colour noise from a stream seeded by (seed, tag, MNIST index), so a digit
// gets the same noise in every split it appears in (its PNG is then encoded
// once and reused when its colour agrees).
func colorize(set *mnist.Set, offset int, r, std float64, seed uint64, tag string) []sample {
	attrs := AssignColors(set.Labels, r, Classes)
	base := fnv64(tag)
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	out := make([]sample, set.N)
	for i := range out {
		a := attrs[i]
		s := sample{index: offset + i, label: set.Labels[i], bias: a, digit: set.Image(i)}
		pcg.Seed(seed, base+uint64(offset+i)*0x9e3779b97f4a7c15)
		for c := range 3 {
			v := float64(MeanColors[a][c]) + rng.NormFloat64()*std
			s.color[c] = float32(min(max(v, 0), 1))
		}
		out[i] = s
	}
	return out
}

// render writes the RGB pixels (pixel = colour × intensity, truncated to uint8
// as numpy's astype(uint8)) into pix, laid out RGBA (alpha 255) for image.RGBA.
func render(s *sample, pix []uint8) {
	for p, d := range s.digit {
		f := float32(d)
		pix[4*p] = uint8(s.color[0] * f)
		pix[4*p+1] = uint8(s.color[1] * f)
		pix[4*p+2] = uint8(s.color[2] * f)
		pix[4*p+3] = 255
	}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func stats(name string, requested float64, ss ...[]sample) SplitStats {
	st := SplitStats{Name: name, Requested: requested}
	for _, s := range ss {
		for i := range s {
			st.N++
			st.Cells[s[i].label][s[i].bias]++
			if s[i].label != s[i].bias {
				st.Conflicting++
			}
		}
	}
	if st.N > 0 {
		st.Share = 100 * float64(st.Conflicting) / float64(st.N)
	}
	return st
}

func fileName(s *sample) string {
	return strconv.Itoa(s.index) + "_" + strconv.Itoa(int(s.label)) + "_" + strconv.Itoa(int(s.bias)) + ".png"
}

// Build writes Colored MNIST under <opts.Out>/cmnist. Each split folder
// ({pct}pct, test) is written into a temporary folder next to it and renamed
// into place at the end, replacing an existing one, so a killed build never
// leaves a half-written split. Progress goes to progress (a bar on a
// terminal, periodic lines otherwise; nil = quiet), followed by one summary
// line per split with the measured conflict share.
func Build(opts Options, progress io.Writer) (*Result, error) {
	start := time.Now()
	if opts.Out == "" {
		return nil, errors.New("cmnist: no output folder (--out)")
	}
	if opts.Std == 0 {
		opts.Std = DefaultStd
	}
	if !(opts.Std > 0) || math.IsInf(opts.Std, 0) {
		return nil, fmt.Errorf("cmnist: colour std %v: want a finite number above 0", opts.Std)
	}
	if opts.Shares == nil {
		opts.Shares = DefaultShares()
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	ioWorkers := opts.IOWorkers
	if ioWorkers <= 0 {
		ioWorkers = max(4*opts.Workers, 8) // file writes block in syscalls
	}
	type pctSpec struct {
		dir  string
		frac float64
	}
	var pcts []pctSpec
	if len(opts.Shares) == 0 {
		return nil, errors.New("cmnist: no conflict share to build")
	}
	seen := map[dataset.Share]bool{}
	for _, sh := range opts.Shares {
		switch {
		case sh.IsZero():
			return nil, errors.New("cmnist: an empty conflict share in the list")
		case seen[sh]:
			return nil, fmt.Errorf("cmnist: conflict share %s asked for twice", sh)
		}
		seen[sh] = true
		pcts = append(pcts, pctSpec{sh.Dir(), sh.Percent() / 100})
	}

	train, test := opts.Train, opts.Test
	if train == nil || (test == nil && !opts.SkipTest) {
		dir := opts.MNIST
		if dir == "" {
			var err error
			if dir, err = mnist.DefaultDir(); err != nil {
				return nil, fmt.Errorf("cmnist: %w", err)
			}
		}
		tr, te, err := mnist.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("cmnist: %w", err)
		}
		if train == nil {
			train = tr
		}
		if test == nil {
			test = te
		}
	}
	train = train.Head(opts.TrainDigits)
	if test != nil {
		test = test.Head(opts.TestDigits)
	}
	if opts.ValidSize < 0 || opts.ValidSize >= train.N {
		return nil, fmt.Errorf("cmnist: valid size %d must be in [0,%d)", opts.ValidSize, train.N)
	}
	nTrain := train.N - opts.ValidSize
	trainSet, validSet := train.Head(nTrain), train.Tail(opts.ValidSize)
	if opts.ValidSize == 0 {
		validSet = &mnist.Set{H: train.H, W: train.W}
	}

	root := filepath.Join(opts.Out, "cmnist")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("cmnist: %w", err)
	}
	removeStale(root)

	total := len(pcts) * train.N
	if !opts.SkipTest {
		total += test.N
	}
	prog := newProgress(progress, total)
	rm := &remover{workers: ioWorkers}
	defer rm.wait()
	w := &writer{workers: opts.Workers, ioWorkers: ioWorkers, links: !opts.NoLinks, prog: prog}
	res := &Result{Dir: root}

	// Train and valid digits share the noise stream "train" (keyed by MNIST
	// index), so a digit with the same colour in several pcts is the same PNG:
	// encoded once, and hard-linked after its first write unless NoLinks.
	reuse := map[int]*pngFile{}
	valid := colorize(validSet, nTrain, UnbiasedRatio, opts.Std, opts.Seed, "train")
	validPNG, err := w.encodeAll(valid, reuse)
	if err != nil {
		prog.Finish()
		return nil, err
	}
	for _, p := range pcts {
		r := 1 - p.frac
		samples := colorize(trainSet, 0, r, opts.Std, opts.Seed, "train")
		pngs, err := w.encodeAll(samples, reuse)
		if err != nil {
			prog.Finish()
			return nil, err
		}
		var align, conflict []sample
		var alignPNG, conflictPNG []*pngFile
		for i, s := range samples {
			if s.label == s.bias {
				align, alignPNG = append(align, s), append(alignPNG, pngs[i])
			} else {
				conflict, conflictPNG = append(conflict, s), append(conflictPNG, pngs[i])
			}
		}
		err = atomicDir(root, p.dir, func(tmp string) error {
			if err := w.writeAll(filepath.Join(tmp, "align"), align, alignPNG); err != nil {
				return err
			}
			if err := w.writeAll(filepath.Join(tmp, "conflict"), conflict, conflictPNG); err != nil {
				return err
			}
			if len(valid) == 0 { // --valid-size 0: no valid folder, and dcwp-train carves one
				return nil
			}
			return w.writeAll(filepath.Join(tmp, "valid"), valid, validPNG)
		}, rm.discard)
		if err != nil {
			prog.Finish()
			return nil, err
		}
		final := filepath.Join(root, p.dir)
		placed(filepath.Join(final, "align"), align, alignPNG)
		placed(filepath.Join(final, "conflict"), conflict, conflictPNG)
		placed(filepath.Join(final, "valid"), valid, validPNG)
		res.Splits = append(res.Splits, stats(p.dir+"/train", 100*p.frac, align, conflict))
		if len(valid) > 0 {
			res.Splits = append(res.Splits, stats(p.dir+"/valid", 100*(1-UnbiasedRatio), valid))
		}
		res.Files += len(samples) + len(valid)
	}
	if !opts.SkipTest {
		ts := colorize(test, 0, UnbiasedRatio, opts.Std, opts.Seed, "test")
		tsPNG, err := w.encodeAll(ts, nil)
		if err == nil {
			err = atomicDir(root, "test", func(tmp string) error { return w.writeAll(tmp, ts, tsPNG) }, rm.discard)
		}
		if err != nil {
			prog.Finish()
			return nil, err
		}
		res.Splits = append(res.Splits, stats("test", 100*(1-UnbiasedRatio), ts))
		res.Files += len(ts)
	}
	rm.wait()
	prog.Finish()
	res.Elapsed, res.Encode, res.Write = time.Since(start), w.encodeTime, w.writeTime
	if progress != nil {
		for _, s := range res.Splits {
			fmt.Fprintf(progress, "cmnist %-11s %6d images, %5d conflicting = %.3f%% (requested %g%%)\n",
				s.Name, s.N, s.Conflicting, s.Share, s.Requested)
		}
		fmt.Fprintf(progress, "cmnist: wrote %d files to %s in %.1fs (encode %.1fs, write %.1fs)\n",
			res.Files, root, res.Elapsed.Seconds(), res.Encode.Seconds(), res.Write.Seconds())
	}
	return res, nil
}
