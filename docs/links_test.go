// Package docs holds the project's documentation; its test checks that the
// Markdown files of the repository link only to files a fresh clone has.
package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink matches inline links and images: [text](target) and ![alt](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinksResolveInAClone checks every relative link of every tracked Markdown
// file: it must name a tracked file or folder inside the repository, since a
// clone has nothing else (no ../shared, no build outputs).
func TestLinksResolveInAClone(t *testing.T) {
	root, tracked := trackedFiles(t)
	checked := 0
	for f := range tracked {
		if !strings.HasSuffix(f, ".md") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if isExternal(target) {
				continue
			}
			checked++
			if err := resolves(root, f, target, tracked); err != "" {
				t.Errorf("%s: link %q %s", f, target, err)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found: the pattern or the file list is broken")
	}
}

func isExternal(target string) bool {
	return strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") ||
		strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#")
}

// resolves says what is wrong with target as written in file, or "".
func resolves(root, file, target string, tracked map[string]bool) string {
	path, _, _ := strings.Cut(target, "#")
	rel := filepath.Clean(filepath.Join(filepath.Dir(file), path))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "leaves the repository"
	}
	if tracked[rel] {
		return ""
	}
	prefix := rel + "/"
	for f := range tracked {
		if strings.HasPrefix(f, prefix) {
			return ""
		}
	}
	return "names no tracked file or folder"
}

// trackedFiles lists the files git tracks (what a clone has), relative to the
// repository root.
func trackedFiles(t *testing.T) (string, map[string]bool) {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	root := strings.TrimSpace(string(top))
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	tracked := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			tracked[f] = true
		}
	}
	return root, tracked
}

func TestResolves(t *testing.T) {
	tracked := map[string]bool{"README.md": true, "docs/method.md": true, "tools/setup.sh": true}
	for _, tc := range []struct {
		file, target string
		ok           bool
	}{
		{"README.md", "docs/method.md", true},
		{"README.md", "docs/method.md#stage-1", true},
		{"docs/results.md", "method.md", true},
		{"docs/results.md", "../tools", true},
		{"README.md", "../shared/spec/dcwp-method.md", false},
		{"README.md", "docs/missing.md", false},
		{"docs/method.md", "../../x", false},
	} {
		if got := resolves("", tc.file, tc.target, tracked) == ""; got != tc.ok {
			t.Errorf("%s -> %s: resolves %v, want %v", tc.file, tc.target, got, tc.ok)
		}
	}
}
