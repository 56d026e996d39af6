package torch

import (
	"os"
	"testing"
)

// TestMain pins libtorch to one intra-op thread: the test machines are
// shared, and idle OpenMP workers spinning for a busy core cost more than
// the parallelism gains on these small tensors. Tests run on goroutines of
// their own, on OS threads that take this count as their default (see Pin).
func TestMain(m *testing.M) {
	if os.Getenv(freshProcessEnv) == "" {
		setNumThreads(1)
	}
	os.Exit(m.Run())
}
