package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dcwp-go/dcwp/internal/atomicfile"
)

// Binary cache of a decoded image folder.
//
// Layout (little endian):
//
//	magic   [8]byte "DCWPIMG\x00"
//	version uint32 (cacheVersion)
//	N, C, H, W uint32
//	key     [32]byte  sha256 over dataset name, file names, sizes, mtimes, labels, biases
//	prep    6 × uint32: images resized, gray, alpha, 16-bit, palette, CMYK (Prep's counts)
//	labels  N × int32
//	bias    N × int32
//	images  N×C×H×W uint8 (CHW per image)
//	crc     uint32    CRC-32C (Castagnoli) of everything before it
//
// A split without bias labels stores -1 as every bias. The file lives in the loader's cache
// directory, never beside the images (data folders may be read-only, and are the user's),
// named for what it caches; it is written to a temporary file there and renamed into place.
const (
	cacheVersion = 3 // 2: the cache directory, resized folder images; 3: what decoding converted
	cacheHeader  = 8 + 4 + 16 + 32 + 4*prepFields
	prepFields   = 6 // cachedPrep
)

var cacheMagic = [8]byte{'D', 'C', 'W', 'P', 'I', 'M', 'G', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Loader loads splits with settings of its own, so that callers (and tests) never change
// package state. The zero Loader uses the cache and logs non-fatal problems.
type Loader struct {
	NoCache bool // neither read nor write the binary cache
	// CacheDir holds the cache files; "": DefaultCacheDir. A directory that cannot be made
	// or written is warned about and the images are decoded every time.
	CacheDir string
	Warnf    func(format string, args ...any) // non-fatal problems (an unreadable cache); nil: log.Printf
	// MaxBytes bounds the decoded images of one Open (every split); 0: half the memory this
	// process may use. See memBudget.
	MaxBytes int64
}

// DefaultCacheDir is <user cache home>/dcwp/images ($XDG_CACHE_HOME or ~/.cache on Linux);
// "" when the system has none.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "dcwp", "images")
}

// cachePath is the cache file of src: named by a hash of its folder's absolute path and
// what else identifies it, so that two data folders never share one. "" = no cache.
func (l Loader) cachePath(src *source) string {
	dir := l.CacheDir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if l.NoCache || dir == "" {
		return ""
	}
	abs, err := filepath.Abs(src.dir)
	if err != nil {
		return ""
	}
	h := sha256.Sum256([]byte(abs + "\x00" + src.cacheID + fmt.Sprintf("\x00%v", src.size)))
	return filepath.Join(dir, fmt.Sprintf("%x.bin", h[:12]))
}

func (l Loader) warnf(format string, args ...any) {
	if l.Warnf != nil {
		l.Warnf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// load returns the decoded images of src, from the cache when valid, with room for spare
// more images of the same size. A cache that cannot be read or written is only warned
// about: decoding the images is always a correct (if slower) answer.
func (src *source) load(ds string, l Loader, spare int, room roomFunc) (*part, error) {
	var key [32]byte
	path := l.cachePath(src)
	if path != "" {
		k, err := src.key(ds)
		if err != nil {
			return nil, err
		}
		key = k
		if p, err := readCache(path, key, src.labels, src.bias, spare, room); err == nil && p != nil {
			touch(path, time.Now())
			return p, nil
		} else if err != nil {
			l.warnf("dataset: ignoring cache %s: %v", path, err)
		}
	}
	p, err := decodeAll(src.paths, spare, src.resize, src.size, room)
	if err != nil {
		return nil, err
	}
	if p.prep.Resized > 0 {
		l.warnf("dataset: %s: %d of %d images are not %dx%d and were resized to it", src.dir, p.prep.Resized, len(src.paths), p.h, p.w)
	}
	if path != "" {
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = writeCache(path, key, p, src.labels, src.bias)
		}
		if err != nil {
			l.warnf("dataset: could not write cache %s: %v (the images are decoded each time)", path, err)
		} else if _, err := trim(filepath.Dir(path), time.Now()); err != nil {
			l.warnf("dataset: could not trim the cache %s: %v", filepath.Dir(path), err)
		}
	}
	return p, nil
}

// ErrCacheCorrupt: the cache file failed its checksum or is truncated.
var ErrCacheCorrupt = errors.New("cache file corrupt")

// key hashes what identifies the folder's content: the files' names, sizes and
// modification times, and their labels and biases.
func (src *source) key(ds string) ([32]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "dcwp-cache v%d\x00%s\x00%s\x00%d\x00", cacheVersion, ds, src.keyExtra, len(src.paths))
	var buf [8]byte
	for i, p := range src.paths {
		var size, mtime int64
		if src.infos != nil {
			size, mtime = src.infos[i].Size(), src.infos[i].ModTime().UnixNano()
		} else {
			st, err := os.Stat(p)
			if err != nil {
				return [32]byte{}, fmt.Errorf("image %s: %w", p, err)
			}
			size, mtime = st.Size(), st.ModTime().UnixNano()
		}
		rel, err := filepath.Rel(src.dir, p)
		if err != nil {
			rel = p
		}
		io.WriteString(h, rel)
		h.Write([]byte{0})
		binary.LittleEndian.PutUint64(buf[:], uint64(size))
		h.Write(buf[:])
		binary.LittleEndian.PutUint64(buf[:], uint64(mtime))
		h.Write(buf[:])
		io.WriteString(h, strconv.Itoa(int(src.labels[i]))+","+strconv.Itoa(int(biasAt(src.bias, i)))+"\x00")
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k, nil
}

// readCache returns (nil, nil) when there is no cache or it is for other
// content (stale), the part when it is valid, and an error when it is corrupt.
// spare is how many more images of the same size the caller will append to the part's
// buffer: room for them is allocated now, so that joining parts needs no second copy. room,
// when not nil, must admit them all first.
func readCache(path string, key [32]byte, labels, bias []int32, spare int, room roomFunc) (*part, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var hdr [cacheHeader]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCacheCorrupt, err)
	}
	if !bytes.Equal(hdr[:8], cacheMagic[:]) || binary.LittleEndian.Uint32(hdr[8:]) != cacheVersion {
		return nil, nil // other format/version: rebuild silently
	}
	if !bytes.Equal(hdr[28:60], key[:]) {
		return nil, nil // stale
	}
	n := int(binary.LittleEndian.Uint32(hdr[12:]))
	c := int(binary.LittleEndian.Uint32(hdr[16:]))
	hh := int(binary.LittleEndian.Uint32(hdr[20:]))
	w := int(binary.LittleEndian.Uint32(hdr[24:]))
	if n != len(labels) || c <= 0 || hh <= 0 || w <= 0 {
		return nil, nil
	}
	if c != 3 || hh > MaxSide || w > MaxSide || hh*w > MaxPixels {
		return nil, fmt.Errorf("%w: header says %dx%dx%d images", ErrCacheCorrupt, c, hh, w)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	body := int64(n)*8 + int64(n)*int64(c*hh*w)
	if st.Size() != cacheHeader+body+4 {
		return nil, fmt.Errorf("%w: size %d, want %d", ErrCacheCorrupt, st.Size(), cacheHeader+body+4)
	}
	if err := room.check(n+spare, c, hh, w); err != nil {
		return nil, err
	}
	buf := make([]byte, body+4, body+max(4, int64(spare)*int64(c*hh*w)))
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCacheCorrupt, err)
	}
	crc := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, buf[:body])
	if crc != binary.LittleEndian.Uint32(buf[body:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCacheCorrupt)
	}
	for i := 0; i < n; i++ {
		if int32(binary.LittleEndian.Uint32(buf[4*i:])) != labels[i] ||
			int32(binary.LittleEndian.Uint32(buf[4*n+4*i:])) != biasAt(bias, i) {
			return nil, nil
		}
	}
	// The images' capacity runs over the checked CRC into the spare room.
	p := &part{c: c, h: hh, w: w, images: buf[8*n : body : cap(buf)]}
	p.prep = Prep{Images: n, Cached: n, Size: [2]int{hh, w}}
	for k, f := range cachedPrep(&p.prep) {
		*f = int(binary.LittleEndian.Uint32(hdr[60+4*k:]))
	}
	return p, nil
}

// cachedPrep are the Prep counts a cache file keeps, in its header's order.
func cachedPrep(p *Prep) []*int {
	return []*int{&p.Resized, &p.Gray, &p.Alpha, &p.Deep, &p.Palette, &p.CMYK}
}

// biasAt is bias[i], or -1 for a split without bias labels.
func biasAt(bias []int32, i int) int32 {
	if bias == nil {
		return -1
	}
	return bias[i]
}

// writeCache writes the cache atomically (temp file + rename).
func writeCache(path string, key [32]byte, p *part, labels, bias []int32) error {
	n := len(labels)
	var hdr [cacheHeader]byte
	copy(hdr[:8], cacheMagic[:])
	binary.LittleEndian.PutUint32(hdr[8:], cacheVersion)
	binary.LittleEndian.PutUint32(hdr[12:], uint32(n))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(p.c))
	binary.LittleEndian.PutUint32(hdr[20:], uint32(p.h))
	binary.LittleEndian.PutUint32(hdr[24:], uint32(p.w))
	copy(hdr[28:60], key[:])
	for k, f := range cachedPrep(&p.prep) {
		binary.LittleEndian.PutUint32(hdr[60+4*k:], uint32(*f))
	}
	lb := make([]byte, 8*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(lb[4*i:], uint32(labels[i]))
		binary.LittleEndian.PutUint32(lb[4*n+4*i:], uint32(biasAt(bias, i)))
	}
	crc := crc32.Checksum(hdr[:], castagnoli)
	crc = crc32.Update(crc, castagnoli, lb)
	crc = crc32.Update(crc, castagnoli, p.images)
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc)

	return atomicfile.Write(path, func(w *bufio.Writer) error {
		for _, b := range [][]byte{hdr[:], lb, p.images, tail[:]} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}
