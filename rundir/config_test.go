package rundir

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// configJSON is a config.json as dcwp-train wrote it while its settings were plain strings.
const configJSON = `{"tool_version":"dev","dataset":"cmnist","data":"/data","conflict_pct":"1","model":"mlp","preset":"quick","variant":"as-coded","mode":"dcwp","stages":["pretrain","mine","prune","finetune"],"seed":0,"device":"cpu","threads":2,"batch_size":256,"pretrain":{"optimizer":"adam","lr":0.01,"iters":1000,"beta1":0.9,"beta2":0.99},"mining_model":{"optimizer":"sgd","lr":0.1,"iters":600,"step_size":600,"gamma":0.1,"weight_decay":0.0001,"momentum":0.9},"prune":{"optimizer":"adam","lr":0.01,"iters":300,"beta1":0.9,"beta2":0.99},"finetune":{"optimizer":"adam","lr":0.001,"iters":300,"beta1":0.9,"beta2":0.99},"bias_loss":"gce","q":0.7,"miner":"ensemble","select_with_gce":true,"ensemble_threshold":0.8,"lambda_up":50,"lambda_sparse":1e-8,"lambda_con":1,"temperature":0.07,"mask_temperature":1,"score_init":1.5,"eval_every":50,"checkpoint_every":100,"select":"best-valid"}`

// TestConfigJSONUnchanged requires a config.json of before the typed settings to read into
// their constants and to write back byte for byte.
func TestConfigJSONUnchanged(t *testing.T) {
	var c Config
	if err := json.Unmarshal([]byte(configJSON), &c); err != nil {
		t.Fatal(err)
	}
	if c.Variant != AsCoded || !c.AsCoded() || c.Miner != MinerEnsemble || c.Select != SelectBestValid ||
		c.Mode != ModeDCWP || c.BiasLoss != GCE || c.Pretrain.Optimizer != Adam || c.MiningModel.Optimizer != SGD {
		t.Fatalf("read %+v", c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte(configJSON)) {
		t.Fatalf("wrote\n%s\nwant\n%s", b, configJSON)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string // "" = no error
	}{
		{"miner", MinerOracle.Check(), ""},
		{"bad miner", Miner("magic").Check(), `unknown miner "magic" (want one of [wrong ensemble oracle])`},
		{"variant", Clean.Check(), ""},
		{"bad variant", Variant("dirty").Check(), `unknown variant "dirty" (want one of [clean as-coded])`},
		{"mode", ModeVanilla.Check(), ""},
		{"bad mode", Mode("").Check(), `unknown mode "" (want one of [dcwp vanilla])`},
		{"selection", SelectLast.Check(), ""},
		{"bad selection", Selection("best").Check(), `unknown selection "best" (want one of [last best-valid])`},
		{"optimizer", SGD.Check(), ""},
		{"bad optimizer", Optimizer("rmsprop").Check(), `unknown optimizer "rmsprop" (want one of [adam sgd])`},
		{"loss", CE.Check(), ""},
		{"bad loss", Loss("mse").Check(), `unknown bias loss "mse" (want one of [gce ce])`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch {
			case c.want == "" && c.err != nil:
				t.Fatalf("error %v", c.err)
			case c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)):
				t.Fatalf("error %v, want %q", c.err, c.want)
			}
		})
	}
}
