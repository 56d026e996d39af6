package dataset

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/metrics"
)

// A manifest's bias column holds the values of an attribute of its own (land/water, a
// scanner, a border colour; digits are values like any other), never a class. The groups
// are computed from train's rows once: the attribute values, in the order attributeOrder
// gives, and for each class the value it co-occurs with most (metrics.Majority). A model's
// or a resumed run's groups (Request.Groups) are used as they are instead, so that a value
// means the same group in every split and every evaluation.

// givenGroups takes the request's groups (a model's, a resumed run's), checked against the
// classes; ok reports whether there were any.
func givenGroups(req *Request, name string, classNames []string) (ok bool, err error) {
	if req.Groups == nil {
		return false, nil
	}
	if err := req.Groups.Check(len(classNames)); err != nil {
		return true, fmt.Errorf("dataset %s: groups for %d classes: %w", name, len(classNames), err)
	}
	req.groups = unlessIdentity(*req.Groups, classNames)
	return true, nil
}

// unlessIdentity is g, or nil where g is bias == label over the class names: one meaning,
// one form, so that a benchmark's run and its config.json are as they were before groups.
func unlessIdentity(g metrics.Groups, classNames []string) *metrics.Groups {
	id := metrics.Identity(classNames)
	if slices.Equal(g.Attributes, id.Attributes) && slices.Equal(g.Aligned, id.Aligned) {
		return nil
	}
	return &g
}

// benchmarkGroups settles a benchmark's groups from its training split, whose bias values
// are indices named by Info.Attributes (or the class names). Where every class is aligned
// with the value of its own index — Colored MNIST, CIFAR10-C, BFFHQ — they stay nil: bias ==
// label, nothing recorded. CelebA's blond hair co-occurs most with women, so there blond
// men are conflicting (the reference calls them aligned: docs/method.md).
func benchmarkGroups(in *Info, req *Request, train *Split) error {
	if ok, err := givenGroups(req, in.Name, in.Spec.ClassNames); ok || err != nil || !train.HasBias() {
		train.Groups = req.groups
		return err
	}
	names := in.Attributes
	if names == nil {
		names = in.Spec.ClassNames
	}
	g := metrics.Majority(train.Labels, train.Bias, in.Spec.Classes, names)
	for l, a := range g.Aligned {
		if a < 0 { // no training sample: the value of its own index, as the benchmarks pair them
			g.Aligned[l] = int32(l)
		}
	}
	req.groups = unlessIdentity(g, in.Spec.ClassNames)
	train.Groups = req.groups
	return nil
}

// manifestGroups settles the request's groups: the request's own, or train's. Without
// bias values in train there are none (req.groups nil): a bias value must then be a class
// name and is aligned when it is the label's (bias == label, the benchmarks' meaning).
func manifestGroups(req *Request) error {
	if ok, err := givenGroups(req, "folder: manifest "+req.Root, req.classes); ok || err != nil {
		return err
	}
	seen := map[string]bool{}
	var values []string
	for _, r := range req.rows[Train] {
		if r.bias != "" && !seen[r.bias] {
			seen[r.bias] = true
			values = append(values, r.bias)
		}
	}
	if len(values) == 0 {
		return nil
	}
	attrs := attributeOrder(values)
	index, classIdx := indexOf(attrs), indexOf(req.classes)
	var label, bias []int32
	for _, r := range req.rows[Train] {
		l, ok := classIdx[r.label]
		if !ok {
			l, ok = classIndex(req.classes, r.label)
		}
		if !ok || r.bias == "" {
			continue // addRow reports the row
		}
		label, bias = append(label, int32(l)), append(bias, int32(index[r.bias]))
	}
	req.groups = unlessIdentity(metrics.Majority(label, bias, len(req.classes), attrs), req.classes)
	return nil
}

// attributeOrder sorts attribute values: whole numbers by value first, then the rest as
// strings; the order only decides the columns of group tables and the index a value has.
func attributeOrder(values []string) []string {
	out := slices.Clone(values)
	slices.SortFunc(out, func(a, b string) int {
		x, errA := strconv.Atoi(a)
		y, errB := strconv.Atoi(b)
		switch {
		case errA == nil && errB == nil:
			return cmp.Or(cmp.Compare(x, y), strings.Compare(a, b))
		case errA == nil:
			return -1
		case errB == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// biasIndex is a bias value's index among the request's attribute values, or -1.
func (req *Request) biasIndex(v string) int {
	if req.attrIndex == nil {
		req.attrIndex = indexOf(groupsOr(req.groups, len(req.classes), req.classes).Attributes)
	}
	if k, ok := req.attrIndex[v]; ok {
		return k
	}
	return -1
}

// indexOf maps each value to its index.
func indexOf(values []string) map[string]int {
	m := make(map[string]int, len(values))
	for k, v := range values {
		m[v] = k
	}
	return m
}

// checkBiasValues refuses a split whose bias values are not among the groups' attribute
// values, naming every one of them.
func checkBiasValues(req *Request, sp string, rows []manifestRow) error {
	var unknown []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r.bias != "" && req.biasIndex(r.bias) < 0 && !seen[r.bias] {
			seen[r.bias] = true
			unknown = append(unknown, r.bias)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	g := groupsOr(req.groups, len(req.classes), req.classes)
	from := "train's bias values"
	switch {
	case req.Groups != nil:
		from = "the bias values the model was trained with"
	case len(req.rows[Train]) == 0 || req.rows[Train][0].bias == "":
		from = "the class names (train has no bias values: a split's must then be class names, aligned when equal to the label)"
	}
	return fmt.Errorf("%s's bias values %s are not among %s: %s: %w",
		sp, someQuoted(unknown), from, someQuoted(g.Attributes), ErrBadCSV)
}

// someQuoted lists the first values quoted, saying how many more there are.
func someQuoted(v []string) string {
	const most = 12
	q := make([]string, 0, min(len(v), most)+1)
	for _, s := range v[:min(len(v), most)] {
		q = append(q, strconv.Quote(s))
	}
	if len(v) > most {
		q = append(q, fmt.Sprintf("and %d more", len(v)-most))
	}
	return strings.Join(q, ", ")
}
