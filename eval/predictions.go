package eval

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/internal/atomicfile"
	"github.com/dcwp-go/dcwp/metrics"
)

// PredictionColumns are the leading columns of a predictions CSV; one logit_<k> column per
// class follows, k the output's index (class_names metadata names it).
var PredictionColumns = []string{"path", "label", "label_name", "attribute", "conflicting", "predicted", "predicted_name"}

// WritePredictions writes one row per sample of split, in split order: its file, its label
// (index and name), its attribute value (empty without bias labels), whether it is
// bias-conflicting under g, the predicted class and every logit as the float32 it was
// (shortest round-trip form). A deployer runs their own pipeline on the same files and
// compares sample by sample. The file is written atomically.
func WritePredictions(path string, split *dataset.Split, p *Pass, g metrics.Groups) error {
	name := func(k int32) string {
		if int(k) < len(split.ClassNames) {
			return split.ClassNames[k]
		}
		return strconv.Itoa(int(k))
	}
	return atomicfile.Write(path, func(bw *bufio.Writer) error {
		w := csv.NewWriter(bw)
		head := append([]string(nil), PredictionColumns...)
		for k := range p.Classes {
			head = append(head, "logit_"+strconv.Itoa(k))
		}
		if err := w.Write(head); err != nil {
			return err
		}
		row := make([]string, len(head))
		for i := range p.Samples {
			row[0] = ""
			if split.Paths != nil {
				row[0] = split.Paths[i]
			}
			l := split.Labels[i]
			row[1], row[2] = strconv.Itoa(int(l)), name(l)
			row[3], row[4] = "", ""
			if split.HasBias() {
				row[3], row[4] = g.Name(int(split.Bias[i])), strconv.FormatBool(split.Conflicting(i))
			}
			row[5], row[6] = strconv.Itoa(int(p.Preds[i])), name(p.Preds[i])
			for k, v := range p.Logits[i*p.Classes : (i+1)*p.Classes] {
				row[len(PredictionColumns)+k] = strconv.FormatFloat(float64(v), 'g', -1, 32)
			}
			if err := w.Write(row); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("predictions %s: %w", path, err)
		}
		return nil
	})
}
