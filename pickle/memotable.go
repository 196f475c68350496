package pickle

import (
	"math/bits"
	"unsafe"
)

// ptrTable is the encoder's memo: it maps an identity (an address and a
// small integer: a tuple's length, a kind tag, a string's length) to a memo
// index. It replaces a Go map because the encoder looks up every container
// and string it writes: keyed by address, an open-addressing table with a
// multiplicative hash is several times cheaper than hashing the key through
// a map's generic hash. The stored pointers are visible to the garbage
// collector, so what is in the memo stays alive (and its address unique)
// for the whole Encode.
type ptrTable struct {
	slots []ptrSlot // len is 0 or a power of two
	count int
	shift uint // 64 - log2(len(slots))
	// first holds the slots of the first len(first) entries, so that reset clears only
	// those when there are no more (most pickles memoize a handful of values, and
	// clearing the whole table was most of a small pickle's memo cost).
	first [8]uint32
}

type ptrSlot struct {
	p    unsafe.Pointer
	n    int
	v    int32
	used bool
}

// ptrHash is Fibonacci hashing: the top bits of the product, which depend
// on all bits of the (8- or 16-byte aligned) address.
func (t *ptrTable) ptrHash(p unsafe.Pointer, n int) uint {
	return uint(((uint64(uintptr(p)) + uint64(n)*0xC2B2AE3D27D4EB4F) * 0x9E3779B97F4A7C15) >> t.shift)
}

func (t *ptrTable) get(p unsafe.Pointer, n int) (int, bool) {
	if t.count == 0 {
		return 0, false
	}
	mask := uint(len(t.slots) - 1)
	for i := t.ptrHash(p, n); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return 0, false
		}
		if s.p == p && s.n == n {
			return int(s.v), true
		}
	}
}

// put adds or replaces the entry for (p, n).
func (t *ptrTable) put(p unsafe.Pointer, n int, v int) {
	if (t.count+1)*2 > len(t.slots) { // load <= 1/2: short probe sequences
		t.grow()
	}
	mask := uint(len(t.slots) - 1)
	for i := t.ptrHash(p, n); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			*s = ptrSlot{p: p, n: n, v: int32(v), used: true}
			if t.count < len(t.first) {
				t.first[t.count] = uint32(i)
			}
			t.count++
			return
		}
		if s.p == p && s.n == n {
			s.v = int32(v)
			return
		}
	}
}

func (t *ptrTable) grow() {
	old := t.slots
	n := max(64, 2*len(old))
	t.slots = make([]ptrSlot, n)
	t.shift = uint(64 - bits.TrailingZeros(uint(n)))
	t.count = 0
	for i := range old {
		if s := &old[i]; s.used {
			t.put(s.p, s.n, int(s.v))
		}
	}
}

// reset empties the table for the next Encode. A table much larger than
// what the last Encode used is dropped rather than cleared.
func (t *ptrTable) reset() {
	if t.count == 0 {
		return
	}
	switch {
	case len(t.slots) > 1024 && t.count*16 < len(t.slots) || len(t.slots) > 1<<21:
		t.slots, t.shift = nil, 0
	case t.count <= len(t.first):
		for _, i := range t.first[:t.count] {
			t.slots[i] = ptrSlot{}
		}
	default:
		clear(t.slots)
	}
	t.count = 0
}
