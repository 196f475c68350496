package pickle

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
	i, err := d.t.find(key)
	if i < 0 {
		return nil, false, err
	}
	return d.t.entries[i].value, true, nil
}

// Set sets d[key] = value. An existing key keeps its position. The error is a
// *TypeError for an unhashable key.
func (d *Dict) Set(key, value any) error { return d.t.set(key, value) }

// Pop removes key and returns its value.
func (d *Dict) Pop(key any) (any, bool, error) {
	i, err := d.t.find(key)
	if i < 0 {
		return nil, false, err
	}
	return d.t.remove(i).value, true, nil
}

// PopItem removes and returns the last inserted item, like dict.popitem.
func (d *Dict) PopItem() (DictItem, bool) {
	for i := len(d.t.entries) - 1; i >= 0; i-- {
		if !d.t.entries[i].dead() {
			e := d.t.remove(i)
			return DictItem{e.key, e.value}, true
		}
	}
	return DictItem{}, false
}

// Items returns a copy of the items in insertion order.
func (d *Dict) Items() []DictItem {
	out := make([]DictItem, 0, d.t.live)
	for i := range d.t.entries {
		if e := &d.t.entries[i]; !e.dead() {
			out = append(out, DictItem{e.key, e.value})
		}
	}
	return out
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any {
	out := make([]any, 0, d.t.live)
	for i := range d.t.entries {
		if e := &d.t.entries[i]; !e.dead() {
			out = append(out, e.key)
		}
	}
	return out
}

// Values returns the values in insertion order.
func (d *Dict) Values() []any {
	out := make([]any, 0, d.t.live)
	for i := range d.t.entries {
		if e := &d.t.entries[i]; !e.dead() {
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
		if !e.dead() && !f(e.key, e.value) {
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
func (s *Set) Add(x any) error { return s.t.put(x, nil, false) }

// Has reports whether x is in the set.
func (s *Set) Has(x any) (bool, error) { return s.t.has(x) }

// Remove removes x and reports whether it was present.
func (s *Set) Remove(x any) (bool, error) {
	i, err := s.t.find(x)
	if i < 0 {
		return false, err
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
