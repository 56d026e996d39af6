package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/rundir"
)

// Stat is the mean and the sample standard deviation (n−1; 0 for one value) of n values.
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

func stat(vs []float64) *Stat {
	if len(vs) == 0 {
		return nil
	}
	s := Stat{N: len(vs)}
	for _, v := range vs {
		s.Mean += v
	}
	s.Mean /= float64(len(vs))
	if len(vs) > 1 {
		for _, v := range vs {
			s.Std += (v - s.Mean) * (v - s.Mean)
		}
		s.Std = math.Sqrt(s.Std / float64(len(vs)-1))
	}
	return &s
}

// Acc is the test accuracies of one network over a group's runs.
type Acc struct {
	Unbiased    *Stat `json:"unbiased"`
	Aligned     *Stat `json:"aligned"`
	Conflicting *Stat `json:"conflicting"`
	WorstGroup  *Stat `json:"worst_group"`
}

// Setting is one setting that tells the groups apart.
type Setting struct {
	Key   string `json:"key"` // config.json's name, nested ones dotted: "pretrain.iters"
	Value string `json:"value"`
}

// NotDone is a run of a group that has no result, and where to look.
type NotDone struct {
	Run    string `json:"run"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	Log    string `json:"log,omitempty"`
}

// Row is one group of runs that differ only in seed.
type Row struct {
	Settings    []Setting     `json:"settings"`
	ConflictPct dataset.Share `json:"conflict_pct"`
	Select      string        `json:"select"` // the selection rule of the reported DCWP network
	N           int           `json:"n"`      // finished runs
	Seeds       []int64       `json:"seeds"`
	Runs        []string      `json:"runs"`
	NotDone     []NotDone     `json:"not_done"`
	Vanilla     Acc           `json:"vanilla"`
	DCWP        Acc           `json:"dcwp"`
	Gain        *Stat         `json:"gain"` // DCWP − vanilla unbiased test accuracy, run by run
	// ConflictingGain is DCWP − vanilla bias-conflicting test accuracy, run by run: what
	// debiasing is for.
	ConflictingGain *Stat `json:"conflicting_gain"`
	Mined           *Stat `json:"mined_count"` // training samples the miner flagged
	Kept            *Stat `json:"kept_ratio"`
	// FLOPsKept is the share of the masked layers' dense FLOPs the DCWP mask keeps, as the
	// runs achieved it (summary.json's flops_kept): under a budget (target_flops) at most
	// the budget, less where the objective keeps less.
	FLOPsKept *Stat `json:"flops_kept"`
	// CompactFLOPs and CompactParams are the share of the dense export's FLOPs and parameters
	// the compact export keeps, both as dcwp-export writes them (summary.json's deployed):
	// what the subnetwork saves where it is deployed.
	CompactFLOPs  *Stat `json:"compact_flops"`
	CompactParams *Stat `json:"compact_params"`
	Precision     *Stat `json:"mined_precision"`
	Recall        *Stat `json:"mined_recall"`
	WallSeconds   *Stat `json:"wall_seconds"`
	// PretrainIters is the iterations pre-training ran: what --pretrain-iters auto chose,
	// or the number the run was given.
	PretrainIters *Stat `json:"pretrain_iters"`
	key           string
}

// Table is the report: its rows, and the settings that make its columns.
type Table struct {
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// always are shown whether they vary or not: what a reader of the paper's tables looks for.
var always = []string{"dataset", "model", "conflict_pct", "variant", "mode", "select"}

// ignored never tell groups apart: seeds are what a group averages over; the others
// do not change what a run computes (or, data, where it was read from; stages, which
// stages the last process ran: a rerun of pruning and fine-tuning records only those).
var ignored = []string{"seed", "data", "tool_version", "device", "threads", "stages"}

// Build groups the entries by every setting but the seed, in the order they come.
func Build(entries []Entry) Table {
	var rows []*Row
	byKey := map[string]*Row{}
	flat := map[string]map[string]string{}
	done := map[string][]Entry{} // each group's finished runs
	for _, e := range entries {
		f := flatten(e.Config)
		k := key(f)
		r, ok := byKey[k]
		if !ok {
			r = &Row{key: k, ConflictPct: e.Config.ConflictPct, Select: string(e.Config.Select)}
			byKey[k], flat[k] = r, f
			rows = append(rows, r)
		}
		if e.Summary == nil {
			r.NotDone = append(r.NotDone, NotDone{Run: e.Name, State: string(e.State), Detail: e.Detail, Log: e.Log})
			continue
		}
		r.Runs = append(r.Runs, e.Dir)
		r.Seeds = append(r.Seeds, e.Config.Seed)
		done[k] = append(done[k], e)
	}
	cols := columns(flat)
	t := Table{Columns: cols}
	for _, r := range rows {
		for _, c := range cols {
			r.Settings = append(r.Settings, Setting{c, flat[r.key][c]})
		}
		fill(r, done[r.key])
		t.Rows = append(t.Rows, *r)
	}
	return t
}

// columns are the settings always shown and those that differ between groups.
func columns(flat map[string]map[string]string) []string {
	cols := slices.Clone(always)
	var varying []string
	seen := map[string]bool{}
	for _, f := range flat {
		for k := range f {
			seen[k] = true
		}
	}
	for k := range seen {
		if slices.Contains(always, k) || slices.Contains(ignored, k) {
			continue
		}
		first, differs := "", false
		n := 0
		for _, f := range flat {
			if n == 0 {
				first = f[k]
			} else if f[k] != first {
				differs = true
			}
			n++
		}
		if differs {
			varying = append(varying, k)
		}
	}
	sort.Strings(varying)
	return append(cols, varying...)
}

// fill gives r the statistics of its group's finished runs.
func fill(r *Row, runs []Entry) {
	var va, vl, vc, vw, da, dl, dc, dw, gain, cgain, kept, flops, cflops, cparams, mined, prec, rec, wall, pre []float64
	for _, e := range runs {
		s := e.Summary
		r.N++
		t := s.Vanilla.Test
		va, vl, vc, vw = append(va, t.Accuracy), append(vl, t.AlignedAccuracy), append(vc, t.ConflictingAccuracy), append(vw, t.WorstGroupAccuracy)
		if s.DCWP != nil {
			d := s.DCWP.Test
			da, dl, dc, dw = append(da, d.Accuracy), append(dl, d.AlignedAccuracy), append(dc, d.ConflictingAccuracy), append(dw, d.WorstGroupAccuracy)
			gain = append(gain, d.Accuracy-t.Accuracy)
			cgain = append(cgain, d.ConflictingAccuracy-t.ConflictingAccuracy)
			kept = append(kept, s.KeptRatio)
		}
		if s.FLOPsKept != nil { // absent in summaries from before it was recorded
			flops = append(flops, *s.FLOPsKept)
		}
		if d := s.Deployed; d != nil && d.Dense.FLOPs > 0 && d.Dense.Params > 0 { // absent in older summaries
			cflops = append(cflops, float64(d.Compact.FLOPs)/float64(d.Dense.FLOPs))
			cparams = append(cparams, float64(d.Compact.Params)/float64(d.Dense.Params))
		}
		if e.Config.Mode != rundir.ModeVanilla {
			prec, rec = append(prec, s.Mined.Precision), append(rec, s.Mined.Recall)
			mined = append(mined, float64(s.Mined.Flagged))
		}
		wall = append(wall, wallSeconds(s))
		pre = append(pre, float64(e.Config.Pretrain.Iters))
		if s.PretrainAuto != nil {
			pre[len(pre)-1] = float64(s.PretrainAuto.Iters)
		}
	}
	r.Vanilla = Acc{stat(va), stat(vl), stat(vc), stat(vw)}
	r.DCWP = Acc{stat(da), stat(dl), stat(dc), stat(dw)}
	r.Gain, r.Kept, r.Precision, r.Recall, r.WallSeconds = stat(gain), stat(kept), stat(prec), stat(rec), stat(wall)
	r.ConflictingGain, r.Mined, r.PretrainIters, r.FLOPsKept = stat(cgain), stat(mined), stat(pre), stat(flops)
	r.CompactFLOPs, r.CompactParams = stat(cflops), stat(cparams)
}

// wallSeconds is a run's wall time as its summary records it (process start to end), or,
// in a summary from before that was recorded, the sum of its stage times (less: it leaves
// out loading the data and writing the results).
func wallSeconds(s *rundir.Summary) float64 {
	if s.WallSeconds > 0 {
		return s.WallSeconds
	}
	w := 0.0
	for _, sec := range s.StageSeconds {
		w += sec
	}
	return w
}

// flatten is a configuration as dotted keys to JSON values ("pretrain.iters": "3000"). The
// mask granularity config.json leaves out for the paper's weight level is named, so a
// weight-level group is told from a channel-level one by name ("weight"), not by a blank.
func flatten(c rundir.Config) map[string]string {
	if c.MaskGranularity == "" {
		c.MaskGranularity = arch.GranWeight
	}
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(prefix+k+".", x)
			}
		case string:
			out[prefix[:len(prefix)-1]] = v
		case float64:
			out[prefix[:len(prefix)-1]] = strconv.FormatFloat(v, 'g', -1, 64)
		default:
			b, _ := json.Marshal(v)
			out[prefix[:len(prefix)-1]] = string(b)
		}
	}
	walk("", m)
	return out
}

// key identifies a group: every setting but the ignored ones.
func key(flat map[string]string) string {
	var ks []string
	for k := range flat {
		if !slices.Contains(ignored, k) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	s := ""
	for _, k := range ks {
		s += fmt.Sprintf("%s=%s\n", k, flat[k])
	}
	return s
}
