package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// known is the one table of dataset names: every place that takes a dataset
// name from a user (the loader, arch.ForDataset, the trainer's presets,
// dcwp-eval) resolves it through Canonical, so they accept the same aliases and
// reject an unknown name with the same message.
var known = [...]struct {
	name    string
	aliases []string // lower case; matched after lower-casing and trimming the input
}{
	{CMNIST, []string{"colored_mnist", "coloredmnist"}},
	{CIFAR10C, []string{"cifar10_c", "cifar-10-c", "corrupted_cifar10"}},
	{BFFHQ, nil},
	{CelebA, nil},
}

// Names returns the canonical dataset names, in the order messages list them.
func Names() []string {
	out := make([]string, len(known))
	for i, k := range known {
		out[i] = k.name
	}
	return out
}

// Canonical returns the canonical name ("cmnist", ...) of a dataset named by
// its canonical name or an alias ("colored_mnist", ...), ignoring case and
// surrounding space. An unknown name is an error that lists the known ones and
// matches ErrUnknown under errors.Is.
func Canonical(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, k := range known {
		if n == k.name {
			return k.name, nil
		}
		for _, a := range k.aliases {
			if n == a {
				return k.name, nil
			}
		}
	}
	return "", unknownDatasetError{name}
}

// unknownDatasetError says which names would have been accepted. It is a type
// rather than fmt.Errorf("...%w", ErrUnknown) so that the message can start
// with the name ("unknown dataset \"svhn\" ...") without repeating ErrUnknown's text.
type unknownDatasetError struct{ name string }

func (e unknownDatasetError) Error() string {
	var aliases []string
	for _, k := range known {
		if len(k.aliases) > 0 {
			aliases = append(aliases, strings.Join(k.aliases, ", ")+" = "+k.name)
		}
	}
	return fmt.Sprintf("unknown dataset %q (want one of %s; also accepted: %s)",
		e.name, strings.Join(Names(), ", "), strings.Join(aliases, "; "))
}

func (e unknownDatasetError) Is(target error) bool { return target == ErrUnknown }

// canonicalSplit resolves a split name ("val" and "validation" are Valid).
func canonicalSplit(split string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(split)) {
	case "train":
		return Train, nil
	case "valid", "val", "validation":
		return Valid, nil
	case "test":
		return Test, nil
	default:
		return "", fmt.Errorf("dataset: split %q: %w (want train, valid or test)", split, ErrUnknown)
	}
}

// PctDir turns a conflict pct ("0.5", "1", "1.0", "2pct") into its folder name
// ("0.5pct", "1pct", ...).
func PctDir(pct string) (string, error) {
	p := strings.TrimSuffix(strings.TrimSpace(pct), "pct")
	p = strings.TrimSuffix(p, "%")
	v, err := strconv.ParseFloat(p, 64)
	if err != nil || v <= 0 || v >= 100 {
		return "", fmt.Errorf("conflict pct %q: %w (want e.g. 0.5, 1, 2, 5)", pct, ErrUnknown)
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "pct", nil
}
