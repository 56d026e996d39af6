package dataset

import (
	"errors"
	"fmt"
	"math"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// ErrTooMuchData: the decoded images would take more memory than the loader's limit.
var ErrTooMuchData = errors.New("dataset too large for memory")

// memBudget is the room one Open has for decoded images: every split is held in memory, so
// the whole dataset is bounded, checked before each buffer is allocated (per-image limits
// alone let 40 links to one 16384×4096 PNG ask for 8 GB at once).
type memBudget struct {
	limit int64
	why   string // where the limit comes from, for messages
	used  int64  // bytes the splits loaded so far hold
}

// budget is the loader's limit: MaxBytes, or half the memory this process may use.
func (l Loader) budget() *memBudget {
	if l.MaxBytes > 0 {
		return &memBudget{limit: l.MaxBytes, why: "the loader's limit"}
	}
	limit, why := defaultMaxBytes()
	return &memBudget{limit: limit, why: why}
}

// roomFunc checks that n images of c×h×w bytes fit before they are allocated.
type roomFunc func(n, c, h, w int) error

// room is the check for the images of what (a folder, a split).
func (b *memBudget) room(what string) roomFunc {
	if b == nil {
		return nil
	}
	return func(n, c, h, w int) error {
		need := int64(n) * int64(c) * int64(h) * int64(w)
		if need <= b.limit-b.used {
			return nil
		}
		left := max(b.limit-b.used, 0)
		side := int(math.Sqrt(float64(left) / float64(max(int64(n)*int64(c), 1))))
		hint := fmt.Sprintf("give a smaller --image-size (these %d images fit at %dx%d at most) or fewer images", n, side, side)
		if side < 1 {
			hint = "use fewer images"
		}
		return fmt.Errorf("%s: %d images of %dx%dx%d take %s decoded, more than the %s left of %s (%s): %s: %w",
			what, n, c, h, w, readlimit.Bytes(need), readlimit.Bytes(left), readlimit.Bytes(b.limit), b.why, hint, ErrTooMuchData)
	}
}

// take records a loaded split's images.
func (b *memBudget) take(bytes int) {
	if b != nil {
		b.used += int64(bytes)
	}
}

// check is room(n, c, h, w), or nil where there is no budget.
func (r roomFunc) check(n, c, h, w int) error {
	if r == nil {
		return nil
	}
	return r(n, c, h, w)
}

// fallbackMaxBytes is the limit where the machine's memory is unknown.
const fallbackMaxBytes = 8 << 30
