package rundir

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStageTable holds the stage table to what the rest of the run directory says: each
// loop's Key is the config.json key its settings are written under, names are unique, and
// every file a stage writes is one the readers protect (Files).
func TestStageTable(t *testing.T) {
	c := validConfig(t)
	settings, err := Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range Loops() {
		if seen[l.Name] || seen[l.Key] {
			t.Errorf("loop %q (key %q) named twice", l.Name, l.Key)
		}
		seen[l.Name], seen[l.Key] = true, true
		o := l.Optim(&c)
		if o == nil { // an optional loop this config lacks: then its key must be absent too
			if v, ok := settings[l.Key]; ok {
				t.Errorf("loop %s: no settings, but config.json key %q holds %s", l.Name, l.Key, v)
			}
			continue
		}
		want, _ := json.Marshal(*o)
		if got := string(settings[l.Key]); got != string(want) {
			t.Errorf("loop %s: config.json key %q holds %s, its settings are %s", l.Name, l.Key, got, want)
		}
		o.Iters = 12345 // the accessor gives the config's own settings, not a copy
		if l.Optim(&c).Iters != 12345 {
			t.Errorf("loop %s: Optim returns a copy", l.Name)
		}
	}
	files := Files("run")
	for i, s := range Stages() {
		if StageIndex(s.Name) != i {
			t.Errorf("stage %s: index %d, want %d", s.Name, StageIndex(s.Name), i)
		}
		for _, f := range s.Files {
			if !slices.Contains(files, filepath.Join("run", f)) {
				t.Errorf("stage %s writes %s, which Files leaves out", s.Name, f)
			}
		}
		for _, l := range s.Loops {
			if LoopStage(l.Name) != i {
				t.Errorf("loop %s: stage %d, want %d", l.Name, LoopStage(l.Name), i)
			}
		}
	}
	if LoopStage("train") != -1 || StageIndex("train") != -1 {
		t.Error("an unknown name has a place in the pipeline")
	}
}

func TestPipelineOrder(t *testing.T) {
	all := StageNames()
	cases := []struct {
		in   []string
		want []string
		err  string
	}{
		{[]string{StageFinetune, StagePrune}, []string{StagePrune, StageFinetune}, ""},
		{[]string{StageMine, StagePretrain, StageMine}, []string{StagePretrain, StageMine}, ""},
		{all, all, ""},
		{[]string{StagePrune, "train"}, nil, `unknown stage "train"`},
		{nil, nil, "no stage given"},
	}
	for _, c := range cases {
		got, err := PipelineOrder(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: error %v, want one saying %q", c.in, err, c.err)
		case c.err == "" && (err != nil || !slices.Equal(got, c.want)):
			t.Errorf("%v: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// Each stage says what it writes and which loops it trains; a loop's Optim finds its
// settings in a run's configuration.
func ExampleStages() {
	c := Config{Prune: Optim{Optimizer: Adam, LR: 0.01, Iters: 300}}
	for _, s := range Stages() {
		if s.Name != StagePrune {
			continue
		}
		for _, l := range s.Loops {
			o := l.Optim(&c)
			fmt.Printf("%s writes %v; loop %s: config.json %q, flags --%s-*, %s lr %g for %d iterations\n",
				s.Name, s.Files, l.Name, l.Key, l.FlagPrefix(), o.Optimizer, o.LR, o.Iters)
		}
	}
	// Output:
	// prune writes [scores.safetensors mask.safetensors]; loop prune: config.json "prune", flags --prune-*, adam lr 0.01 for 300 iterations
}
