package pickle

// smallTable is the size up to which a table is searched linearly (by hash
// first) instead of through its index map.
const smallTable = 8

// tableEntry is one slot of an insertion-ordered hash table.
type tableEntry struct {
	key, value any
	hash       uint64
	next       int32 // next entry with the same hash, -1 at the end
	live       bool
}

// table is the insertion-ordered hash table behind Dict, Set and FrozenSet.
// Keys are compared with Python equality and hashed with Hash.
type table struct {
	entries []tableEntry
	index   map[uint64]int32 // first entry with a hash; nil while the table is small
	live    int
}

func (t *table) find(key any, h uint64) int {
	if t.index == nil {
		for i := range t.entries {
			e := &t.entries[i]
			if e.live && e.hash == h && keyEqual(e.key, key) {
				return i
			}
		}
		return -1
	}
	i, ok := t.index[h]
	if !ok {
		return -1
	}
	for i >= 0 {
		e := &t.entries[i]
		if e.live && keyEqual(e.key, key) {
			return int(i)
		}
		i = e.next
	}
	return -1
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

func (t *table) buildIndex() {
	t.index = make(map[uint64]int32, len(t.entries)*2)
	for i := range t.entries {
		e := &t.entries[i]
		e.next = -1
		if !e.live {
			continue
		}
		if head, ok := t.index[e.hash]; ok {
			e.next = head
		}
		t.index[e.hash] = int32(i)
	}
}

// insert adds a new key (the caller checked it is absent).
func (t *table) insert(key, value any, h uint64) {
	i := int32(len(t.entries))
	e := tableEntry{key: key, value: value, hash: h, next: -1, live: true}
	if t.index != nil {
		if head, ok := t.index[h]; ok {
			e.next = head
		}
		t.index[h] = i
	}
	t.entries = append(t.entries, e)
	t.live++
	if t.index == nil && len(t.entries) > smallTable {
		t.buildIndex()
	}
}

// set inserts or replaces; an existing key keeps its position and its
// original key object, as in Python.
func (t *table) set(key, value any) error {
	h, err := Hash(key)
	if err != nil {
		return err
	}
	if i := t.find(key, h); i >= 0 {
		t.entries[i].value = value
		return nil
	}
	t.insert(key, value, h)
	return nil
}

func (t *table) remove(i int) (tableEntry, bool) {
	e := t.entries[i]
	if t.index != nil {
		// unlink i from its hash chain
		head := t.index[e.hash]
		if int(head) == i {
			if e.next >= 0 {
				t.index[e.hash] = e.next
			} else {
				delete(t.index, e.hash)
			}
		} else {
			for j := head; j >= 0; j = t.entries[j].next {
				if int(t.entries[j].next) == i {
					t.entries[j].next = e.next
					break
				}
			}
		}
	}
	t.entries[i] = tableEntry{next: -1}
	t.live--
	if t.live == 0 {
		t.entries = t.entries[:0]
		t.index = nil
	} else if len(t.entries) > 32 && t.live < len(t.entries)/2 {
		t.compact()
	}
	return e, true
}

func (t *table) compact() {
	n := 0
	for _, e := range t.entries {
		if e.live {
			t.entries[n] = e
			n++
		}
	}
	clear(t.entries[n:])
	t.entries = t.entries[:n]
	if n > smallTable {
		t.buildIndex()
	} else {
		t.index = nil
	}
}

func (t *table) clone() *table {
	c := &table{entries: make([]tableEntry, 0, t.live), live: 0}
	for _, e := range t.entries {
		if e.live {
			e.next = -1
			c.entries = append(c.entries, e)
			c.live++
		}
	}
	if c.live > smallTable {
		c.buildIndex()
	}
	return c
}

// DictItem is one key/value pair of a Dict.
type DictItem struct {
	Key, Value any
}

// Dict is a Python dict: insertion ordered, with keys compared and hashed by
// Python's rules (1, 1.0 and True are the same key; str and bytes never are).
// Lookups are O(1). It is always used as *Dict; the zero value is an empty
// dict ready to use. A Dict is not safe for concurrent use.
type Dict struct {
	t table
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{} }

// NewDictItems returns a dict holding items, later items replacing earlier
// equal keys. It fails with a *TypeError on an unhashable key.
func NewDictItems(items ...DictItem) (*Dict, error) {
	d := &Dict{}
	for _, it := range items {
		if err := d.Set(it.Key, it.Value); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Len returns the number of items.
func (d *Dict) Len() int { return d.t.live }

// Get returns the value for key. An unhashable key is simply absent.
func (d *Dict) Get(key any) (any, bool) {
	v, ok, _ := d.Lookup(key)
	return v, ok
}

// Lookup returns the value for key; the error is a *TypeError for an
// unhashable key.
func (d *Dict) Lookup(key any) (any, bool, error) {
	h, err := Hash(key)
	if err != nil {
		return nil, false, err
	}
	if i := d.t.find(key, h); i >= 0 {
		return d.t.entries[i].value, true, nil
	}
	return nil, false, nil
}

// Set sets d[key] = value. An existing key keeps its position. The error is a
// *TypeError for an unhashable key.
func (d *Dict) Set(key, value any) error { return d.t.set(key, value) }

// Pop removes key and returns its value.
func (d *Dict) Pop(key any) (any, bool, error) {
	h, err := Hash(key)
	if err != nil {
		return nil, false, err
	}
	i := d.t.find(key, h)
	if i < 0 {
		return nil, false, nil
	}
	e, _ := d.t.remove(i)
	return e.value, true, nil
}

// PopItem removes and returns the last inserted item, like dict.popitem.
func (d *Dict) PopItem() (DictItem, bool) {
	for i := len(d.t.entries) - 1; i >= 0; i-- {
		if d.t.entries[i].live {
			e, _ := d.t.remove(i)
			return DictItem{e.key, e.value}, true
		}
	}
	return DictItem{}, false
}

// Items returns a copy of the items in insertion order.
func (d *Dict) Items() []DictItem {
	out := make([]DictItem, 0, d.t.live)
	for _, e := range d.t.entries {
		if e.live {
			out = append(out, DictItem{e.key, e.value})
		}
	}
	return out
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any {
	out := make([]any, 0, d.t.live)
	for _, e := range d.t.entries {
		if e.live {
			out = append(out, e.key)
		}
	}
	return out
}

// Values returns the values in insertion order.
func (d *Dict) Values() []any {
	out := make([]any, 0, d.t.live)
	for _, e := range d.t.entries {
		if e.live {
			out = append(out, e.value)
		}
	}
	return out
}

// Range calls f for each item in insertion order until f returns false. f
// must not modify d.
func (d *Dict) Range(f func(key, value any) bool) {
	for i := 0; i < len(d.t.entries); i++ {
		e := d.t.entries[i]
		if e.live && !f(e.key, e.value) {
			return
		}
	}
}

// Clear removes every item.
func (d *Dict) Clear() { d.t = table{} }

// Copy returns a shallow copy.
func (d *Dict) Copy() *Dict { return &Dict{t: *d.t.clone()} }

// Set is a Python set. It is always used as *Set; the zero value is an empty
// set ready to use.
type Set struct {
	t table
}

// NewSet returns a set holding items; the error is a *TypeError for an
// unhashable item.
func NewSet(items ...any) (*Set, error) {
	s := &Set{}
	for _, x := range items {
		if err := s.Add(x); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add adds x.
func (s *Set) Add(x any) error {
	h, err := Hash(x)
	if err != nil {
		return err
	}
	if s.t.find(x, h) < 0 {
		s.t.insert(x, nil, h)
	}
	return nil
}

// Has reports whether x is in the set.
func (s *Set) Has(x any) (bool, error) { return s.t.has(x) }

// Remove removes x and reports whether it was present.
func (s *Set) Remove(x any) (bool, error) {
	h, err := Hash(x)
	if err != nil {
		return false, err
	}
	i := s.t.find(x, h)
	if i < 0 {
		return false, nil
	}
	s.t.remove(i)
	return true, nil
}

// Len returns the number of items.
func (s *Set) Len() int { return s.t.live }

// Items returns the items in insertion order.
func (s *Set) Items() []any { return s.t.keys() }

// Clear removes every item.
func (s *Set) Clear() { s.t = table{} }

// Copy returns a shallow copy.
func (s *Set) Copy() *Set { return &Set{t: *s.t.clone()} }

// Frozen returns a FrozenSet with the same items.
func (s *Set) Frozen() FrozenSet { return FrozenSet{t: s.t.clone()} }

func (t *table) has(x any) (bool, error) {
	h, err := Hash(x)
	if err != nil {
		return false, err
	}
	return t.find(x, h) >= 0, nil
}

func (t *table) keys() []any {
	out := make([]any, 0, t.live)
	for _, e := range t.entries {
		if e.live {
			out = append(out, e.key)
		}
	}
	return out
}

// FrozenSet is a Python frozenset: an immutable value. The zero value is the
// empty frozenset.
type FrozenSet struct {
	t *table
}

// NewFrozenSet returns a frozenset holding items; the error is a *TypeError
// for an unhashable item.
func NewFrozenSet(items ...any) (FrozenSet, error) {
	s, err := NewSet(items...)
	if err != nil {
		return FrozenSet{}, err
	}
	return FrozenSet{t: &s.t}, nil
}

// Len returns the number of items.
func (f FrozenSet) Len() int {
	if f.t == nil {
		return 0
	}
	return f.t.live
}

// Items returns the items in insertion order.
func (f FrozenSet) Items() []any {
	if f.t == nil {
		return []any{}
	}
	return f.t.keys()
}

// Has reports whether x is in the frozenset.
func (f FrozenSet) Has(x any) (bool, error) {
	if f.t == nil {
		_, err := Hash(x)
		return false, err
	}
	return f.t.has(x)
}

// tbl returns the table of a set-like value (nil for the empty frozenset).
func (f FrozenSet) tbl() *table { return f.t }
