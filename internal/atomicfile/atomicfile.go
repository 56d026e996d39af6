// Package atomicfile writes files so that a reader, a crash, a full disk or a
// kill sees either the old file or the whole new one, never a partial file.
//
// Every file the project writes (run directories, exports, reports, dataset
// caches) goes through here, so the rules live in one place: a temporary
// sibling named ".<name>.tmp-*", synced, then renamed over the target; the
// permissions are those os.WriteFile would give (0666 less the umask).
package atomicfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dcwp-go/dcwp/internal/readlimit"
)

// TempPrefix starts the name of every temporary sibling, after a dot and the
// target's base name, so stale ones can be recognised and removed.
const TempPrefix = ".tmp-"

// Write writes path through a temporary sibling that is synced and renamed
// into place. Errors name path.
func Write(path string, write func(w *bufio.Writer) error) (err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createTemp opens a new sibling of path with O_EXCL and mode 0666, so the
// kernel applies the umask as it does for os.WriteFile (os.CreateTemp would
// give 0600 whatever the umask).
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+TempPrefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no unused temporary name")
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	return Write(path, func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadJSON decodes a JSON file (a regular file of at most readlimit.MaxJSON bytes) into v,
// naming the file in any error.
func ReadJSON(path string, v any) error {
	b, err := readlimit.ReadFile(path, readlimit.MaxJSON)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	return nil
}

// CheckOutput refuses an output path that Write would damage: anything there
// that is not a regular file (a directory, device node, FIFO, socket or
// symbolic link, which the rename would replace rather than write through),
// or a file that is one of the command's inputs (compared with os.SameFile,
// so hard links and other spellings of the same file count). Inputs that
// cannot be stat'ed are skipped: reading them reports that. Call it for
// every output before writing anything. Errors name path.
func CheckOutput(path string, inputs ...string) error {
	if path == "" {
		return errors.New("output path is empty")
	}
	if fi, err := os.Stat(filepath.Dir(path)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("output %s: directory %s does not exist", path, filepath.Dir(path))
	} else if err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("output %s: %s is not a directory", path, filepath.Dir(path))
	}
	out, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	if !out.Mode().IsRegular() {
		return fmt.Errorf("output %s is %s, not a regular file; refusing to replace it", path, readlimit.Kind(out.Mode()))
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if fi, err := os.Stat(in); err == nil && os.SameFile(out, fi) {
			return fmt.Errorf("output %s is the input %s; refusing to overwrite an input", path, in)
		}
	}
	return nil
}

// RemoveStale removes the temporary siblings (".<name>"+TempPrefix+"…") that writes killed
// before their rename left in dir, and returns their paths. A missing dir has none. Call
// it only where no other process writes into dir at the same time.
func RemoveStale(dir string) ([]string, error) {
	return removeStale(dir, func(string) bool { return true })
}

// RemoveStaleOf removes the temporary siblings that killed writes of path left, and no
// other file's: for a command writing into a folder it does not own (an export's --out),
// where other writers' temporaries may be live.
func RemoveStaleOf(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return removeStale(dir, func(name string) bool { return strings.HasPrefix(name, "."+base+TempPrefix) })
}

func removeStale(dir string, mine func(name string) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("removing stale temporary files: %w", err)
	}
	var gone []string
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, TempPrefix)
		if !strings.HasPrefix(name, ".") || i < 2 || !e.Type().IsRegular() || !isBase36(name[i+len(TempPrefix):]) || !mine(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return gone, fmt.Errorf("removing stale temporary file: %w", err)
		}
		gone = append(gone, p)
	}
	return gone, nil
}

func isBase36(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return s != ""
}
