package pickle

import "unsafe"

// smallTable is the size up to which a table has no index: lookups compare
// keys linearly and no hash is computed or stored. Most dicts a manager sees
// (request kwargs, small records) stay below it; their entries are then
// just the key and the value, which keeps decoded data compact.
const smallTable = 8

// tableEntry is one slot of an insertion-ordered hash table. A removed
// entry's key is deadKey.
type tableEntry struct {
	key, value any
}

// The decoder puts at most slabMaxDict entries in a table it gives no
// index: checked here at compile time.
var _ = uint(smallTable - slabMaxDict)

// tombstone is the type of deadKey; no value of the model has it.
type tombstone struct{}

var (
	deadKey  any = (*tombstone)(nil)
	deadType     = typeWord(deadKey)
)

func (e *tableEntry) dead() bool { return (*eface)(unsafe.Pointer(&e.key)).typ == deadType }

// tableIndex is the hash index of a table larger than smallTable: the hash
// of every entry, chains of entries with equal hashes, and the first entry
// of each chain.
type tableIndex struct {
	heads  map[uint64]int32
	hashes []uint64 // per entry
	next   []int32  // per entry: the next entry with the same hash, -1 at the end
}

// table is the insertion-ordered hash table behind Dict, Set and FrozenSet.
// Keys are compared with Python equality and hashed with Hash.
type table struct {
	entries []tableEntry
	idx     *tableIndex // nil while len(entries) <= smallTable
	live    int
}

// keyEqual is Equal with a fast path for the common string keys.
func keyEqual(a, b any) bool {
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return as == bs
		}
	}
	return Equal(a, b)
}

// checkHashable returns Hash's error for an unhashable key, without hashing
// the common scalar keys that cannot fail.
func checkHashable(key any) error {
	switch key.(type) {
	case string, int64, nil, bool, float64, Py2String, []byte, Global:
		return nil
	}
	_, err := Hash(key)
	return err
}

// mustHash hashes a key already in a table (so known to be hashable).
func mustHash(key any) uint64 {
	h, _ := Hash(key)
	return h
}

// hashAt returns the hash of entry i (live).
func (t *table) hashAt(i int) uint64 {
	if t.idx != nil {
		return t.idx.hashes[i]
	}
	return mustHash(t.entries[i].key)
}

// find returns the index of key, or -1; the error is a *TypeError for an
// unhashable key.
func (t *table) find(key any) (int, error) {
	if t.idx == nil {
		if err := checkHashable(key); err != nil {
			return -1, err
		}
		return t.scan(key), nil
	}
	h, err := Hash(key)
	if err != nil {
		return -1, err
	}
	return t.chain(key, h), nil
}

// scan looks key up linearly.
func (t *table) scan(key any) int {
	for i := range t.entries {
		e := &t.entries[i]
		if !e.dead() && keyEqual(e.key, key) {
			return i
		}
	}
	return -1
}

// chain looks key up through the index (t.idx != nil).
func (t *table) chain(key any, h uint64) int {
	i, ok := t.idx.heads[h]
	if !ok {
		return -1
	}
	for i >= 0 {
		if e := &t.entries[i]; !e.dead() && keyEqual(e.key, key) {
			return int(i)
		}
		i = t.idx.next[i]
	}
	return -1
}

// findIn looks up, in t, the key of entry i of src (so known hashable),
// reusing src's stored hash when it has one.
func (t *table) findIn(src *table, i int) int {
	key := src.entries[i].key
	if t.idx == nil {
		return t.scan(key)
	}
	return t.chain(key, src.hashAt(i))
}

// buildIndex hashes every entry and links the chains; hashes, when not
// nil, are the entries' hashes already known.
func (t *table) buildIndex(hashes []uint64) {
	n := len(t.entries)
	x := &tableIndex{heads: make(map[uint64]int32, n*2), hashes: hashes, next: make([]int32, n, cap(t.entries))}
	if x.hashes == nil {
		x.hashes = make([]uint64, n, cap(t.entries))
		for i := range t.entries {
			if e := &t.entries[i]; !e.dead() {
				x.hashes[i] = mustHash(e.key)
			}
		}
	}
	for i := range t.entries {
		x.next[i] = -1
		if t.entries[i].dead() {
			continue
		}
		h := x.hashes[i]
		if head, ok := x.heads[h]; ok {
			x.next[i] = head
		}
		x.heads[h] = int32(i)
	}
	t.idx = x
}

// add appends a key known to be absent (and hashable); h is its hash when
// the table is indexed.
func (t *table) add(key, value any, h uint64) {
	t.entries = append(t.entries, tableEntry{key, value})
	t.live++
	if x := t.idx; x != nil {
		next := int32(-1)
		if head, ok := x.heads[h]; ok {
			next = head
		}
		x.heads[h] = int32(len(t.entries) - 1)
		x.hashes = append(x.hashes, h)
		x.next = append(x.next, next)
	} else if len(t.entries) > smallTable {
		t.buildIndex(nil)
	}
}

// put inserts key, or, when it is present and replace is set, replaces its
// value; an existing key keeps its position and its original key object,
// as in Python.
func (t *table) put(key, value any, replace bool) error {
	if t.idx == nil {
		if err := checkHashable(key); err != nil {
			return err
		}
		if i := t.scan(key); i >= 0 {
			if replace {
				t.entries[i].value = value
			}
			return nil
		}
		t.add(key, value, 0)
		return nil
	}
	h, err := Hash(key)
	if err != nil {
		return err
	}
	if i := t.chain(key, h); i >= 0 {
		if replace {
			t.entries[i].value = value
		}
		return nil
	}
	t.add(key, value, h)
	return nil
}

// insertNew appends a key known to be absent and hashable.
func (t *table) insertNew(key, value any) {
	var h uint64
	if t.idx != nil {
		h = mustHash(key)
	}
	t.add(key, value, h)
}

func (t *table) set(key, value any) error { return t.put(key, value, true) }

func (t *table) remove(i int) tableEntry {
	e := t.entries[i]
	if x := t.idx; x != nil {
		// unlink i from its hash chain
		h := x.hashes[i]
		if head := x.heads[h]; int(head) == i {
			if x.next[i] >= 0 {
				x.heads[h] = x.next[i]
			} else {
				delete(x.heads, h)
			}
		} else {
			for j := head; j >= 0; j = x.next[j] {
				if int(x.next[j]) == i {
					x.next[j] = x.next[i]
					break
				}
			}
		}
		x.next[i] = -1
	}
	t.entries[i] = tableEntry{key: deadKey}
	t.live--
	if t.live == 0 {
		t.entries = t.entries[:0]
		t.idx = nil
	} else if len(t.entries) > 32 && t.live < len(t.entries)/2 {
		t.compact()
	}
	return e
}

// compact drops the removed entries.
func (t *table) compact() {
	var hashes []uint64
	n := 0
	for i, e := range t.entries {
		if e.dead() {
			continue
		}
		if t.idx != nil {
			t.idx.hashes[n] = t.idx.hashes[i]
		}
		t.entries[n] = e
		n++
	}
	clear(t.entries[n:])
	t.entries = t.entries[:n]
	if t.idx != nil {
		hashes = t.idx.hashes[:n]
	}
	t.idx = nil
	if n > smallTable {
		t.buildIndex(hashes)
	}
}

func (t *table) clone() *table {
	c := &table{entries: make([]tableEntry, 0, t.live)}
	var hashes []uint64
	if t.idx != nil && t.live > smallTable {
		hashes = make([]uint64, 0, t.live)
	}
	for i, e := range t.entries {
		if !e.dead() {
			c.entries = append(c.entries, e)
			c.live++
			if hashes != nil {
				hashes = append(hashes, t.idx.hashes[i])
			}
		}
	}
	if c.live > smallTable {
		c.buildIndex(hashes)
	}
	return c
}

func (t *table) has(x any) (bool, error) {
	i, err := t.find(x)
	return i >= 0, err
}

func (t *table) keys() []any {
	out := make([]any, 0, t.live)
	for i := range t.entries {
		if e := &t.entries[i]; !e.dead() {
			out = append(out, e.key)
		}
	}
	return out
}
