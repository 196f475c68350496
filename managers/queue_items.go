package managers

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// itemFIFO holds a queue's items in order. A pickled item (pickle.Pickled) is kept as its
// AppendBinary form in a byte log of 64 KiB chunks, behind its length: a small tuple costs its
// ~30 bytes of opcodes and 3 of framing, and the chunks hold no pointers for the garbage
// collector to scan. An item kept as a value has a zero length in the log and its place in
// values. Items leave in order, so a chunk read to its end is dropped (or, when it is the
// last, reused: what Get returns never points into the log).
type itemFIFO struct {
	chunks [][]byte // read from chunks[0] at rpos, appended to the last one
	rpos   int
	values []any // the items kept as values, in order, from vhead
	vhead  int
	n      int
}

// logChunkSize is the size of the chunks of the byte log (a larger record gets one of its own).
const logChunkSize = 64 << 10

func (f *itemFIFO) len() int { return f.n }

// push appends an item.
func (f *itemFIFO) push(v any) {
	if p, ok := v.(pickle.Pickled); ok && !p.IsZero() {
		var h [binary.MaxVarintLen64]byte
		size := p.Len() + 2 // AppendBinary's form: a format byte, a dialect byte, the opcodes
		w := f.room(binary.PutUvarint(h[:], uint64(size)) + size)
		w = binary.AppendUvarint(w, uint64(size))
		w, _ = p.AppendBinary(w)
		f.chunks[len(f.chunks)-1] = w
	} else {
		w := f.room(1)
		f.chunks[len(f.chunks)-1] = append(w, 0)
		f.values = append(f.values, v)
	}
	f.n++
}

// pushBinary appends the pickled item whose AppendBinary form is bin (not retained).
func (f *itemFIFO) pushBinary(bin []byte) {
	var h [binary.MaxVarintLen64]byte
	w := f.room(binary.PutUvarint(h[:], uint64(len(bin))) + len(bin))
	w = binary.AppendUvarint(w, uint64(len(bin)))
	f.chunks[len(f.chunks)-1] = append(w, bin...)
	f.n++
}

// room returns the chunk to append n bytes to (the last of f.chunks), adding one if needed.
func (f *itemFIFO) room(n int) []byte {
	if k := len(f.chunks); k > 0 {
		if c := f.chunks[k-1]; cap(c)-len(c) >= n {
			return c
		}
	}
	c := make([]byte, 0, max(logChunkSize, n))
	if k := len(f.chunks); k > 0 && len(f.chunks[k-1]) == 0 {
		// The last chunk is empty (the first one, read to its end and kept for reuse, with
		// rpos 0): replace it, so that pop never finds an empty chunk before the record.
		f.chunks[k-1] = c
		return c
	}
	f.chunks = append(f.chunks, c)
	return c
}

// pop removes and returns the oldest item (f.n > 0).
func (f *itemFIFO) pop() (any, error) {
	c := f.chunks[0]
	size, k := binary.Uvarint(c[f.rpos:])
	if k <= 0 || size > uint64(len(c)-f.rpos-k) {
		panic("managers: corrupt queue log") // only our own writes are read
	}
	rec := c[f.rpos+k : f.rpos+k+int(size)]
	f.rpos += k + int(size)
	f.n--
	if f.rpos == len(c) {
		switch {
		case len(f.chunks) > 1:
			f.chunks[0] = nil
			f.chunks = f.chunks[1:]
		case cap(c) > logChunkSize: // a large record's own chunk: not kept for reuse
			f.chunks = f.chunks[:0]
		default:
			f.chunks[0] = c[:0]
		}
		f.rpos = 0
	}
	if size > 0 {
		p, err := pickle.ParsePickled(rec) // copies
		if err != nil {
			return nil, fmt.Errorf("managers: queue item unreadable: %w", err)
		}
		return p, nil
	}
	v := f.values[f.vhead]
	f.values[f.vhead] = nil
	f.vhead++
	if f.vhead == len(f.values) {
		f.values, f.vhead = f.values[:0], 0
	} else if f.vhead > 1024 && f.vhead*2 > len(f.values) {
		f.values = append(f.values[:0], f.values[f.vhead:]...)
		clear(f.values[len(f.values):cap(f.values)])
		f.vhead = 0
	}
	return v, nil
}

// reset drops every item.
func (f *itemFIFO) reset() {
	f.chunks, f.rpos = nil, 0
	clear(f.values)
	f.values, f.vhead = f.values[:0], 0
	f.n = 0
}
