package rundir

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/internal/fixture"
)

// configJSON is a config.json as dcwp-train wrote it while its settings were plain strings.
const configJSON = fixture.ConfigJSON

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

// TestConfigEngine: config.json records the engine and libtorch that trained the run, and
// one written before it did (configJSON) reads with both empty.
func TestConfigEngine(t *testing.T) {
	cases := []struct{ json, engine, libtorch string }{
		{configJSON, "", ""},
		{strings.Replace(configJSON, `"tool_version":"dev",`, `"tool_version":"dev","engine":"gotch","libtorch":"2.1.0",`, 1), "gotch", "2.1.0"},
	}
	for _, c := range cases {
		got, err := ParseConfig([]byte(c.json))
		if err != nil || got.Engine != c.engine || got.Libtorch != c.libtorch {
			t.Errorf("read engine %q libtorch %q (%v), want %q %q", got.Engine, got.Libtorch, err, c.engine, c.libtorch)
		}
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

func TestParsePrecision(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Precision
		ok   bool
	}{{"", FP32, true}, {"fp32", FP32, true}, {"bf16", BF16, true}, {"fp16", "", false}, {"BF16", "", false}} {
		p, err := ParsePrecision(c.in)
		if (err == nil) != c.ok || (c.ok && p != c.want) {
			t.Errorf("ParsePrecision(%q) = %q, %v", c.in, p, err)
		}
	}
}
