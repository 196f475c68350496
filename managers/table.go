package managers

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// entry is one shared object. Guarded by table.mu except the immutable fields.
type entry struct {
	ident string
	obj   Object

	// set by create (under table.mu)
	typeid         string
	exposed        []string             // as sent in the create reply (order kept, duplicates kept)
	exposedSet     map[string]*reqStats // the exposed names and their request counters
	stats          *typeStats           // the typeid's other counters
	methodToTypeID map[string]string

	refcount int  // valid when tracked
	tracked  bool // in CPython's id_to_refcount
	internal int  // live *Refs (CPython's id_to_local_proxy_obj)
	key      any  // identity key in table.byObj, nil if none

	// Server.ReclaimAfter bookkeeping (see reclaim.go); users and touched stay 0 when it is off.
	users   int   // live connections that used the entry
	touched int64 // when it was last used (table.now)
	apiRefs int   // references taken through the Go API (Server.Create, Server.Incref)
	held    bool  // the server holds the object itself (Singleton)
	kept    bool  // held and reclaimed: stays in the table untracked, with its ident
	listed  bool  // in table.unused
	prev    *entry
	next    *entry
}

// table is the object table: CPython's id_to_obj, id_to_refcount and id_to_local_proxy_obj.
type table struct {
	mu      sync.Mutex
	next    uint64
	byIdent map[string]*entry
	byObj   map[any]*entry

	reclaim bool      // Server.ReclaimAfter > 0: record uses (set before the table is shared)
	epoch   time.Time // origin of entry.touched (monotonic)
	unused  unusedList
}

func newTable() *table {
	return &table{byIdent: map[string]*entry{}, byObj: map[any]*entry{}, next: 0x7f0000001000, epoch: time.Now()}
}

// identityKey returns a map key for objects with reference identity (pointers, maps, chans).
func identityKey(obj Object) any {
	v := reflect.ValueOf(obj)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.UnsafePointer:
		return obj
	}
	return nil
}

// register stores obj (created for typeid) as CPython's create does: the same object keeps its
// ident (and its refcount); the exposed names are replaced; then the refcount is incremented on
// behalf of by. held marks an object the server holds itself (Singleton). The exposed names'
// request counters come from st.
func (t *table) register(obj Object, typeid string, exposed []string, m2t map[string]string, held bool, by holder, st *serverStats) created {
	ts, set := st.forType(typeid, exposed)
	key := identityKey(obj)
	t.mu.Lock()
	defer t.mu.Unlock()
	var e *entry
	if key != nil {
		e = t.byObj[key]
	}
	if e == nil {
		t.next += 0x30
		e = &entry{ident: fmt.Sprintf("%x", t.next), obj: obj, key: key}
		t.byIdent[e.ident] = e
		if key != nil {
			t.byObj[key] = e
		}
		if t.reclaim {
			e.touched = t.now()
			t.unused.push(e)
		}
	}
	e.typeid, e.exposed, e.exposedSet, e.stats, e.methodToTypeID = typeid, exposed, set, ts, m2t
	e.held = e.held || held
	if !e.tracked {
		e.tracked, e.refcount, e.apiRefs = true, 0, 0
	}
	e.refcount++
	t.took(e, by)
	return created{ident: e.ident, exposed: exposed}
}

// created is what create reports: a snapshot, since a singleton's entry may be re-registered
// concurrently.
type created struct {
	ident   string
	exposed []string
}

// lookup returns the entry for ident, tracked or internally held (the method loop's lookup),
// and records its use by u (nil: no use).
func (t *table) lookup(ident string, u *user) *entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byIdent[ident]
	if e != nil {
		t.use(e, u)
	}
	return e
}

// target is lookup for a method call: the entry and, read under the same lock, what the call
// needs of it.
func (t *table) target(ident string, u *user) (e *entry, exposed map[string]*reqStats, ts *typeStats, m2t map[string]string, typeid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e = t.byIdent[ident]
	if e == nil {
		return nil, nil, nil, nil, ""
	}
	t.use(e, u)
	return e, e.exposedSet, e.stats, e.methodToTypeID, e.typeid
}

// lookupTracked returns the entry only if it is tracked (CPython's id_to_obj).
func (t *table) lookupTracked(ident string) *entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byIdent[ident]; e != nil && e.tracked {
		return e
	}
	return nil
}

// incref implements the public function: +1, or re-enable tracking of an internally held object.
func (t *table) incref(ident string, by holder) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byIdent[ident]
	switch {
	case e == nil:
		return keyError(ident)
	case e.tracked:
		e.refcount++
	default: // internally held only: re-enable tracking
		e.tracked, e.refcount, e.apiRefs = true, 1, 0
	}
	t.took(e, by)
	return nil
}

// took records that by took a reference to e (incref or create). t.mu held.
func (t *table) took(e *entry, by holder) {
	if by.api {
		e.apiRefs++
	}
	t.use(e, by.u)
}

// decref implements the public function. Decref of an internally held, untracked ident is
// ignored; an unknown ident is a KeyError.
func (t *table) decref(ident string, by holder) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byIdent[ident]
	if e == nil {
		return keyError(ident)
	}
	t.use(e, by.u)
	if !e.tracked {
		return nil
	}
	if by.api && e.apiRefs > 0 {
		e.apiRefs--
	}
	if e.refcount <= 0 {
		return &PyException{Module: "builtins", Name: "AssertionError", Args: []any{fmt.Sprintf("Id %s (%s) has refcount %d, not 1+", ident, objRepr(e.obj, ident), e.refcount)}}
	}
	e.refcount--
	if e.refcount == 0 {
		e.tracked = false
		t.maybeForget(e)
	}
	return nil
}

// releaseInternal is run when a *Ref is garbage collected.
func (t *table) releaseInternal(e *entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.internal--
	t.maybeForget(e)
}

// maybeForget drops e when nothing holds it. t.mu held.
func (t *table) maybeForget(e *entry) {
	if e.tracked || e.internal > 0 || e.kept {
		return
	}
	if t.byIdent[e.ident] == e {
		delete(t.byIdent, e.ident)
		t.unused.remove(e)
	}
	if e.key != nil && t.byObj[e.key] == e {
		delete(t.byObj, e.key)
	}
}

// numberOfObjects counts tracked objects.
func (t *table) numberOfObjects() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.byIdent {
		if e.tracked {
			n++
		}
	}
	return n
}

// debugInfo renders CPython's debug_info text.
func (t *table) debugInfo() string {
	type item struct {
		ident string
		ref   int
		obj   Object
	}
	t.mu.Lock()
	items := make([]item, 0, len(t.byIdent))
	for _, e := range t.byIdent {
		if e.tracked {
			items = append(items, item{e.ident, e.refcount, e.obj})
		}
	}
	t.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].ident < items[j].ident })
	lines := make([]string, len(items))
	for i, it := range items {
		s := objStr(it.obj, it.ident)
		if r := []rune(s); len(r) > 75 {
			s = string(r[:75])
		}
		lines[i] = fmt.Sprintf("  %s:       refcount=%d\n    %s", it.ident, it.ref, s)
	}
	return strings.Join(lines, "\n")
}

// snapshot returns the tracked entries' idents and refcounts (for tests and Go callers).
func (t *table) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := map[string]int{}
	for id, e := range t.byIdent {
		if e.tracked {
			m[id] = e.refcount
		}
	}
	return m
}

func keyError(k any) *PyException { return NewPyException("builtins", "KeyError", k) }

// goTypeName is the Go type of obj without the pointer star, e.g. "managers.Queue".
func goTypeName(obj any) string {
	if obj == nil {
		return "NoneType"
	}
	return strings.TrimLeft(reflect.TypeOf(obj).String(), "*")
}

// objRepr is repr(obj): PyRepr, else "<managers.Queue object at 0x7f...>".
func objRepr(obj Object, ident string) string {
	if r, ok := obj.(Reprer); ok {
		return r.PyRepr()
	}
	return "<" + pyClassName(obj) + " object at 0x" + ident + ">"
}

// objStr is str(obj): PyStr, else repr.
func objStr(obj Object, ident string) string {
	if s, ok := obj.(PyStringer); ok {
		return s.PyStr()
	}
	return objRepr(obj, ident)
}
