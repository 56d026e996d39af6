package report

import (
	"os"
	"strings"
	"testing"
)

// TestFormatTable: an unknown format is refused naming every known one, and
// docs/commands.md names the formats as --format takes them (it said "markdown", which
// --format refuses).
func TestFormatTable(t *testing.T) {
	err := Table{}.Write(&strings.Builder{}, "markdown")
	if err == nil {
		t.Fatal(`format "markdown" accepted`)
	}
	usage := FormatUsage()
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) || !strings.Contains(usage, f+" (") {
			t.Errorf("format %q: missing from the error %q or the help %q", f, err, usage)
		}
	}
	docs, err := os.ReadFile("../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "`--format " + strings.Join(Formats(), "|") + "`"; !strings.Contains(string(docs), want) {
		t.Errorf("docs/commands.md does not say %s", want)
	}
}
