package eval

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/onnx"
	"github.com/dcwp-go/dcwp/onnx/ort"
)

// CompareOptions configures Compare.
type CompareOptions struct {
	Baseline, Candidate string // ONNX files

	// Inputs: real images of a split when Data is set (or SplitData given),
	// else seeded uniform [0,1) inputs of the baseline's input shape.
	Dataset, Data, Split string
	Pct                  dataset.Share
	SplitData            *dataset.Split
	Samples              int    // inputs to compare (default 256)
	Seed                 uint64 // picks the samples / random values
	Batch                int    // samples per run (default 64)

	Atol, Rtol float64 // |c-b| <= Atol + Rtol*|b| per element (defaults 1e-4, 1e-3)

	// AllowStructureChange: structural differences are reported but do not
	// fail the comparison (dense vs compact exports).
	AllowStructureChange bool

	Session ort.Options
}

// OutputDiff compares one output of the two models over all inputs.
type OutputDiff struct {
	Name           string   `json:"name"`
	BaselineShape  []int64  `json:"baseline_shape"` // of one batch
	CandidateShape []int64  `json:"candidate_shape"`
	Elements       int      `json:"elements"`
	MaxAbs         float64  `json:"max_abs_diff"`
	MaxRel         float64  `json:"max_rel_diff"`
	Exceeding      int      `json:"exceeding"`                  // elements beyond atol + rtol*|baseline|
	ArgmaxAgree    *float64 `json:"argmax_agreement,omitempty"` // share of rows whose argmax agrees; nil unless [N, classes]
	Problem        string   `json:"problem,omitempty"`          // shape or type mismatch
}

// ParamCounts are a graph's parameter counts.
type ParamCounts struct {
	Total   int64 `json:"total"`
	Nonzero int64 `json:"nonzero"`
}

// CompareReport is what Compare finds.
type CompareReport struct {
	Baseline         string        `json:"baseline"`
	Candidate        string        `json:"candidate"`
	BaselineParams   ParamCounts   `json:"baseline_params"`
	CandidateParams  ParamCounts   `json:"candidate_params"`
	Structure        []onnx.Change `json:"structure_diffs"`
	StructureChanged bool          `json:"structure_changed"`
	Inputs           string        `json:"inputs"`
	Samples          int           `json:"samples"`
	Atol             float64       `json:"atol"`
	Rtol             float64       `json:"rtol"`
	Outputs          []OutputDiff  `json:"outputs"`
	OutputsDiffer    bool          `json:"outputs_differ"`
	AllowStructure   bool          `json:"allow_structure_change"`
	Pass             bool          `json:"pass"`
}

// Compare diffs two ONNX models: structure (ops, attributes, shapes,
// initializers, parameter counts) and outputs on the same inputs. Pass is
// false when an output exceeds the tolerance, the outputs cannot be matched,
// or (unless AllowStructureChange) the structure differs. The error is for
// inputs that cannot be compared at all (bad files, missing data or runtime).
func Compare(o CompareOptions) (*CompareReport, error) {
	if o.Samples <= 0 {
		o.Samples = 256
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Atol == 0 && o.Rtol == 0 {
		o.Atol, o.Rtol = 1e-4, 1e-3
	}
	if o.Atol < 0 || o.Rtol < 0 {
		return nil, fmt.Errorf("%w: --atol %g / --rtol %g must not be negative", ErrUsage, o.Atol, o.Rtol)
	}
	bm, _, err := ReadModel(o.Baseline)
	if err != nil {
		return nil, err
	}
	cm, _, err := ReadModel(o.Candidate)
	if err != nil {
		return nil, err
	}
	r := &CompareReport{Baseline: o.Baseline, Candidate: o.Candidate, Atol: o.Atol, Rtol: o.Rtol,
		AllowStructure: o.AllowStructureChange}
	bsum, err := onnx.Summarize(bm)
	if err != nil {
		return nil, fmt.Errorf("%w: model %s: %w", ErrModel, o.Baseline, err)
	}
	csum, err := onnx.Summarize(cm)
	if err != nil {
		return nil, fmt.Errorf("%w: model %s: %w", ErrModel, o.Candidate, err)
	}
	r.BaselineParams = ParamCounts{bsum.ParamsTotal, bsum.ParamsNonZero}
	r.CandidateParams = ParamCounts{csum.ParamsTotal, csum.ParamsNonZero}
	r.Structure = onnx.Diff(bsum, csum)
	r.StructureChanged = len(r.Structure) > 0

	split := o.SplitData
	if split == nil && o.Data != "" {
		if split, err = loadSplitFor(bm, o.Baseline, o.Data, o.Dataset, o.Pct, o.Split); err != nil {
			return nil, err
		}
	}
	bs, err := OpenSession(o.Baseline, o.Session)
	if err != nil {
		return nil, err
	}
	defer bs.Close()
	cs, err := OpenSession(o.Candidate, o.Session)
	if err != nil {
		return nil, err
	}
	defer cs.Close()

	batches, desc, err := compareInputs(bs, split, o)
	if err != nil {
		return nil, err
	}
	r.Inputs = desc
	for _, b := range batches {
		r.Samples += int(b.shape[0])
	}
	if err := CheckCompatible(bs, cs); err != nil {
		r.Outputs = []OutputDiff{{Name: "*", Problem: err.Error()}}
		r.OutputsDiffer = true
	} else if err := r.diffOutputs(bs, cs, batches); err != nil {
		return nil, err
	}
	r.Pass = !r.OutputsDiffer && (!r.StructureChanged || o.AllowStructureChange)
	return r, nil
}

// CheckCompatible reports whether two sessions take the same input.
func CheckCompatible(a, b *Session) error {
	if len(a.Input.Shape) != len(b.Input.Shape) {
		return fmt.Errorf("inputs differ: %s takes %s, %s takes %s", a.Model, dimString(a.Input.Shape), b.Model, dimString(b.Input.Shape))
	}
	for i := range a.Input.Shape {
		if a.Input.Shape[i] > 0 && b.Input.Shape[i] > 0 && a.Input.Shape[i] != b.Input.Shape[i] {
			return fmt.Errorf("inputs differ: %s takes %s, %s takes %s", a.Model, dimString(a.Input.Shape), b.Model, dimString(b.Input.Shape))
		}
	}
	return nil
}

type inBatch struct {
	x     []float32
	shape []int64
}

func compareInputs(s *Session, split *dataset.Split, o CompareOptions) ([]inBatch, string, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	batch, kind := min(o.Batch, o.Samples), ErrUsage
	if fb := s.FixedBatch(); fb > 0 {
		batch, kind = fb, ErrShape
	}
	var out []inBatch
	if split != nil {
		if err := CheckInput(s, split); err != nil {
			return nil, "", err
		}
		in := split.InputShape()
		if _, err := batchElements(kind, s.Model, batch, []int64{int64(in[0]), int64(in[1]), int64(in[2])}); err != nil {
			return nil, "", err
		}
		n := min(o.Samples, split.Len())
		if _, err := batchElements(ErrUsage, s.Model, n, []int64{int64(in[0]), int64(in[1]), int64(in[2])}); err != nil {
			return nil, "", err // every input is held at once
		}
		idx := rng.Perm(split.Len())[:n]
		sort.Ints(idx)
		for start := 0; start < n; start += batch {
			part := idx[start:min(start+batch, n)]
			x, sh := split.Batch(part, false, nil)
			out = append(out, inBatch{x, []int64{int64(sh[0]), int64(in[0]), int64(in[1]), int64(in[2])}})
		}
		return out, fmt.Sprintf("%d samples of %s %s (seed %d)", n, split.Dataset, split.Name, o.Seed), nil
	}
	shape := s.Input.Shape
	if len(shape) == 0 {
		return nil, "", fmt.Errorf("%w: model %s input %q has no shape; give --data for real inputs", ErrShape, s.Model, s.Input.Name)
	}
	for i, d := range shape[1:] {
		if d <= 0 {
			return nil, "", fmt.Errorf("%w: model %s input %q has a dynamic dimension %d (%s); give --data for real inputs",
				ErrShape, s.Model, s.Input.Name, i+1, dimString(shape))
		}
	}
	if _, err := batchElements(kind, s.Model, batch, shape[1:]); err != nil {
		return nil, "", err
	}
	if _, err := batchElements(ErrUsage, s.Model, o.Samples, shape[1:]); err != nil {
		return nil, "", err // every input is held at once
	}
	per, _ := batchElements(kind, s.Model, 1, shape[1:])
	for start := 0; start < o.Samples; start += batch {
		rows := min(batch, o.Samples-start)
		if fb := s.FixedBatch(); fb > 0 {
			rows = fb
		}
		x := make([]float32, rows*per)
		for i := range x {
			x[i] = rng.Float32()
		}
		sh := append([]int64{int64(rows)}, shape[1:]...)
		out = append(out, inBatch{x, sh})
	}
	return out, fmt.Sprintf("%d random inputs %s, uniform [0,1) (seed %d)", o.Samples, dimString(shape), o.Seed), nil
}

func (r *CompareReport) diffOutputs(bs, cs *Session, batches []inBatch) error {
	// Match outputs by name, else by position.
	pair := make([]int, len(bs.Outputs))
	cByName := map[string]int{}
	for j, v := range cs.Outputs {
		cByName[v.Name] = j
	}
	for i, v := range bs.Outputs {
		if j, ok := cByName[v.Name]; ok {
			pair[i] = j
		} else if i < len(cs.Outputs) {
			pair[i] = i
		} else {
			pair[i] = -1
		}
	}
	diffs := make([]OutputDiff, len(bs.Outputs))
	agree := make([]int, len(bs.Outputs))
	rows := make([]int, len(bs.Outputs))
	for i, v := range bs.Outputs {
		diffs[i].Name = v.Name
		if pair[i] < 0 {
			diffs[i].Problem = fmt.Sprintf("candidate has no output %q", v.Name)
		}
	}
	for _, b := range batches {
		bo, err := bs.RunAll(b.x, b.shape)
		if err != nil {
			return err
		}
		co, err := cs.RunAll(b.x, b.shape)
		if err != nil {
			return err
		}
		for i := range bo {
			d := &diffs[i]
			if d.Problem != "" {
				continue
			}
			c := co[pair[i]]
			d.BaselineShape, d.CandidateShape = bo[i].Shape, c.Shape
			if bo[i].Data == nil || c.Data == nil {
				d.Problem = "output is not float32 in one of the models"
				continue
			}
			if !slices.Equal(bo[i].Shape, c.Shape) {
				d.Problem = fmt.Sprintf("shape %s in baseline, %s in candidate", dimString(bo[i].Shape), dimString(c.Shape))
				continue
			}
			for k, bv := range bo[i].Data {
				a, cv := float64(bv), float64(c.Data[k])
				ad := math.Abs(cv - a)
				if math.IsNaN(ad) {
					if !(math.IsNaN(a) && math.IsNaN(cv)) {
						d.Exceeding++
						d.MaxAbs = math.Inf(1)
					}
					continue
				}
				d.MaxAbs = math.Max(d.MaxAbs, ad)
				if den := math.Abs(a); den > 0 {
					d.MaxRel = math.Max(d.MaxRel, ad/den)
				} else if ad > 0 {
					d.MaxRel = math.Inf(1)
				}
				if ad > r.Atol+r.Rtol*math.Abs(a) {
					d.Exceeding++
				}
			}
			d.Elements += len(bo[i].Data)
			if len(bo[i].Shape) == 2 && bo[i].Shape[1] > 1 {
				k := int(bo[i].Shape[1])
				pa, pc := metrics.Argmax(bo[i].Data, k), metrics.Argmax(c.Data, k)
				for j := range pa {
					if pa[j] == pc[j] {
						agree[i]++
					}
				}
				rows[i] += len(pa)
			}
		}
	}
	for i := range diffs {
		if rows[i] > 0 {
			a := float64(agree[i]) / float64(rows[i])
			diffs[i].ArgmaxAgree = &a
		}
		if math.IsInf(diffs[i].MaxRel, 1) {
			diffs[i].MaxRel = math.MaxFloat64 // JSON has no Inf
		}
		if math.IsInf(diffs[i].MaxAbs, 1) {
			diffs[i].MaxAbs = math.MaxFloat64
		}
		if diffs[i].Problem != "" || diffs[i].Exceeding > 0 {
			r.OutputsDiffer = true
		}
	}
	if len(cs.Outputs) > len(bs.Outputs) {
		r.StructureChanged = true // onnx.Diff lists the extra outputs
	}
	r.Outputs = diffs
	return nil
}

// WriteText prints the comparison for a terminal or CI log.
func (r *CompareReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "baseline   %s  (%d params, %d non-zero)\n", r.Baseline, r.BaselineParams.Total, r.BaselineParams.Nonzero)
	fmt.Fprintf(w, "candidate  %s  (%d params, %d non-zero)\n", r.Candidate, r.CandidateParams.Total, r.CandidateParams.Nonzero)
	if len(r.Structure) == 0 {
		fmt.Fprintf(w, "structure  identical\n")
	} else {
		note := ""
		if r.AllowStructure {
			note = " (allowed)"
		}
		fmt.Fprintf(w, "structure  %d difference(s)%s:\n", len(r.Structure), note)
		for _, d := range r.Structure {
			fmt.Fprintf(w, "  - %s\n", d)
		}
	}
	fmt.Fprintf(w, "inputs     %s\n", r.Inputs)
	fmt.Fprintf(w, "tolerance  |candidate - baseline| <= %g + %g*|baseline|\n", r.Atol, r.Rtol)
	for _, d := range r.Outputs {
		if d.Problem != "" {
			fmt.Fprintf(w, "output %-12q DIFFERS: %s\n", d.Name, d.Problem)
			continue
		}
		status := "ok"
		if d.Exceeding > 0 {
			status = "DIFFERS"
		}
		fmt.Fprintf(w, "output %-12q %s: max abs %.3g, max rel %.3g, %d/%d elements beyond tolerance", d.Name, status, d.MaxAbs, d.MaxRel, d.Exceeding, d.Elements)
		if d.ArgmaxAgree != nil {
			fmt.Fprintf(w, ", argmax agreement %.2f%%", 100**d.ArgmaxAgree)
		}
		fmt.Fprintln(w)
	}
	if r.Pass {
		fmt.Fprintln(w, "result     PASS")
	} else {
		var why []string
		if r.OutputsDiffer {
			why = append(why, "outputs differ")
		}
		if r.StructureChanged && !r.AllowStructure {
			why = append(why, "structure changed (use --allow-structure-change to check outputs only)")
		}
		fmt.Fprintf(w, "result     FAIL: %s\n", strings.Join(why, "; "))
	}
}

// WriteJSON writes the report as indented JSON, atomically.
func (r *CompareReport) WriteJSON(path string) error { return atomicfile.WriteJSON(path, r) }
