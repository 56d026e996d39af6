package cmnist

import (
	"io"
	"time"

	shown "github.com/dcwp-go/dcwp/internal/progress"
)

// progress counts the images written, from all of the writer's goroutines.
type progress = shown.Display

// newProgress shows the build on w (nil = quiet): a bar on a terminal, else a line every
// 2 s and one at the end.
func newProgress(w io.Writer, total int) *progress {
	return shown.New(w, shown.Options{Name: "cmnist", Unit: "images", Total: total, Every: 1, Interval: 2 * time.Second})
}
