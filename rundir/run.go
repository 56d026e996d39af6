package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/tensor"
)

// Run is an opened run directory.
type Run struct {
	Dir    string
	Config Config
	Arch   *arch.Arch
	ID     string // from RunFile; "" for a run written before ids existed
}

// Path joins a file name onto the run directory.
func (r *Run) Path(name string) string { return filepath.Join(r.Dir, name) }

// Files lists the paths of the files a run directory dir holds or may hold: the run's own
// files, those its stages write, and those of its checkpoint folder. Commands that read a
// run refuse to write over any of them.
func Files(dir string) []string {
	var paths []string
	for _, f := range FileNames() {
		paths = append(paths, filepath.Join(dir, f))
	}
	ents, _ := os.ReadDir(filepath.Join(dir, CheckpointDir)) // none yet: nothing to protect
	for _, e := range ents {
		paths = append(paths, filepath.Join(dir, CheckpointDir, e.Name()))
	}
	return paths
}

// FileNames are the names of the files directly in a run directory (Files joins them onto
// one): a file of another name cannot be taken for one of them.
func FileNames() []string {
	files := []string{ConfigFile, RunFile, SummaryFile, MetricsFile}
	for _, s := range Stages() {
		files = append(files, s.Files...)
	}
	return files
}

// Open reads a run directory's configuration and the architecture it describes.
func Open(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("run directory %s: not a directory", dir)
	}
	r := &Run{Dir: dir}
	if r.Config, err = ReadConfig(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run directory %s: no %s (not a dcwp-train run, or it never started)", dir, ConfigFile)
	} else if err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	a, err := r.Config.Arch()
	if err != nil {
		return nil, fmt.Errorf("run directory %s: %s: %w", dir, ConfigFile, err)
	}
	r.Arch = a
	if r.ID, _, err = ReadID(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// Network is one network of a run: every parameter of its arch, and for the DCWP
// subnetwork the fixed binary mask of each masked weight.
type Network struct {
	Which  string
	Arch   *arch.Arch
	Params map[string]tensor.Tensor
	Masks  map[string]tensor.Tensor // nil for the vanilla network

	File  string // the weights' file, for messages; "" when built in memory
	RunID string // the run the weights come from; "" when unknown
	Role  string // the weights' role (RoleVanilla, RoleDCWP); "" when unknown
	// Warnings say what could not be checked (files written before run ids existed).
	Warnings []string
}

// network is one network of a run that can be loaded whole (and exported): its name,
// its file and the role its file records.
type network struct{ which, file, role string }

// networks is every loadable network, DCWP's (the default of dcwp-export) first.
func networks() []network {
	return []network{{DCWP, DCWPFile, RoleDCWP}, {Vanilla, VanillaFile, RoleVanilla}}
}

// Networks names the networks Network loads, the default first.
func Networks() []string {
	var out []string
	for _, n := range networks() {
		out = append(out, n.which)
	}
	return out
}

// Network loads the vanilla or the DCWP network, checking every tensor against the arch
// and every file's identity against the run (checkIdentity).
func (r *Run) Network(which string) (*Network, error) {
	i := slices.IndexFunc(networks(), func(n network) bool { return n.which == which })
	if i < 0 {
		return nil, fmt.Errorf("unknown network %q (want one of %v)", which, Networks())
	}
	file, role := networks()[i].file, networks()[i].role
	n := &Network{Which: which, Arch: r.Arch, File: r.Path(file), Role: role}
	params, id, err := r.readChecked(file, r.Arch.Params(), false)
	if err != nil {
		return nil, err
	}
	n.Params, n.RunID = params, id.runID
	warn, err := r.checkIdentity(file, role, id, fileIdentity{}, "")
	if err != nil {
		return nil, err
	}
	n.warn(warn)
	if which == DCWP {
		masks, mid, err := r.readChecked(MaskFile, r.Arch.MaskedParams(), true)
		if err != nil {
			return nil, err
		}
		if err := checkUnits(r.Arch, masks); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Path(MaskFile), err)
		}
		n.Masks = masks
		warn, err := r.checkIdentity(MaskFile, RoleMask, mid, id, file)
		if err != nil {
			return nil, err
		}
		n.warn(warn)
		if n.RunID == "" {
			n.RunID = mid.runID
		}
	}
	if n.RunID == "" {
		n.RunID = r.ID
	}
	return n, nil
}

func (n *Network) warn(w string) {
	if w != "" && !slices.Contains(n.Warnings, w) {
		n.Warnings = append(n.Warnings, w)
	}
}

func (r *Run) readChecked(file string, want []arch.Param, mask bool) (map[string]tensor.Tensor, fileIdentity, error) {
	path := r.Path(file)
	got, meta, err := tensor.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fileIdentity{}, fmt.Errorf("run directory %s: %s is missing (did the run finish this stage?)", r.Dir, file)
		}
		return nil, fileIdentity{}, err
	}
	ts, err := r.checkTensors(path, got, want, mask)
	return ts, identityOf(meta), err
}

func (r *Run) checkTensors(path string, got map[string]tensor.Tensor, want []arch.Param, mask bool) (map[string]tensor.Tensor, error) {
	for _, p := range want {
		t, ok := got[p.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no tensor %q: checkpoint does not match model %s in %s", path, p.Name, r.Config.Model, ConfigFile)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(p.Shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, model %s wants %v", path, p.Name, t.Shape, r.Config.Model, p.Shape)
		}
		if mask && t.U8 == nil || !mask && t.F32 == nil {
			return nil, fmt.Errorf("%s: tensor %q has the wrong dtype", path, p.Name)
		}
		if t.Numel() != len(t.F32)+len(t.U8) {
			return nil, fmt.Errorf("%s: tensor %q holds %d values for shape %v", path, p.Name, len(t.F32)+len(t.U8), t.Shape)
		}
	}
	return got, nil
}

// checkUnits refuses a mask that varies within an output unit where one score gates the
// whole unit (arch.GranChannel): no run of that granularity writes one.
func checkUnits(a *arch.Arch, masks map[string]tensor.Tensor) error {
	for _, p := range a.MaskedParams() {
		per := p.Numel() / p.ScoreNumel()
		u := masks[p.Name].U8
		for i := range u {
			if (u[i] != 0) != (u[i-i%per] != 0) {
				return fmt.Errorf("mask %s varies within output unit %d, but the run's %s granularity gates whole units", p.Name, i/per, a.Granularity)
			}
		}
	}
	return nil
}

// Folded returns the parameters with each masked weight multiplied by its binary mask, and
// each bias or BatchNorm affine a unit's score gates (arch.GatedWith) zeroed where the unit
// is pruned: the network as it computes. For the vanilla network it returns the parameters
// as they are.
func (n *Network) Folded() map[string]tensor.Tensor {
	out := make(map[string]tensor.Tensor, len(n.Params))
	for name, t := range n.Params {
		m, ok := n.Masks[name]
		if !ok {
			out[name] = t
			continue
		}
		w := make([]float32, len(t.F32))
		for i, v := range t.F32 {
			if m.U8[i] != 0 {
				w[i] = v
			}
		}
		out[name] = tensor.F32(w, t.Shape...)
	}
	if n.Masks == nil {
		return out
	}
	for name, by := range n.Arch.GatedWith() {
		t, m := out[name], n.Masks[by]
		per := len(m.U8) / len(t.F32)
		v := slices.Clone(t.F32)
		for j := range v {
			if m.U8[j*per] == 0 {
				v[j] = 0
			}
		}
		out[name] = tensor.F32(v, t.Shape...)
	}
	return out
}

// Kept counts the kept (non-zero mask) entries of each masked weight.
func (n *Network) Kept() (kept, total int) {
	for _, m := range n.Masks {
		kept += countKept(m)
		total += len(m.U8)
	}
	return kept, total
}

// KeptRatios is the kept share of a set of binary masks, overall and per mask.
func KeptRatios(masks map[string]tensor.Tensor) (overall float64, per map[string]float64) {
	per = make(map[string]float64, len(masks))
	kept, total := 0, 0
	for name, m := range masks {
		k := countKept(m)
		per[name] = float64(k) / float64(len(m.U8))
		kept += k
		total += len(m.U8)
	}
	return float64(kept) / float64(total), per
}

func countKept(m tensor.Tensor) int {
	k := 0
	for _, v := range m.U8 {
		if v != 0 {
			k++
		}
	}
	return k
}
