package pickle

import "unsafe"

// Per-decoder slabs: the decoder boxes scalars and makes small dicts, lists
// and strings out of chunks it allocates a few dozen at a time, instead of
// one heap allocation per value (a list of 10,000 small dicts is ~60,000
// values). Each slot of a chunk is written once, before the value that points
// to it is published, and never again, so values stay immutable and may be
// shared between goroutines like any other. The cost is retention: a value
// still in use keeps its whole chunk (at most a few KiB) alive. Chunks are
// kept by the pooled Decoder across pickles, so a small request takes a few
// slots instead of new allocations; after a pickle of more than slabKeepMax
// bytes they are dropped, so that what a pooled decoder keeps reachable is
// bounded by the size of small pickles.

const (
	slabScalars  = 32       // int64 / float64 per chunk (256 bytes)
	slabStrings  = 32       // string headers per chunk (512 bytes)
	slabBytes    = 2048     // string bytes per chunk
	slabMaxStr   = 64       // longer strings get their own allocation
	slabMaxBytes = 128      // and longer bytes / bytearray values
	slabDicts    = 16       // Dict headers per chunk
	slabLists    = 16       // List headers per chunk
	slabEntries  = 48       // dict table entries per chunk (1.5 KiB: no waste for 1, 2, 3, 4, 6 or 8 entries)
	slabMaxDict  = 8        // dicts with more entries get their own entries slice
	slabKeepMax  = 64 << 10 // a decoder drops its chunks after a pickle larger than this
)

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	int64Type   = typeWord(int64(0))
	float64Type = typeWord(float64(0))
	stringType  = typeWord("")
)

// box makes an interface of type typ whose data word is p (p points to a
// value of that type that is never written again).
func box(typ, p unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

type slabs struct {
	ints     []int64
	floats   []float64
	strs     []string
	bytes    []byte
	dicts    []Dict
	lists    []List
	entries  []tableEntry
	items    []any
	tuples   []Tuple
	byteHdrs [][]byte
}

// boxInt boxes x; values 0..255 need no allocation anyway (the runtime has
// them preboxed).
func (d *Decoder) boxInt(x int64) any {
	if uint64(x) < 256 {
		return x
	}
	s := &d.slab
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, slabScalars)
	}
	s.ints = append(s.ints, x)
	return box(int64Type, unsafe.Pointer(&s.ints[len(s.ints)-1]))
}

func (d *Decoder) boxFloat(x float64) any {
	s := &d.slab
	if len(s.floats) == cap(s.floats) {
		s.floats = make([]float64, 0, slabScalars)
	}
	s.floats = append(s.floats, x)
	return box(float64Type, unsafe.Pointer(&s.floats[len(s.floats)-1]))
}

// makeString returns b as a string, its bytes in a shared chunk when short.
func (d *Decoder) makeString(b []byte) string {
	if len(b) == 0 || len(b) > slabMaxStr {
		return string(b)
	}
	return unsafe.String(unsafe.SliceData(d.slabBytes(b)), len(b))
}

// slabBytes returns a copy of b (len(b) <= slabMaxBytes) in a shared chunk,
// its capacity cut so that appending to it reallocates; writing into it
// touches no other value.
func (d *Decoder) slabBytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	s := &d.slab
	if cap(s.bytes)-len(s.bytes) < len(b) {
		s.bytes = make([]byte, 0, slabBytes)
	}
	n := len(s.bytes)
	s.bytes = append(s.bytes, b...)
	return s.bytes[n : n+len(b) : n+len(b)]
}

// boxString boxes str without allocating its header on its own.
func (d *Decoder) boxString(str string) any {
	s := &d.slab
	if len(s.strs) == cap(s.strs) {
		s.strs = make([]string, 0, slabStrings)
	}
	s.strs = append(s.strs, str)
	return box(stringType, unsafe.Pointer(&s.strs[len(s.strs)-1]))
}

func (d *Decoder) newDict() *Dict {
	s := &d.slab
	if len(s.dicts) == cap(s.dicts) {
		s.dicts = make([]Dict, 0, slabDicts)
	}
	s.dicts = s.dicts[:len(s.dicts)+1]
	return &s.dicts[len(s.dicts)-1]
}

func (d *Decoder) newList() *List {
	s := &d.slab
	if len(s.lists) == cap(s.lists) {
		s.lists = make([]List, 0, slabLists)
	}
	s.lists = s.lists[:len(s.lists)+1]
	return &s.lists[len(s.lists)-1]
}

// dictEntries returns an empty entries slice with room for exactly n
// entries (n <= slabMaxDict); growing it later reallocates, so neighbours in
// the chunk are never touched.
func (d *Decoder) dictEntries(n int) []tableEntry {
	s := &d.slab
	if cap(s.entries)-len(s.entries) < n {
		s.entries = make([]tableEntry, 0, slabEntries)
	}
	m := len(s.entries)
	s.entries = s.entries[:m+n]
	return s.entries[m : m : m+n]
}

const (
	slabItems    = 64 // tuple items per chunk
	slabMaxTuple = 16 // longer tuples get their own array
	slabHeaders  = 16 // Tuple / []byte headers per chunk
)

var (
	tupleType = typeWord(Tuple(nil))
	bytesType = typeWord([]byte(nil))
	// emptyTuple is the boxed (); all empty tuples share it, as in CPython.
	emptyTuple any = Tuple{}
)

// newTuple returns a copy of items in a Tuple whose capacity is its
// length (appending to it reallocates).
func (d *Decoder) newTuple(items []any) Tuple {
	n := len(items)
	if n > slabMaxTuple {
		t := make(Tuple, n)
		copy(t, items)
		return t
	}
	s := &d.slab
	if cap(s.items)-len(s.items) < n {
		s.items = make([]any, 0, slabItems)
	}
	m := len(s.items)
	s.items = append(s.items, items...)
	return Tuple(s.items[m : m+n : m+n])
}

// boxTuple boxes t without allocating its header on its own.
func (d *Decoder) boxTuple(t Tuple) any {
	if len(t) == 0 {
		return emptyTuple
	}
	s := &d.slab
	if len(s.tuples) == cap(s.tuples) {
		s.tuples = make([]Tuple, 0, slabHeaders)
	}
	s.tuples = append(s.tuples, t)
	return box(tupleType, unsafe.Pointer(&s.tuples[len(s.tuples)-1]))
}

// boxBytes boxes b without allocating its header on its own.
func (d *Decoder) boxBytes(b []byte) any {
	s := &d.slab
	if len(s.byteHdrs) == cap(s.byteHdrs) {
		s.byteHdrs = make([][]byte, 0, slabHeaders)
	}
	s.byteHdrs = append(s.byteHdrs, b)
	return box(bytesType, unsafe.Pointer(&s.byteHdrs[len(s.byteHdrs)-1]))
}
