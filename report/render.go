package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// format is one way to write a report: --format's value, what --help says of it, and
// its writer.
type format struct {
	name, help string
	write      func(Table, io.Writer) error
}

// formats is every report format, the default first; --format, its help and check, and
// Write read it.
func formats() []format {
	return []format{
		{"md", "a markdown table", Table.markdown},
		{"csv", "one row per group, a header first", Table.csv},
		{"json", "the table as JSON", Table.json},
	}
}

// Formats lists the report formats, the default first.
func Formats() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.name)
	}
	return out
}

// FormatUsage is --format's help: "md (a markdown table), csv (...) or json (...)".
func FormatUsage() string {
	var parts []string
	for _, f := range formats() {
		parts = append(parts, fmt.Sprintf("%s (%s)", f.name, f.help))
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// figures are the columns of statistics, in the order every format lists them.
func figures(r Row) []struct {
	name string
	s    *Stat
	pct  bool // a share, shown in percent in markdown
} {
	type f = struct {
		name string
		s    *Stat
		pct  bool
	}
	return []f{
		{"vanilla_acc", r.Vanilla.Unbiased, true}, {"vanilla_aligned", r.Vanilla.Aligned, true},
		{"vanilla_conflicting", r.Vanilla.Conflicting, true}, {"vanilla_worst", r.Vanilla.WorstGroup, true},
		{"dcwp_acc", r.DCWP.Unbiased, true}, {"dcwp_aligned", r.DCWP.Aligned, true},
		{"dcwp_conflicting", r.DCWP.Conflicting, true}, {"dcwp_worst", r.DCWP.WorstGroup, true},
		{"gain", r.Gain, true}, {"conflicting_gain", r.ConflictingGain, true}, {"kept_ratio", r.Kept, true},
		{"flops_kept", r.FLOPsKept, true}, {"compact_flops", r.CompactFLOPs, true}, {"compact_params", r.CompactParams, true},
		{"mined", r.Mined, false}, {"mined_precision", r.Precision, false}, {"mined_recall", r.Recall, false},
		{"wall_seconds", r.WallSeconds, false}, {"pretrain_iters", r.PretrainIters, false},
	}
}

// Write writes the table in one of Formats().
func (t Table) Write(w io.Writer, format string) error {
	for _, f := range formats() {
		if f.name == format {
			return f.write(t, w)
		}
	}
	return fmt.Errorf("unknown format %q (want one of %v)", format, Formats())
}

func (t Table) json(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

func (t Table) markdown(w io.Writer) error {
	var b strings.Builder
	head := append(append([]string{}, t.Columns...), "n")
	for _, f := range figures(Row{}) {
		head = append(head, f.name)
	}
	head = mdEscape(head)
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat(" --- |", len(head)) + "\n")
	for _, r := range t.Rows {
		cells := mdEscape(settingValues(r))
		n := strconv.Itoa(r.N)
		if len(r.NotDone) > 0 {
			n += fmt.Sprintf(" (+%d not done)", len(r.NotDone))
		}
		cells = append(cells, n)
		for _, f := range figures(r) {
			cells = append(cells, mdStat(f.s, f.pct))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\nAccuracies on the test split, mean ± sample std over seeds, in %; gain = DCWP − vanilla accuracy, conflicting_gain = DCWP − vanilla bias-conflicting accuracy, run by run; kept_ratio = share of the masked weights the DCWP mask keeps, flops_kept = share of the masked layers' dense FLOPs it keeps (achieved: at most target_flops, where set), compact_flops and compact_params = share of the dense export's FLOPs and parameters the compact export keeps, both as dcwp-export writes them; mined = training samples flagged; wall time in seconds, process start to end.\n")
	var missing []string
	for _, r := range t.Rows {
		for _, m := range r.NotDone {
			log := m.Log
			if log == "" {
				log = "no log"
			}
			missing = append(missing, fmt.Sprintf("- %s: **%s**%s, log %s", md.Replace(m.Run), md.Replace(m.State), md.Replace(paren(m.Detail)), md.Replace(log)))
		}
	}
	if len(missing) > 0 {
		b.WriteString("\nRuns without results (not in the means):\n\n" + strings.Join(missing, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// md makes text safe in a markdown table cell or list item: values come from config.json
// and the runs' folders, where a "|" would end a cell and a line end the row, and "<", "&"
// or a backslash would be read as markup.
var md = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "&#124;", `\`, "&#92;",
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>")

func mdEscape(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = md.Replace(c)
	}
	return out
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func settingValues(r Row) []string {
	var out []string
	for _, s := range r.Settings {
		out = append(out, s.Value)
	}
	return out
}

func mdStat(s *Stat, pct bool) string {
	if s == nil {
		return "–"
	}
	if pct {
		return fmt.Sprintf("%.2f ± %.2f", 100*s.Mean, 100*s.Std)
	}
	if s.Mean >= 10 {
		return fmt.Sprintf("%.0f ± %.0f", s.Mean, s.Std)
	}
	return fmt.Sprintf("%.3f ± %.3f", s.Mean, s.Std)
}

func (t Table) csv(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append(append([]string{}, t.Columns...), "n", "not_done")
	for _, f := range figures(Row{}) {
		head = append(head, f.name+"_mean", f.name+"_std")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		var nd []string
		for _, m := range r.NotDone {
			nd = append(nd, m.Run+" "+m.State+" "+m.Log)
		}
		rec := append(settingValues(r), strconv.Itoa(r.N), strings.Join(nd, "; "))
		for _, f := range figures(r) {
			if f.s == nil {
				rec = append(rec, "", "")
				continue
			}
			rec = append(rec, strconv.FormatFloat(f.s.Mean, 'g', -1, 64), strconv.FormatFloat(f.s.Std, 'g', -1, 64))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
