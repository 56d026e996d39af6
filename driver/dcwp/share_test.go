package dcwp

import (
	"testing"

	"github.com/dcwp-go/dcwp/dataset"
)

// TestPresetShare: a preset records the share only for a dataset chosen by one, and takes
// λ_up from the share itself, whatever its spelling was; a dataset chosen by a share
// without one is refused.
func TestPresetShare(t *testing.T) {
	for _, c := range []struct {
		dataset, share string
		wantShare      string
		wantLambdaUp   float64
	}{
		{"cmnist", "0.5", "0.5", 80}, {"cmnist", "1pct", "1", 50}, {"cmnist", "2%", "2", 30}, {"cmnist", "5.0", "5", 10},
		{"cifar10c", "1", "1", 50}, {"bffhq", "0.5", "0.5", 80},
		{"celeba", "1", "", 20}, {"celeba", "", "", 20}, {"folder", "", "", 80}, {"folder", "5", "", 80},
	} {
		var sh dataset.Share
		if c.share != "" {
			sh = dataset.MustShare(c.share)
		}
		cfg, err := Preset("paper", c.dataset, sh, "", "")
		if err != nil {
			t.Fatalf("%s %q: %v", c.dataset, c.share, err)
		}
		if cfg.ConflictPct.String() != c.wantShare || cfg.LambdaUp != c.wantLambdaUp {
			t.Errorf("%s %q: share %q, λ_up %g; want %q, %g", c.dataset, c.share, cfg.ConflictPct, cfg.LambdaUp, c.wantShare, c.wantLambdaUp)
		}
	}
	if _, err := Preset("paper", "cmnist", dataset.Share{}, "", ""); err == nil {
		t.Error("cmnist without a share: no error")
	}
}
