package dcwp_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/arch"
	"github.com/dcwp-go/dcwp/dataset"
	"github.com/dcwp-go/dcwp/driver/dcwp"
	"github.com/dcwp-go/dcwp/eval"
	"github.com/dcwp-go/dcwp/internal/fixture"
)

// Every place that takes a dataset name from a user (dcwp-train's preset and
// config check, the architecture dcwp-train and dcwp-export build, dcwp-eval's
// loader) must treat an alias as its canonical name and reject an unknown name
// with dataset.Canonical's message. Once they each kept a list, and dcwp-train
// refused the colored_mnist that dcwp-eval took. The test lives here, not in
// package dataset, because dcwp's stages link libtorch and dataset's tests must not.
func TestEveryCommandResolvesNames(t *testing.T) {
	root := t.TempDir()
	if err := fixture.CMNIST(root); err != nil {
		t.Fatal(err)
	}
	// cifar10c shares cmnist's layout and class count: its test folder gets the same images.
	if err := os.CopyFS(filepath.Join(root, "cifar10c", "test"), os.DirFS(filepath.Join(root, "cmnist", "test"))); err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		name    string
		resolve func(name string) (any, error)
	}{
		{"dcwp-train: dcwp.Preset", func(n string) (any, error) {
			return dcwp.Preset("paper", n, dataset.MustShare("1"), "", "")
		}},
		{"dcwp-train, --resume, run readers: rundir.Config.Check", func(n string) (any, error) {
			c, err := dcwp.Preset("paper", "cmnist", dataset.MustShare("1"), "", "")
			if err != nil {
				return nil, err
			}
			c.Dataset = n
			return c, c.Check()
		}},
		{"dcwp-train, dcwp-export: arch.ForDataset", func(n string) (any, error) {
			return arch.ForDataset(n, false)
		}},
		{"dcwp-eval: eval.LoadSplit", func(n string) (any, error) {
			s, err := eval.LoadSplit(root, n, dataset.Share{}, "test")
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("%s, %d samples", s.Dataset, s.Len()), nil
		}},
	}
	cases := []struct{ in, canonical string }{
		{"colored_mnist", "cmnist"}, {"ColoredMNIST", "cmnist"}, {" CMNIST ", "cmnist"},
		{"cifar10_c", "cifar10c"}, {"CIFAR-10-C", "cifar10c"}, {"corrupted_cifar10", "cifar10c"},
		{"svhn", ""}, {"colored-mnist", ""},
	}
	for _, p := range paths {
		for _, c := range cases {
			t.Run(p.name+"/"+c.in, func(t *testing.T) {
				got, err := p.resolve(c.in)
				if c.canonical == "" {
					_, want := dataset.Canonical(c.in)
					if err == nil || !strings.Contains(err.Error(), want.Error()) {
						t.Fatalf("error %v, want one containing %q", err, want)
					}
					return
				}
				want, err2 := p.resolve(c.canonical)
				if err != nil || err2 != nil {
					t.Fatalf("%q: %v; %q: %v", c.in, err, c.canonical, err2)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%q gives %+v, %q gives %+v", c.in, got, c.canonical, want)
				}
			})
		}
	}
}
