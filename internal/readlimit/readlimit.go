// Package readlimit is the one way the project reads a file it did not just write (run
// files, sweep state, grid files, manifests): only a regular file, opened without blocking
// (a FIFO in its place would otherwise wait forever for a writer), and never more than a
// limit the caller states (a symbolic link to /dev/zero would otherwise fill memory).
// Errors name the file.
package readlimit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrTooLarge: the file holds more bytes than its reader's limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular: the path names a directory, device, FIFO or socket, not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// File is an open regular file whose reads stop with ErrTooLarge past the limit.
type File struct {
	f     *os.File
	r     io.Reader
	path  string
	limit int64
	n     int64
	Info  os.FileInfo // what fstat said when it was opened
}

// Open opens path for reading if it is a regular file of at most limit bytes. The open
// does not block on a FIFO (O_NONBLOCK); fstat then refuses anything but a regular file.
func Open(path string, limit int64) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is %s: %w", path, Kind(st.Mode()), ErrNotRegular)
	}
	if st.Size() > limit {
		f.Close()
		return nil, tooLarge(path, limit)
	}
	// The file may still grow (or be a /proc file that says 0): the reader counts too.
	return &File{f: f, r: io.LimitReader(f, limit+1), path: path, limit: limit, Info: st}, nil
}

func tooLarge(path string, limit int64) error {
	return fmt.Errorf("%s: larger than %s, the most this file can hold: %w", path, Bytes(limit), ErrTooLarge)
}

// Read reads from the file; past the limit it fails with ErrTooLarge.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if f.n > f.limit {
		return n, tooLarge(f.path, f.limit)
	}
	return n, err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadFile reads the whole of path, a regular file of at most limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, f.Info.Size()+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// Bytes says a byte count in binary units, for messages.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Kind says what a non-regular file is, for messages.
func Kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// MaxJSON bounds every JSON file the project reads back (config.json, summary.json, run.json,
// sweep.json, task files): the largest, a summary with per-class figures of 65,536 classes,
// is a few megabytes.
const MaxJSON = 64 << 20
