package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/dcwp-go/dcwp/exporter"
)

// TestHelpAndDocsListEveryFormat reads the format table: --help must describe each
// format, in the table's order, within its width, and docs/commands.md must have an entry
// for each, so a new format cannot ship undocumented.
func TestHelpAndDocsListEveryFormat(t *testing.T) {
	var so, se bytes.Buffer
	if code := run([]string{"dcwp-export", "--help"}, &so, &se); code != 0 {
		t.Fatalf("--help: exit %d: %s", code, se.String())
	}
	help := strings.Join(strings.Fields(so.String()), " ") // wrapping aside
	docs, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(help, "[--format "+formatNames("|")+"]") {
		t.Errorf("--help usage line does not list the formats")
	}
	last := -1
	for _, f := range exporter.Formats() {
		at := strings.Index(help, string(f)+" "+f.Help())
		if at < 0 {
			t.Errorf("--help does not describe format %q as %q", f, f.Help())
		}
		if at < last {
			t.Errorf("--help lists format %q out of the table's order", f)
		}
		last = at
		if !bytes.Contains(docs, []byte("- `"+string(f)+"`")) {
			t.Errorf("docs/commands.md has no entry \"- `%s`\" under Formats", f)
		}
	}
	for _, l := range strings.Split(formatHelp(), "\n") {
		if len(l) > helpWidth {
			t.Errorf("format help line longer than %d: %q", helpWidth, l)
		}
	}
}
