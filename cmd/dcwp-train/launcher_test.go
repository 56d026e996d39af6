package main

import (
	"strings"
	"testing"
)

// TestLauncherTable checks the one list of launchers: unique names, each found by
// --launcher and described in its help, and an unknown one refused naming them all.
func TestLauncherTable(t *testing.T) {
	seen := map[string]bool{}
	usage := launcherUsage()
	for _, l := range launchers() {
		if seen[l.name] || l.help == "" || l.run == nil {
			t.Errorf("launcher %q: listed twice, or no help or run", l.name)
		}
		seen[l.name] = true
		if got, err := lookupLauncher(l.name); err != nil || got.name != l.name {
			t.Errorf("lookupLauncher(%q) = %q, %v", l.name, got.name, err)
		}
		if !strings.Contains(usage, l.name+" ("+l.help+")") {
			t.Errorf("--launcher help %q does not describe %q", usage, l.name)
		}
	}
	_, err := lookupLauncher("k8s")
	if err == nil {
		t.Fatal("launcher k8s accepted")
	}
	for name := range seen {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%v does not name launcher %q", err, name)
		}
	}
}
