package dataset

import (
	"fmt"
	"strings"
)

// Names returns the canonical dataset names, in the order messages list them.
func Names() []string {
	out := make([]string, len(registry))
	for i, in := range registry {
		out[i] = in.Name
	}
	return out
}

// Canonical returns the canonical name ("cmnist", ...) of a dataset named by its canonical
// name or an alias ("colored_mnist", ...), ignoring case and surrounding space: every place
// that takes a dataset name from a user resolves it here (through Lookup), so they accept the
// same aliases and reject an unknown name with the same message.
func Canonical(name string) (string, error) {
	in, err := Lookup(name)
	if err != nil {
		return "", err
	}
	return in.Name, nil
}

// unknownDatasetError says which names would have been accepted. It is a type
// rather than fmt.Errorf("...%w", ErrUnknown) so that the message can start
// with the name ("unknown dataset \"svhn\" ...") without repeating ErrUnknown's text.
type unknownDatasetError struct{ name string }

func (e unknownDatasetError) Error() string {
	var aliases []string
	for _, in := range registry {
		if len(in.Aliases) > 0 {
			aliases = append(aliases, strings.Join(in.Aliases, ", ")+" = "+in.Name)
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
