package torch

import (
	"os"
	"testing"
)

// TestMain pins libtorch to one intra-op thread: the test machines are
// shared, and idle OpenMP workers spinning for a busy core cost more than
// the parallelism gains on these small tensors.
func TestMain(m *testing.M) {
	SetNumThreads(1)
	os.Exit(m.Run())
}
