// Package exporter turns a network of a dcwp-train run into a standard ONNX model:
// masks multiplied in, BatchNorm folded into the convs, every attribute explicit, a
// dynamic batch dimension, input "input" [N,C,H,W] float32 pixels in [0,1] and output
// "logits" [N, classes]. The storage formats are a table (format.go), one file each:
// dense, sparse (COO sparse initializers) and compact (pruned neurons and channels removed).
package exporter

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/onnxpb"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/version"
)

// DefaultOpset is the opset written unless asked otherwise.
const DefaultOpset = 13

// DefaultChannelMultiple is the padding dcwp-export gives a compact export unless asked
// otherwise: multiples of 8 took the cnn at a 60 % channel budget from 1.57–1.69× to
// 1.90–2.05× the dense throughput at batch 256 (docs/results.md). Options' zero is none.
const DefaultChannelMultiple = 8

// ChannelMultipleOf is the padding a format gets unless asked otherwise: what the product
// (dcwp-export, the benchmarks) exports. Only compaction shrinks layers to pad.
func ChannelMultipleOf(f Format) int {
	if f == Compact {
		return DefaultChannelMultiple
	}
	return 0
}

// Options choose what to export.
type Options struct {
	Which  string // one of rundir.Networks(); "" means DCWP
	Format Format // "" means Dense
	Opset  int    // 13..17; 0 means DefaultOpset
	Source string // recorded as metadata source_run; "" means the run directory
	// OnnxGoCompat leaves out the one explicit attribute onnx-go v0.5.0 rejects although it
	// holds the default: MaxPool's dilations [1 1] (ResNet only). Off by default.
	OnnxGoCompat bool
	// ChannelMultiple pads each convolution the compact format shrank to a multiple of this
	// many channels with zero ones (align.go), for the kernels' sake; 0 or 1: none. Compact only.
	ChannelMultiple int
}

func (o Options) withDefaults() (Options, error) {
	if o.Which == "" {
		o.Which = rundir.DCWP
	}
	if !slices.Contains(rundir.Networks(), o.Which) {
		return o, fmt.Errorf("unknown network %q (want one of %v)", o.Which, rundir.Networks())
	}
	if o.Format == "" {
		o.Format = Dense
	}
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return o, err
	}
	if o.Opset == 0 {
		o.Opset = DefaultOpset
	}
	if o.ChannelMultiple < 0 || o.ChannelMultiple > 1 && o.Format != Compact {
		return o, fmt.Errorf("channel multiple %d: want 0 or 1 (none), or ≥ 2 with the %s format", o.ChannelMultiple, Compact)
	}
	if o.ChannelMultiple == 1 { // one meaning, one value: 1 pads nothing, as 0
		o.ChannelMultiple = 0
	}
	if o.Opset < onnx.MinOpset || o.Opset > onnx.MaxOpset {
		return o, fmt.Errorf("opset %d not supported (want %d..%d)", o.Opset, onnx.MinOpset, onnx.MaxOpset)
	}
	return o, nil
}

// LayerStats counts the parameters of one Gemm or Conv (BatchNorm folded in) or, for
// "(constants)", the normalisation constants.
type LayerStats struct {
	Name   string `json:"name"`
	Op     string `json:"op"` // Gemm, Conv, constants
	Shape  []int  `json:"weight_shape,omitempty"`
	Params int64  `json:"params"` // weight + bias elements in the export
	// FLOPs per sample of the layer as exported: 2 per multiply-add of its weight, every
	// weight counted (zeros too: the runtimes compute them).
	FLOPs      int64 `json:"flops"`
	NonZero    int64 `json:"nonzero"`
	Units      int   `json:"units,omitempty"`       // output neurons/channels in the export
	UnitsOrig  int   `json:"units_orig,omitempty"`  // output neurons/channels of the arch
	InputsOrig int   `json:"inputs_orig,omitempty"` // input features/channels of the arch
	Inputs     int   `json:"inputs,omitempty"`      // input features/channels in the export
}

// Stats describe an export: what `dcwp-export` prints and writes as JSON.
type Stats struct {
	Run    string `json:"run,omitempty"`
	Model  string `json:"model"`
	Which  string `json:"which"`
	Format Format `json:"format"`
	Opset  int    `json:"opset"`
	// ChannelMultiple is the padding of shrunk layers (Options.ChannelMultiple); 0: none.
	ChannelMultiple int          `json:"channel_multiple,omitempty"`
	KeptRatio       float64      `json:"kept_ratio"` // kept share of masked weights (1 for vanilla)
	ParamsTotal     int64        `json:"params_total"`
	ParamsNonZero   int64        `json:"params_nonzero"`
	FLOPs           int64        `json:"flops_per_sample"` // of the Gemm and Conv layers (LayerStats.FLOPs)
	Layers          []LayerStats `json:"layers"`
	File            string       `json:"file,omitempty"`
	FileBytes       int64        `json:"file_bytes,omitempty"`
	ModelSHA256     string       `json:"model_sha256,omitempty"` // of File: ReadParams checks it
	RunID           string       `json:"run_id,omitempty"`       // the run the weights come from
	// Warnings say what could not be checked, such as the origin of a file of a run
	// older than run ids.
	Warnings []string `json:"warnings,omitempty"`
	// Dense is the dense export of the same network, beside a sparse or compact one.
	Dense *Footprint `json:"dense,omitempty"`
}

// Footprint is what an export costs where it is deployed (summary.json holds it too).
type Footprint = rundir.Footprint

// DenseFootprint exports the network o names in the dense format, in memory, and returns
// its footprint: the baseline a sparse or compact export is measured against.
func DenseFootprint(run *rundir.Run, o Options) (Footprint, error) {
	o.Format, o.ChannelMultiple = Dense, 0
	f, err := footprint(run, o)
	if err != nil {
		return Footprint{}, fmt.Errorf("dense export for comparison: %w", err)
	}
	return f, nil
}

// Deploy is the run's DCWP network as dcwp-export writes it by default, compact against
// dense, built in memory: what dcwp-train records in summary.json. Parameters and FLOPs
// only: a file's size depends on the path and id of the run it names in its metadata, and
// two runs that differ only in those must summarize alike.
func Deploy(run *rundir.Run) (*rundir.Deployment, error) {
	net, err := run.Network(rundir.DCWP) // read once, exported twice
	if err != nil {
		return nil, err
	}
	d := &rundir.Deployment{ChannelMultiple: ChannelMultipleOf(Compact)}
	for _, e := range []struct {
		f  Format
		to *Footprint
	}{{Compact, &d.Compact}, {Dense, &d.Dense}} {
		o := Options{Which: rundir.DCWP, Format: e.f, ChannelMultiple: ChannelMultipleOf(e.f), Source: run.Dir}
		_, st, err := ExportNetwork(run.Config, net, o)
		if err != nil {
			return nil, fmt.Errorf("%s export: %w", e.f, err)
		}
		*e.to = Footprint{Params: st.ParamsTotal, FLOPs: st.FLOPs}
	}
	return d, nil
}

// footprint exports the network o names, in memory, and measures it.
func footprint(run *rundir.Run, o Options) (Footprint, error) {
	m, st, err := Export(run, o)
	if err != nil {
		return Footprint{}, err
	}
	data, err := Encode(m)
	if err != nil {
		return Footprint{}, err
	}
	return Footprint{Params: st.ParamsTotal, FLOPs: st.FLOPs, FileBytes: int64(len(data))}, nil
}

// Export loads a network of a run and builds its ONNX model in memory.
func Export(run *rundir.Run, o Options) (*onnxpb.ModelProto, *Stats, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	net, err := run.Network(o.Which)
	if err != nil {
		return nil, nil, err
	}
	if o.Source == "" {
		o.Source = run.Dir
	}
	return ExportNetwork(run.Config, net, o)
}

// ExportNetwork builds the ONNX model of an already loaded network; cfg supplies the
// metadata (dataset, conflict share, model, variant, seed).
func ExportNetwork(cfg rundir.Config, net *rundir.Network, o Options) (*onnxpb.ModelProto, *Stats, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	a := net.Arch
	if err := checkFinite(net); err != nil {
		return nil, nil, err
	}
	ls, err := buildIR(a, net.Folded())
	if err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", a.Name, err)
	}
	f, err := lookup(o.Format)
	if err != nil {
		return nil, nil, err
	}
	if f.pass != nil {
		if err := f.pass(ls); err != nil {
			return nil, nil, fmt.Errorf("export %s: %w", a.Name, err)
		}
	}
	if err := align(ls, o.ChannelMultiple); err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", a.Name, err)
	}
	if err := checkFiniteLayers(net, ls); err != nil {
		return nil, nil, err
	}
	sh, err := shapes(ls, a.Input)
	if err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", a.Name, err)
	}
	st := &Stats{Run: o.Source, Model: a.Name, Which: o.Which, Format: o.Format, Opset: o.Opset, KeptRatio: 1,
		ChannelMultiple: o.ChannelMultiple,
		RunID:           net.RunID, Warnings: net.Warnings}
	if net.Masks != nil {
		kept, total := net.Kept()
		if total > 0 {
			st.KeptRatio = float64(kept) / float64(total)
		}
	}

	b := onnx.NewBuilder("dcwp_"+a.Name, o.Opset)
	b.Producer("dcwp-go", version.Version)
	b.Doc(fmt.Sprintf("%s %s network of a dcwp-go run, %s format. Input: float32 pixels in [0,1], [N,%d,%d,%d]. Output: logits [N,%d].",
		a.Name, o.Which, o.Format, a.Input[0], a.Input[1], a.Input[2], a.Classes))
	e := &emitter{b: b, sh: sh, o: o, weights: f.weights, consts: LayerStats{Name: "(constants)", Op: "constants"}}
	b.Input(arch.Input, e.batch(arch.Input))
	for _, l := range ls {
		if err := e.layer(l); err != nil {
			return nil, nil, fmt.Errorf("export %s: layer %s: %w", a.Name, l.name(), err)
		}
		if l.out != "logits" {
			b.ValueInfo(l.out, e.batch(l.out))
		}
	}
	st.Layers = e.layers
	b.Output("logits", e.batch("logits"))
	if e.consts.Params > 0 {
		st.Layers = append(st.Layers, e.consts)
	}
	for _, l := range st.Layers {
		st.ParamsTotal += l.Params
		st.ParamsNonZero += l.NonZero
		st.FLOPs += l.FLOPs
	}
	for _, kv := range metadata(cfg, net, o, st) {
		b.Meta(kv[0], kv[1])
	}
	m, err := b.Model()
	if err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", a.Name, err)
	}
	if err := onnx.Validate(m); err != nil {
		return nil, nil, fmt.Errorf("export %s: built an invalid graph: %w", a.Name, err)
	}
	return m, st, nil
}

// metadata is the export's metadata_props, in order: the one place that says what an
// exported file records of where it comes from and how to feed it.
func metadata(cfg rundir.Config, net *rundir.Network, o Options, st *Stats) [][2]string {
	a := net.Arch
	meta := [][2]string{{"dataset", cfg.Dataset}}
	// conflict_pct only where the data is chosen by a share: older celeba runs stored the
	// flag's default "1", which means nothing for them.
	if in, err := dataset.Lookup(cfg.Dataset); err == nil && in.HasShares() && !cfg.ConflictPct.IsZero() {
		meta = append(meta, [2]string{"conflict_pct", cfg.ConflictPct.String()})
	}
	meta = append(meta, [][2]string{
		{"model", cfg.Model},
		{"variant", string(cfg.Variant)}, {"seed", strconv.FormatInt(cfg.Seed, 10)}, {"which", o.Which},
		{"kept_ratio", strconv.FormatFloat(st.KeptRatio, 'f', 6, 64)},
		{"params_total", strconv.FormatInt(st.ParamsTotal, 10)},
		{"params_nonzero", strconv.FormatInt(st.ParamsNonZero, 10)},
		{"source_run", o.Source}, {"tool_version", version.Version}, {"format", string(o.Format)},
		{"input", fmt.Sprintf("input float32 [N,%d,%d,%d] pixels in [0,1]", a.Input[0], a.Input[1], a.Input[2])},
		{"output", fmt.Sprintf("logits float32 [N,%d]", a.Classes)},
	}...)
	meta = append(meta, datasetMetadata(cfg, a)...)
	// Identity: which run (rundir.RunFile) and which of its networks (the role its
	// safetensors file records) the weights are; unknown for runs older than run ids.
	if net.RunID != "" {
		meta = append(meta, [2]string{"run_id", net.RunID})
	}
	if net.Role != "" {
		meta = append(meta, [2]string{"role", net.Role})
	}
	return meta
}

// datasetMetadata is what a user feeding the model needs of its dataset: the class names
// (a JSON array, index = output column), the input size (CxHxW), the normalisation the
// graph applies itself ("none", or JSON mean and std per channel) and the groups (JSON
// metrics.Groups: the bias attribute's values and, per class, the index of the value it is
// aligned with in train), which dcwp-eval scores aligned and conflicting samples by, and
// how image files become the input (dataset.Preprocessing), for a deployer to reproduce.
func datasetMetadata(cfg rundir.Config, a *arch.Arch) [][2]string {
	names := indexNames(a.Classes)
	norm := "none"
	var groups *metrics.Groups
	if spec, err := cfg.Spec(); err == nil {
		if len(spec.ClassNames) == a.Classes {
			names = spec.ClassNames
		}
		if spec.Mean != nil {
			b, _ := json.Marshal(map[string][]float32{"mean": spec.Mean, "std": spec.Std})
			norm = string(b)
		}
		groups = spec.Groups
	}
	if groups == nil {
		g := metrics.Identity(names) // bias == label
		groups = &g
	}
	cn, _ := json.Marshal(names)
	gr, _ := json.Marshal(groups)
	meta := [][2]string{{"class_names", string(cn)},
		{"input_size", fmt.Sprintf("%dx%dx%d", a.Input[0], a.Input[1], a.Input[2])}, {"normalization", norm},
		{"groups", string(gr)}}
	if p, err := dataset.Preprocessing(cfg.Dataset); err == nil {
		meta = append(meta, [2]string{"preprocessing", p})
	}
	return meta
}

func indexNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// emitter writes layers as ONNX nodes and initializers, collecting their statistics.
type emitter struct {
	b       *onnx.Builder
	sh      map[string][]int // per-sample shapes of every tensor
	o       Options
	weights func(b *onnx.Builder, name string, shape []int, w []float32) // how the format stores a Gemm/Conv weight
	layers  []LayerStats                                                 // one per Gemm and Conv
	consts  LayerStats                                                   // the normalisation constants
}

func (e *emitter) batch(name string) []onnx.Dim { return onnx.Dims("N", e.sh[name]...) }

// layer writes one layer; an op the exporter does not know is an error. Every op in
// arch.Ops() is either written here or folded away by buildIR (BatchNorm).
func (e *emitter) layer(l *layer) error {
	b, n := e.b, l.node
	switch n.Op {
	case arch.OpNormalize:
		if len(n.Std) != len(n.Mean) {
			return fmt.Errorf("%d means and %d stds", len(n.Mean), len(n.Std))
		}
		centered := n.Name + ".centered"
		perChannel := []int{len(n.Mean), 1, 1} // broadcasts over [N C H W]
		e.constant("Sub", n.Name+".sub", l.in[0], n.Name+".mean", perChannel, n.Mean, centered)
		b.ValueInfo(centered, e.batch(l.out))
		e.constant("Div", n.Name+".div", centered, n.Name+".std", perChannel, n.Std, l.out)
	case arch.OpScale:
		e.constant("Mul", n.Name, l.in[0], n.Name+".factor", []int{1}, []float32{n.Factor}, l.out)
	case arch.OpFlatten:
		b.Node("Flatten", n.Name, l.in, []string{l.out}, onnx.Int("axis", 1))
	case arch.OpReLU:
		b.Node("Relu", n.Name, l.in, []string{l.out})
	case arch.OpAdd:
		b.Node("Add", n.Name, l.in, []string{l.out})
	case arch.OpMaxPool:
		b.Node("MaxPool", n.Name, l.in, []string{l.out}, maxPoolAttrs(n, e.o.OnnxGoCompat)...)
	case arch.OpGlobalAvgPool:
		pooled := l.out + ".pooled"
		b.Node("GlobalAveragePool", n.Name+".pool", l.in, []string{pooled})
		b.ValueInfo(pooled, onnx.Dims("N", e.sh[l.out][0], 1, 1))
		b.Node("Flatten", n.Name+".flatten", []string{pooled}, []string{l.out}, onnx.Int("axis", 1))
	case arch.OpLinear, arch.OpConv:
		e.layers = append(e.layers, e.param(l))
	default:
		return fmt.Errorf("op %q not supported by the exporter", n.Op)
	}
	return nil
}

// constant writes op(x, c) with c an initializer of the given shape.
func (e *emitter) constant(op, name, x, cname string, shape []int, c []float32, out string) {
	e.b.Dense(cname, shape, c)
	e.b.Node(op, name, []string{x, cname}, []string{out})
	e.consts.Params += int64(len(c))
	for _, v := range c {
		if v != 0 {
			e.consts.NonZero++
		}
	}
}

func maxPoolAttrs(n arch.Node, onnxGo bool) []onnx.Attr {
	k, s, p := int64(n.Kernel), int64(n.Stride), int64(n.Pad)
	as := []onnx.Attr{onnx.String("auto_pad", "NOTSET"), onnx.Int("ceil_mode", 0),
		onnx.Ints("kernel_shape", k, k), onnx.Ints("pads", p, p, p, p),
		onnx.Int("storage_order", 0), onnx.Ints("strides", s, s)}
	if !onnxGo {
		as = append(as, onnx.Ints("dilations", 1, 1))
	}
	return as
}

// param writes a Gemm or Conv with its weight (dense or sparse) and bias.
func (e *emitter) param(l *layer) LayerStats {
	b, n := e.b, l.node
	x := l.in[0]
	wshape := []int{n.Out, n.In}
	if n.Op == arch.OpConv {
		wshape = []int{n.Out, n.In, n.Kernel, n.Kernel}
	}
	st := LayerStats{Name: n.Name, Shape: wshape, Units: n.Out, UnitsOrig: l.origOut, Inputs: n.In, InputsOrig: l.origIn}
	w, bias := rounded(l.w, &st.NonZero), rounded(l.b, &st.NonZero)
	st.Params = int64(len(w) + len(bias))
	st.FLOPs = 2 * int64(len(w))
	if out := e.sh[l.out]; n.Op == arch.OpConv {
		st.FLOPs *= int64(out[1] * out[2]) // per output position
	}
	wn, bn := n.Name+".weight", n.Name+".bias"
	e.weights(b, wn, wshape, w)
	b.Dense(bn, []int{n.Out}, bias)
	if n.Op == arch.OpLinear {
		st.Op = "Gemm"
		b.Node("Gemm", n.Name, []string{x, wn, bn}, []string{l.out},
			onnx.Float("alpha", 1), onnx.Float("beta", 1), onnx.Int("transA", 0), onnx.Int("transB", 1))
		return st
	}
	st.Op = "Conv"
	p, s := int64(n.Pad), int64(n.Stride)
	b.Node("Conv", n.Name, []string{x, wn, bn}, []string{l.out},
		onnx.String("auto_pad", "NOTSET"), onnx.Ints("dilations", 1, 1), onnx.Int("group", 1),
		onnx.Ints("kernel_shape", int64(n.Kernel), int64(n.Kernel)), onnx.Ints("pads", p, p, p, p),
		onnx.Ints("strides", s, s))
	return st
}

// rounded converts to float32, counting the non-zero values into nz.
func rounded(v []float64, nz *int64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
		if out[i] != 0 {
			*nz++
		}
	}
	return out
}

// Encode serialises a model deterministically.
func Encode(m *onnxpb.ModelProto) ([]byte, error) { return onnx.Marshal(m) }

// WriteFile writes a model atomically (temporary sibling, then rename) and returns its size.
func WriteFile(path string, m *onnxpb.ModelProto) (int64, error) {
	data, err := Encode(m)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return 0, fmt.Errorf("write %s: output directory %s: %w", path, dir, err)
		} else if !st.IsDir() {
			return 0, fmt.Errorf("write %s: %s is not a directory", path, dir)
		}
	}
	err = atomicfile.Write(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return int64(len(data)), err
}
