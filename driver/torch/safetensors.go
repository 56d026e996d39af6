package torch

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"unsafe"
)

// Named tensors are stored as safetensors (the format the run directory
// uses), written from host copies so files are device-independent.

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

var stNames = map[DType]string{Float32: "F32", Float64: "F64", Int64: "I64", Bool: "BOOL", Int32: "I32", Uint8: "U8"}

func hostBytes(t *Tensor, dt DType) ([]byte, error) {
	var p unsafe.Pointer
	var n int
	switch dt {
	case Float32:
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Float64:
		v, err := t.Float64s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Int64:
		v, err := t.Int64s()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	case Bool:
		v, err := t.Bools()
		if err != nil {
			return nil, err
		}
		p, n = ptr(v), len(v)
	default:
		return nil, fmt.Errorf("torch: cannot save dtype %v", dt)
	}
	if n == 0 {
		return nil, nil
	}
	// Little-endian hosts only (amd64/arm64), like libtorch's own raw dumps.
	return unsafe.Slice((*byte)(p), n*dt.Size()), nil
}

// Save writes tensors to path as safetensors, in name order.
func Save(path string, tensors map[string]*Tensor) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]stEntry{}
	blobs := make([][]byte, len(names))
	var off int64
	for i, n := range names {
		info, err := tensors[n].Info()
		if err != nil {
			return fmt.Errorf("torch: save %q: %w", n, err)
		}
		b, err := hostBytes(tensors[n], info.DType)
		if err != nil {
			return fmt.Errorf("torch: save %q: %w", n, err)
		}
		blobs[i] = b
		header[n] = stEntry{DType: stNames[info.DType], Shape: info.Shape, Offsets: [2]int64{off, off + int64(len(b))}}
		off += int64(len(b))
	}
	return writeST(path, header, blobs)
}

func writeST(path string, header map[string]stEntry, blobs [][]byte) (err error) {
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("torch: save: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("torch: save: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("torch: save: %w", cerr)
		}
	}()
	w := bufio.NewWriter(f)
	if err := binary.Write(w, binary.LittleEndian, uint64(len(hj))); err != nil {
		return fmt.Errorf("torch: save: %w", err)
	}
	w.Write(hj)
	for _, b := range blobs {
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("torch: save: %w", err)
	}
	return nil
}

// Load reads a safetensors file into caller-owned tensors on dev.
func Load(path string, dev Device) (map[string]*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torch: load: %w", err)
	}
	defer f.Close()
	header, data, err := readST(f)
	if err != nil {
		return nil, fmt.Errorf("torch: load %s: %w", path, err)
	}
	out := map[string]*Tensor{}
	for name, e := range header {
		t, err := entryTensor(e, data, dev)
		if err != nil {
			for _, t := range out {
				t.Close()
			}
			return nil, fmt.Errorf("torch: load %s: tensor %q: %w", path, name, err)
		}
		out[name] = t
	}
	return out, nil
}

func readST(r io.Reader) (map[string]stEntry, []byte, error) {
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, nil, err
	}
	if n > 100<<20 {
		return nil, nil, errors.New("header too large")
	}
	hj := make([]byte, n)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, nil, err
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(hj, &raw); err != nil {
		return nil, nil, err
	}
	header := map[string]stEntry{}
	for k, v := range raw {
		if k == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, err
		}
		header[k] = e
	}
	data, err := io.ReadAll(r)
	return header, data, err
}

func entryTensor(e stEntry, data []byte, dev Device) (*Tensor, error) {
	var dt DType = Other
	for d, n := range stNames {
		if n == e.DType {
			dt = d
		}
	}
	if dt == Other {
		return nil, fmt.Errorf("unsupported dtype %s", e.DType)
	}
	lo, hi := e.Offsets[0], e.Offsets[1]
	if lo < 0 || hi < lo || hi > int64(len(data)) || hi-lo != numel(e.Shape)*int64(dt.Size()) {
		return nil, fmt.Errorf("bad data offsets %v", e.Offsets)
	}
	// Copy to an aligned buffer: offsets in the file need not be aligned.
	buf := make([]uint64, (hi-lo+7)/8)
	var p unsafe.Pointer
	if len(buf) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), hi-lo), data[lo:hi])
		p = unsafe.Pointer(&buf[0])
	}
	return fromData(p, int(numel(e.Shape)), dt, e.Shape, dev)
}
