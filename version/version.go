// Package version is the release of dcwp-go, stamped into run directories and exported graphs.
package version

// Version is the tool version; `-ldflags "-X github.com/dcwp-go/dcwp/version.Version=..."` overrides it.
var Version = "0.1.0"
