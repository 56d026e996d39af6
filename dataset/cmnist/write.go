package cmnist

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// writer encodes and writes samples with a pool of goroutines.
type writer struct {
	workers   int // encoders (CPU bound)
	ioWorkers int // file writers (syscall bound)
	links     bool
	// time spent encoding / writing (wall clock)
	encodeTime, writeTime time.Duration
	prog                  *progress
}

// pngPool lets every encoder reuse its zlib writer and row buffers.
type pngPool struct{ b *png.EncoderBuffer }

func (p *pngPool) Get() *png.EncoderBuffer  { return p.b }
func (p *pngPool) Put(b *png.EncoderBuffer) { p.b = b }

type encoder struct {
	enc png.Encoder
	img *image.RGBA
	buf bytes.Buffer
}

func newEncoder() *encoder {
	return &encoder{
		enc: png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngPool{}},
		img: image.NewRGBA(image.Rect(0, 0, 28, 28)),
	}
}

func (e *encoder) encode(s *sample) ([]byte, error) {
	render(s, e.img.Pix)
	e.buf.Reset()
	if err := e.enc.Encode(&e.buf, e.img); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// parallel runs fn(worker, i) for i in [0,n) on w.workers goroutines, in
// chunks, and returns the first error.
func parallel(workers, n int, fn func(e *encoder, i int) error) error {
	const chunk = 256
	next := make(chan int, 64)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(workers, max(1, n/chunk+1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEncoder()
			for lo := range next {
				hi := min(lo+chunk, n)
				for i := lo; i < hi; i++ {
					if err := fn(e, i); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						break
					}
				}
			}
		}()
	}
	for lo := 0; lo < n; lo += chunk {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- lo
	}
	close(next)
	wg.Wait()
	return firstErr
}

// png is one encoded image; path is where it was first written in its final
// place ("" until then), so later copies can be hard links to it.
type pngFile struct {
	data []byte
	path string
}

// encodeAll returns the encoded PNG of every sample. reuse, if non-nil, maps
// index*Classes+colour to images already encoded (same digit, colour and
// noise) and is extended with the new ones.
func (w *writer) encodeAll(ss []sample, reuse map[int]*pngFile) ([]*pngFile, error) {
	defer func(t time.Time) { w.encodeTime += time.Since(t) }(time.Now())
	out := make([]*pngFile, len(ss))
	var todo []int
	for i := range ss {
		if f, ok := reuse[ss[i].index*Classes+int(ss[i].bias)]; ok {
			out[i] = f
		} else {
			todo = append(todo, i)
		}
	}
	err := parallel(w.workers, len(todo), func(e *encoder, k int) error {
		i := todo[k]
		b, err := e.encode(&ss[i])
		if err != nil {
			return fmt.Errorf("cmnist: encode %s: %w", fileName(&ss[i]), err)
		}
		out[i] = &pngFile{data: bytes.Clone(b)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reuse != nil {
		for _, i := range todo {
			reuse[ss[i].index*Classes+int(ss[i].bias)] = out[i]
		}
	}
	return out, nil
}

// relPath is <label>/<index>_<label>_<bias>.png.
func relPath(s *sample) string { return filepath.Join(strconv.Itoa(int(s.label)), fileName(s)) }

// writeAll writes ss as <dir>/<label>/<index>_<label>_<bias>.png. An image
// already placed elsewhere (pngs[i].path != "") is hard-linked when w.links is
// set and the file system allows it, else written. Plain os.WriteFile is safe
// here: dir is always inside atomicDir's temporary folder, which a kill leaves
// under a .dcwp-tmp- name (removed by removeStale) and which reaches its final
// name only whole; a synced temporary file per image would cost 60,000 fsyncs.
func (w *writer) writeAll(dir string, ss []sample, pngs []*pngFile) error {
	defer func(t time.Time) { w.writeTime += time.Since(t) }(time.Now())
	for l := range Classes {
		if err := os.MkdirAll(filepath.Join(dir, strconv.Itoa(l)), 0o755); err != nil {
			return fmt.Errorf("cmnist: %w", err)
		}
	}
	return parallel(w.ioWorkers, len(ss), func(_ *encoder, i int) error {
		p := filepath.Join(dir, relPath(&ss[i]))
		if w.links && pngs[i].path != "" && os.Link(pngs[i].path, p) == nil {
			w.prog.Add(1)
			return nil
		}
		if err := os.WriteFile(p, pngs[i].data, 0o644); err != nil {
			return fmt.Errorf("cmnist: %w", err)
		}
		w.prog.Add(1)
		return nil
	})
}

// placed records where the images written (not linked) under final now live.
func placed(final string, ss []sample, pngs []*pngFile) {
	for i := range ss {
		if pngs[i].path == "" {
			pngs[i].path = filepath.Join(final, relPath(&ss[i]))
		}
	}
}

const (
	tmpPrefix = ".dcwp-tmp-"
	oldPrefix = ".dcwp-old-"
)

func randSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// atomicDir fills a fresh temporary folder <root>/.dcwp-tmp-<name>-<rand> with
// fill, then puts it in place as <root>/<name>, replacing (atomically where the
// OS allows) any existing folder. On error the temporary folder is removed.
// The replaced folder is handed to discard (nil: removed before returning).
func atomicDir(root, name string, fill func(tmp string) error, discard func(old string)) error {
	if discard == nil {
		discard = func(old string) { os.RemoveAll(old) }
	}
	tmp := filepath.Join(root, tmpPrefix+name+"-"+randSuffix())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fmt.Errorf("cmnist: %w", err)
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	target := filepath.Join(root, name)
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, target); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("cmnist: %w", err)
		}
		return nil
	}
	if err := exchange(tmp, target); err == nil {
		discard(tmp) // tmp now holds the old folder
		return nil
	}
	old := filepath.Join(root, oldPrefix+name+"-"+randSuffix())
	if err := os.Rename(target, old); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cmnist: replace %s: %w", target, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Rename(old, target)
		os.RemoveAll(tmp)
		return fmt.Errorf("cmnist: replace %s: %w", target, err)
	}
	discard(old)
	return nil
}

// remover deletes replaced folders in the background, several directories at
// once (unlinking is slow on some disks); wait blocks until all are gone.
type remover struct {
	workers int
	wg      sync.WaitGroup
}

func (r *remover) discard(dir string) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		var dirs []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != dir {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Deepest first, so each RemoveAll mostly unlinks files of one directory.
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		next := make(chan string)
		var wg sync.WaitGroup
		for range max(1, r.workers) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range next {
					os.RemoveAll(d)
				}
			}()
		}
		for _, d := range dirs {
			next <- d
		}
		close(next)
		wg.Wait()
		os.RemoveAll(dir)
	}()
}

func (r *remover) wait() { r.wg.Wait() }

// removeStale deletes temporary folders left by killed builds.
func removeStale(root string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() && (strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), oldPrefix)) {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}
