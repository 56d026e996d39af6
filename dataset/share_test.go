package dataset

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// share is MustShare with "" as none, for test tables.
func share(s string) Share {
	if s == "" {
		return Share{}
	}
	return MustShare(s)
}

func TestParseShare(t *testing.T) {
	cases := []struct {
		in, want string // want "": refused
		why      string // a word the refusal says
	}{
		{"1", "1", ""}, {"0.5", "0.5", ""}, {"2", "2", ""}, {"5", "5", ""},
		{"1.0", "1", ""}, {"01", "1", ""}, {"0.50", "0.5", ""}, {"00.5", "0.5", ""}, {"12.250", "12.25", ""},
		{"1pct", "1", ""}, {"0.5pct", "0.5", ""}, {"1%", "1", ""}, {"5%", "5", ""},
		{" 1", "1", ""}, {"1 ", "1", ""}, {"\t2pct\n", "2", ""}, {"99.9", "99.9", ""}, {"0.001", "0.001", ""},
		{"", "", "want"}, {" ", "", "want"}, {"pct", "", "want"}, {"%", "", "want"},
		{"0", "", "above 0"}, {"0.0", "", "above 0"}, {"100", "", "below 100"}, {"250", "", "below 100"},
		{"-1", "", "want"}, {"+1", "", "want"}, {"1e0", "", "want"}, {"1E0", "", "want"}, {"1_0", "", "want"},
		{"0x1p0", "", "want"}, {"NaN", "", "want"}, {"nan", "", "want"}, {"Inf", "", "want"}, {"infinity", "", "want"},
		{".5", "", "want"}, {"5.", "", "want"}, {"1,2", "", "want"}, {",", "", "want"}, {"1 pct", "", "want"},
		{"1pct%", "", "want"}, {"1%pct", "", "want"}, {"1PCT", "", "want"}, {"1/2", "", "want"}, {"1.2.3", "", "want"},
		{"٣", "", "want"}, {"1\x00", "", "want"},
		{"0.50000000000000000001", "", "float64"}, {"1.00000000000000000001", "", "float64"},
	}
	for _, c := range cases {
		t.Run(strconv.Quote(c.in), func(t *testing.T) {
			got, err := ParseShare(c.in)
			if c.want != "" {
				if err != nil || got.String() != c.want {
					t.Fatalf("ParseShare(%q) = %q, %v; want %q", c.in, got, err, c.want)
				}
				if again, err := ParseShare(got.String()); err != nil || again != got {
					t.Fatalf("canonical %q does not read back to itself: %q, %v", got, again, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseShare(%q) = %q, want an error", c.in, got)
			}
			if !errors.Is(err, ErrShare) || !strings.Contains(err.Error(), strconv.Quote(c.in)) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("ParseShare(%q): error %q: want ErrShare, the text and %q", c.in, err, c.why)
			}
		})
	}
}

// The folder, λ_up and the number agree for every spelling of a share: the bug was a
// spelling ("1pct") that loaded the 1 % folder and took λ_up 80, the 0.5 % one's.
func TestShareSpellingsAgree(t *testing.T) {
	for _, c := range []struct {
		spellings []string
		dir       string
		pct       float64
		lambdaUp  float64
	}{
		{[]string{"0.5", "0.50", "0.5pct", "0.5%", " 0.5 "}, "0.5pct", 0.5, 80},
		{[]string{"1", "1.0", "01", "1pct", "1%", " 1"}, "1pct", 1, 50},
		{[]string{"2", "2.0", "2pct", "2%"}, "2pct", 2, 30},
		{[]string{"5", "5.00", "5pct", "5%"}, "5pct", 5, 10},
	} {
		for _, s := range c.spellings {
			sh, err := ParseShare(s)
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			if sh.Dir() != c.dir || sh.Percent() != c.pct || lambdaUpByPct(sh) != c.lambdaUp {
				t.Errorf("%q: folder %s, %g %%, λ_up %g; want %s, %g, %g", s, sh.Dir(), sh.Percent(), lambdaUpByPct(sh), c.dir, c.pct, c.lambdaUp)
			}
		}
	}
}

// config.json stores the share as a string: the canonical text, "" for none; every text a
// run directory holds reads to its share.
func TestShareJSON(t *testing.T) {
	type cfg struct {
		Share Share `json:"conflict_pct"`
	}
	for _, c := range []struct{ in, out string }{
		{`{"conflict_pct":"1"}`, `{"conflict_pct":"1"}`},
		{`{"conflict_pct":"0.5"}`, `{"conflict_pct":"0.5"}`},
		{`{"conflict_pct":"1.0"}`, `{"conflict_pct":"1"}`},
		{`{"conflict_pct":"2pct"}`, `{"conflict_pct":"2"}`},
		{`{"conflict_pct":""}`, `{"conflict_pct":""}`},
		{`{}`, `{"conflict_pct":""}`},
	} {
		var v cfg
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		b, err := json.Marshal(v)
		if err != nil || string(b) != c.out {
			t.Errorf("%s: wrote %s, %v; want %s", c.in, b, err, c.out)
		}
	}
	for _, in := range []string{`{"conflict_pct":"NaN"}`, `{"conflict_pct":"1_0"}`, `{"conflict_pct":1}`, `{"conflict_pct":" "}`} {
		var v cfg
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: read as %q, want an error", in, v.Share)
		}
	}
}

func TestShareNone(t *testing.T) {
	var none Share
	if !none.IsZero() || none.String() != "" || none.Dir() != "" || none.Percent() != 0 {
		t.Fatalf("zero Share: %q %q %g", none, none.Dir(), none.Percent())
	}
	if MustShare("1").IsZero() {
		t.Fatal("1 is none")
	}
}

// Every registered dataset's published shares are canonical shares, each once; the
// benchmarks' are the releases' (a dataset added later needs no row here).
func TestRegistryShares(t *testing.T) {
	published := map[string]string{CMNIST: "0.5 1 2 5", CIFAR10C: "0.5 1 2 5", BFFHQ: "0.5", CelebA: "", Folder: ""}
	for _, n := range Names() {
		in, _ := Lookup(n)
		var got []string
		for _, s := range in.Shares {
			if again, err := ParseShare(s.String()); err != nil || again != s || slices.Contains(got, s.String()) {
				t.Errorf("%s: share %q is not a canonical share listed once", n, s)
			}
			got = append(got, s.String())
		}
		if in.HasShares() != (len(got) > 0) {
			t.Errorf("%s: HasShares %v with shares %v", n, in.HasShares(), got)
		}
		if want, ok := published[n]; ok && strings.Join(got, " ") != want {
			t.Errorf("%s: shares %v, want %q", n, got, want)
		}
	}
}

// FuzzParseShare: whatever the text, a share read is canonical (it reads back to itself),
// its folder is <text>pct, and it lies strictly between 0 and 100; a refusal wraps ErrShare.
func FuzzParseShare(f *testing.F) {
	for _, s := range []string{"1", "0.5", "1pct", "1%", " 1", "1.0", "NaN", "1_0", "", ",", "1e0", "0x1p0", ".5", "100", "0.50000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShare(s)
		if err != nil {
			if !errors.Is(err, ErrShare) {
				t.Fatalf("%q: error %v is not ErrShare", s, err)
			}
			return
		}
		again, err := ParseShare(sh.String())
		if err != nil || again != sh {
			t.Fatalf("%q: canonical %q reads back as %q, %v", s, sh, again, err)
		}
		if v := sh.Percent(); !(v > 0 && v < 100) || sh.Dir() != sh.String()+"pct" {
			t.Fatalf("%q: %g %%, folder %q", s, v, sh.Dir())
		}
	})
}
