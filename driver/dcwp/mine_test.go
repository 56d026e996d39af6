package dcwp

import (
	"testing"

	"github.com/dcwp-go/dcwp/rundir"
)

// TestMinerFile: the network that mines comes from the run's settings and, for the
// datasets the reference always mines with the biased network (dataset.Info.MineWithBiased:
// celeba), from the registry; no dataset name is tested in the driver.
func TestMinerFile(t *testing.T) {
	for _, c := range []struct {
		dataset     string
		miningModel bool
		selectGCE   bool
		want        string
	}{
		{"cmnist", false, false, rundir.VanillaFile},
		{"cmnist", true, false, rundir.BiasedFile},
		{"cmnist", false, true, rundir.BiasedFile},
		{"cifar10c", false, false, rundir.VanillaFile},
		{"bffhq", false, false, rundir.VanillaFile},
		{"folder", false, false, rundir.VanillaFile},
		{"celeba", false, false, rundir.BiasedFile},
		{"celeba", false, true, rundir.BiasedFile},
	} {
		cfg := rundir.Config{Dataset: c.dataset, SelectWithGCE: c.selectGCE}
		if c.miningModel {
			cfg.MiningModel = &rundir.Optim{}
		}
		r := &runner{c: &cfg}
		if got, err := r.minerFile(); err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %s", c, got, err, c.want)
		}
	}
	r := &runner{c: &rundir.Config{Dataset: "svhn"}}
	if _, err := r.minerFile(); err == nil {
		t.Error("an unknown dataset mined")
	}
}
