package exporter

import (
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
	fixture "github.com/dcwp-go/dcwp/internal/exportfixture"
)

// TestShareMetadata: conflict_pct is recorded where the dataset is chosen by a share, and
// left out where it means nothing (celeba, folder), also for older celeba runs whose
// config.json stored the flag's default "1".
func TestShareMetadata(t *testing.T) {
	s := specs[0]
	net, err := fixture.Network(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dataset, share string
		want           string // "" = absent
	}{
		{dataset.CMNIST, "1", "1"}, {dataset.CMNIST, "0.5", "0.5"}, {dataset.CIFAR10C, "5", "5"}, {dataset.BFFHQ, "0.5", "0.5"},
		{dataset.CelebA, "1", ""}, {dataset.CelebA, "", ""}, {dataset.Folder, "", ""}, {dataset.Folder, "2", ""},
	} {
		cfg := s.Config()
		cfg.Dataset, cfg.ConflictPct = c.dataset, dataset.Share{}
		if c.share != "" {
			cfg.ConflictPct = dataset.MustShare(c.share)
		}
		o, err := Options{}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := "", false
		for _, kv := range metadata(cfg, net, o, &Stats{}) {
			if kv[0] == "conflict_pct" {
				got, ok = kv[1], true
			}
		}
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s run with share %q: conflict_pct %q (present %v), want %q", c.dataset, c.share, got, ok, c.want)
		}
	}
}
