package dataset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Share is a conflict share: the percentage of bias-conflicting training samples a benchmark
// release was built with (Colored MNIST's 0.5, 1, 2 and 5 %), which picks its
// <share>pct folder and, in the reference's presets, λ_up. It is resolved once, where a
// user or a file gives it (ParseShare, or config.json through UnmarshalText), and travels
// as this type: the folder, the presets, the report and the exported metadata all read
// the same value, so no spelling can load one share and train with another's settings.
//
// The zero Share is "none": the data is not chosen by a share (celeba, folder), or a split
// that does not depend on it (test).
type Share struct {
	text string  // canonical: "0.5", "1", "12.25"; "" = none
	pct  float64 // the same number, read once by ParseShare
}

// ErrShare is wrapped by every error ParseShare returns.
var ErrShare = errors.New("bad conflict share")

// shareSpellings is what ParseShare's errors say it accepts.
const shareSpellings = "a percentage above 0 and below 100 written as digits with an optional decimal " +
	"fraction and an optional pct or % suffix, e.g. 0.5, 1, 2, 5pct, 5%"

// ParseShare reads a conflict share in percent. Accepted, after surrounding space is
// trimmed: digits with an optional fraction (0.5, 1, 1.0, 02), optionally followed by "pct"
// (the folder's own spelling, 1pct) or "%". The value must lie strictly between 0 and 100.
// Refused rather than guessed: an empty text, signs, exponents (1e0), digit separators
// (1_0), hexadecimal, NaN and Inf, a bare point (.5, 5.), lists (1,2), space inside,
// and more digits than a float64 holds exactly (its folder name and λ_up must agree).
// Spellings of one value give the same Share: "1", "1.0", "01", "1pct" and "1%" are equal.
func ParseShare(s string) (Share, error) {
	t := strings.TrimSpace(s)
	num := t
	if n, ok := strings.CutSuffix(t, "pct"); ok {
		num = n
	} else if n, ok := strings.CutSuffix(t, "%"); ok {
		num = n
	}
	canon, ok := canonicalDecimal(num)
	if !ok {
		return Share{}, fmt.Errorf("conflict share %q: %w: want %s", s, ErrShare, shareSpellings)
	}
	v, err := strconv.ParseFloat(canon, 64)
	switch {
	case err != nil || strconv.FormatFloat(v, 'f', -1, 64) != canon:
		return Share{}, fmt.Errorf("conflict share %q: %w: more digits than a float64 holds exactly", s, ErrShare)
	case v <= 0 || v >= 100:
		return Share{}, fmt.Errorf("conflict share %q: %w: want a percentage above 0 and below 100", s, ErrShare)
	}
	return Share{canon, v}, nil
}

// MustShare is ParseShare for constants (the registry's published shares, tests); a bad
// text panics.
func MustShare(s string) Share {
	sh, err := ParseShare(s)
	if err != nil {
		panic(err)
	}
	return sh
}

// canonicalDecimal turns digits[.digits] into its shortest spelling (leading zeros of the
// whole part and trailing zeros of the fraction dropped); ok is false for anything else.
func canonicalDecimal(s string) (string, bool) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || (hasPoint && frac == "") || !digits(whole) || !digits(frac) {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		return whole + "." + frac, true
	}
	return whole, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String is the canonical text ("0.5", "1"; "" for none): what config.json, the report and
// the exported metadata write.
func (s Share) String() string { return s.text }

// IsZero reports whether s is none.
func (s Share) IsZero() bool { return s.text == "" }

// Percent is the share in percent (0 for none).
func (s Share) Percent() float64 { return s.pct }

// Dir is the share's folder name in the published layouts ("0.5pct", "1pct"); "" for none.
func (s Share) Dir() string {
	if s.text == "" {
		return ""
	}
	return s.text + "pct"
}

// MarshalText writes the canonical text, so config.json reads "conflict_pct": "1" as it
// always did ("" for none).
func (s Share) MarshalText() ([]byte, error) { return []byte(s.text), nil }

// UnmarshalText reads what ParseShare accepts, and "" as none: every config.json written
// so far stored the flag's text as given, which ParseShare reads to the same share.
func (s *Share) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = Share{}
		return nil
	}
	sh, err := ParseShare(string(b))
	if err != nil {
		return err
	}
	*s = sh
	return nil
}
