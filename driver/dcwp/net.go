package dcwp

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/model"
	"github.com/dcwp-go/dcwp/driver/torch"
	"github.com/dcwp-go/dcwp/metrics"
	"github.com/dcwp-go/dcwp/rundir"
	"github.com/dcwp-go/dcwp/tensor"
)

// newNet builds a network initialised from (seed, role) that computes in the run's precision.
func (r *runner) newNet(role string) (*model.Net, error) {
	p, err := r.precision()
	if err != nil {
		return nil, err
	}
	return r.newNetIn(role, p)
}

// precision is what the run trains in.
func (r *runner) precision() (model.Precision, error) {
	return rundir.ParsePrecision(r.c.Precision) // checked by Config.Check
}

func (r *runner) newNetIn(role string, p model.Precision) (*model.Net, error) {
	h := uint64(r.c.Seed)
	for _, b := range []byte(role) {
		h = h*1099511628211 ^ uint64(b)
	}
	return model.NewWith(r.arch, r.dev, h, model.Options{Precision: p, Format: r.o.MemoryFormat})
}

// loadNet reads a network the run wrote earlier, to go on training it in the run's precision.
func (r *runner) loadNet(file string) (*model.Net, error) {
	p, err := r.precision()
	if err != nil {
		return nil, err
	}
	return r.loadNetIn(file, p)
}

// loadShipped reads a network the run wrote earlier as dcwp-export ships it: in float32
// whatever the training precision, so that the summary scores the network users deploy.
func (r *runner) loadShipped(file string) (*model.Net, error) { return r.loadNetIn(file, model.FP32) }

func (r *runner) loadNetIn(file string, p model.Precision) (*model.Net, error) {
	ts, _, err := tensor.ReadFile(r.path(file))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing in %s: run the stage that writes it (--stages)", file, r.o.Out)
		}
		return nil, err
	}
	n, err := r.newNetIn("load", p)
	if err != nil {
		return nil, err
	}
	if _, err := n.Load(ts, false); err != nil {
		n.Close()
		return nil, fmt.Errorf("%s: %w", r.path(file), err)
	}
	return n, nil
}

// fileMeta is the safetensors metadata of a file of this run: its run id and role, so that
// readers can refuse a file of another run or the wrong network (rundir.FileMeta).
func (r *runner) fileMeta(role string, extra map[string]string) map[string]string {
	return rundir.FileMeta(r.id, role, extra)
}

// writeNet writes n's weights to the run's file.
func (r *runner) writeNet(file string, n *model.Net, meta map[string]string) error {
	ts, err := n.Export()
	if err != nil {
		return err
	}
	return tensor.WriteFile(r.path(file), ts, meta)
}

// batch turns sample indices into an input tensor, a label tensor and the host labels.
func (r *runner) batch(s *torch.Scope, sp *dataset.Split, idx []int, train bool, stream string, it int) (x, y *torch.Tensor, labels []int32) {
	defer r.prof.data(time.Now())
	x = pixels(s, sp, idx, train, rngFor(r.c.Seed, stream+"/aug", it), r.dev)
	labels = make([]int32, len(idx))
	y64 := make([]int64, len(idx))
	for k, i := range idx {
		labels[k] = sp.Labels[i]
		y64[k] = int64(sp.Labels[i])
	}
	y = s.FromInt64(y64, []int64{int64(len(idx))}, r.dev)
	return x, y, labels
}

// pixels is the network input for the samples idx: sp.Batch's values, scaled by libtorch
// where the transform leaves the stored bytes as they are. Scaling there, with the same
// division ToTensor does, gives the same floats as Batch at a fraction of the cost.
func pixels(s *torch.Scope, sp *dataset.Split, idx []int, train bool, rng *rand.Rand, dev torch.Device) *torch.Tensor {
	if px, shape, ok := sp.RawBatch(idx, train); ok {
		return s.DivScalar(s.ToFloat(s.FromUint8(px, dims(shape), dev)), 255)
	}
	data, shape := sp.Batch(idx, train, rng)
	return s.FromFloat32(data, dims(shape), dev)
}

func dims(shape [4]int) []int64 {
	return []int64{int64(shape[0]), int64(shape[1]), int64(shape[2]), int64(shape[3])}
}

// predict runs n over a split in eval mode and returns predictions and p(label).
func (r *runner) predict(n *model.Net, sp *dataset.Split, mask model.MaskMode) (pred []int32, py []float32, err error) {
	defer r.prof.pass()()
	const bs = 500
	pred = make([]int32, 0, sp.Len())
	py = make([]float32, 0, sp.Len())
	for lo := 0; lo < sp.Len(); lo += bs {
		hi := min(lo+bs, sp.Len())
		idx := make([]int, hi-lo)
		for k := range idx {
			idx[k] = lo + k
		}
		s := torch.NewNoGradScope()
		x, y, _ := r.batch(s, sp, idx, false, "eval", 0)
		logits, _ := n.Run(s, x, model.Forward{Mask: mask})
		p := s.Gather(s.Softmax(logits, 1), 1, s.Unsqueeze(y, 1))
		lv := s.Float32s(logits)
		pv := s.Float32s(p)
		err := s.Err()
		s.Close()
		if err != nil {
			return nil, nil, err
		}
		pred = append(pred, metrics.Argmax(lv, r.arch.Classes)...)
		py = append(py, pv...)
	}
	return pred, py, nil
}

func (r *runner) evaluate(n *model.Net, sp *dataset.Split, mask model.MaskMode) (metrics.Accuracy, error) {
	pred, _, err := r.predict(n, sp, mask)
	if err != nil {
		return metrics.Accuracy{}, err
	}
	return metrics.Score(pred, sp.Labels, sp.Bias, sp.Grouping()), nil
}
