package pickle

import "unsafe"

// Per-decoder slabs: the decoder boxes scalars and makes small dicts, lists,
// tuples and strings out of chunks it allocates a few dozen at a time,
// instead of one heap allocation per value (a list of 10,000 small dicts is
// ~60,000 values). Each slot of a chunk is written once, before the value
// that points to it is published, and never again, so values stay immutable
// and may be shared between goroutines like any other. The cost is
// retention: a value still in use keeps its whole chunk alive, and with it
// whatever the chunk's other slots point to.
//
// That is why only the leaf chunks (int64, float64 and string bytes: nothing
// in them points anywhere) are kept across pickles, so that a small request
// takes a few slots of them instead of new allocations. Chunks of
// pointer-holding slots (items, headers, dicts, entries) serve one pickle
// only: shared by consecutive pickles, a chunk that one pickle's values
// straddle links the chunks before and after, and through the decoder's
// current chunks such links reached every pickle ever decoded (a steady
// stream of ((x,), y) grew the heap by ~110 bytes a pickle). A small pickle
// (the usual manager request or reply) gets all of its first such chunks in
// one allocation, a smallArena. After a pickle of more than slabKeepMax
// bytes the leaf chunks are dropped too.

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
	slabKeepMax  = 64 << 10 // a decoder drops its leaf chunks after a pickle larger than this
	smallPickle  = 512      // Unmarshal input up to this size gets a smallArena
)

// smallArena holds the first pointer-holding chunks of a small pickle: what
// a manager request such as ('7f3a2b1c', 'put', ({'id': 1, 'payload':
// b'...', 'tags': ['a', 'b']},), {}) needs, in one allocation of 480 bytes.
type smallArena struct {
	items    [8]any
	entries  [4]tableEntry
	dicts    [2]Dict
	tuples   [2]Tuple
	strs     [2]string
	lists    [1]List
	byteHdrs [1][]byte
}

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
	// leaf chunks, kept across pickles
	ints   []int64
	floats []float64
	bytes  []byte
	// interned strings' headers, kept across pickles: they point to short
	// strings in the bytes chunks only
	internStrs []string

	// pointer-holding chunks, for one pickle
	strs     []string
	dicts    []Dict
	lists    []List
	entries  []tableEntry
	items    []any
	tuples   []Tuple
	byteHdrs [][]byte
	// arena: the next pickle is small; its first chunks come from a
	// smallArena, allocated when one is first needed
	arena bool
}

// startPickle drops the pointer-holding chunks of the last pickle; small
// says the pickle to come is small.
func (s *slabs) startPickle(small bool) {
	s.strs, s.dicts, s.lists, s.entries, s.items, s.tuples, s.byteHdrs = nil, nil, nil, nil, nil, nil, nil
	s.arena = small
}

// takeArena gives the pointer-holding kinds, all empty, their chunks from
// one new smallArena; it reports false when the pickle is not small or its
// arena is taken already.
func (s *slabs) takeArena() bool {
	if !s.arena {
		return false
	}
	s.arena = false
	a := new(smallArena)
	s.items, s.entries, s.dicts, s.tuples = a.items[:0], a.entries[:0], a.dicts[:0], a.tuples[:0]
	s.strs, s.lists, s.byteHdrs = a.strs[:0], a.lists[:0], a.byteHdrs[:0]
	return true
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
	if len(s.strs) == cap(s.strs) && !s.takeArena() {
		s.strs = make([]string, 0, slabStrings)
	}
	s.strs = append(s.strs, str)
	return box(stringType, unsafe.Pointer(&s.strs[len(s.strs)-1]))
}

// boxInterned boxes a short string (its bytes in a leaf chunk) for the
// intern cache, its header in a chunk kept across pickles.
func (d *Decoder) boxInterned(str string) any {
	s := &d.slab
	if len(s.internStrs) == cap(s.internStrs) {
		s.internStrs = make([]string, 0, slabStrings)
	}
	s.internStrs = append(s.internStrs, str)
	return box(stringType, unsafe.Pointer(&s.internStrs[len(s.internStrs)-1]))
}

func (d *Decoder) newDict() *Dict {
	s := &d.slab
	if len(s.dicts) == cap(s.dicts) && !s.takeArena() {
		s.dicts = make([]Dict, 0, slabDicts)
	}
	s.dicts = s.dicts[:len(s.dicts)+1]
	return &s.dicts[len(s.dicts)-1]
}

func (d *Decoder) newList() *List {
	s := &d.slab
	if len(s.lists) == cap(s.lists) && !s.takeArena() {
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
	if cap(s.entries)-len(s.entries) < n && (!s.takeArena() || cap(s.entries) < n) {
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
	if cap(s.items)-len(s.items) < n && (!s.takeArena() || cap(s.items) < n) {
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
	if len(s.tuples) == cap(s.tuples) && !s.takeArena() {
		s.tuples = make([]Tuple, 0, slabHeaders)
	}
	s.tuples = append(s.tuples, t)
	return box(tupleType, unsafe.Pointer(&s.tuples[len(s.tuples)-1]))
}

// boxBytes boxes b without allocating its header on its own.
func (d *Decoder) boxBytes(b []byte) any {
	s := &d.slab
	if len(s.byteHdrs) == cap(s.byteHdrs) && !s.takeArena() {
		s.byteHdrs = make([][]byte, 0, slabHeaders)
	}
	s.byteHdrs = append(s.byteHdrs, b)
	return box(bytesType, unsafe.Pointer(&s.byteHdrs[len(s.byteHdrs)-1]))
}
