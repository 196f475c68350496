package pickle

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Marshaler is implemented by Go types that choose their own pickled form.
// MarshalPickle returns a value-model value (typically an *Object, a Tuple or
// a *Dict) that the encoder writes in place of the receiver.
type Marshaler interface {
	MarshalPickle() (any, error)
}

// Unmarshaler is implemented by Go types that decode themselves from the
// value model. UnmarshalPickle receives the decoded value-model value: an
// *Object for an instance of a registered class, or whatever value the
// pickle holds where a typed Unmarshal meets the type.
type Unmarshaler interface {
	UnmarshalPickle(v any) error
}

// A Registry maps Python classes, named by module and name, to Go types. A
// [Decoder] with a registry (see [Decoder.SetRegistry]) turns every *Object
// of a registered class into a new value of the registered Go type instead of
// leaving it as a generic *Object. Decoding never calls Python code: the
// registry only chooses which Go type receives the recorded data.
//
// A Registry is a value, not a global: create one with [NewRegistry] (empty)
// or [StdRegistry] (the standard library mappings of this package), add your
// own classes with [Registry.Register], and hand it to the decoders that
// should use it. A Registry is safe for concurrent use; registering while
// decoders run is allowed, and each decode sees the registrations made
// before it started.
//
// Classes are keyed by their Python 3 names (builtins, copyreg, queue): the
// decoder normalises Python 2 names before it consults the registry, and
// Register and Lookup normalise the names they are given the same way
// (Register("exceptions", "ValueError", ...) registers builtins.ValueError).
type Registry struct {
	mu  sync.Mutex                  // serialises writers
	cur atomic.Pointer[registryMap] // immutable snapshot read by decoders
}

// registryMap is one immutable snapshot of a Registry.
type registryMap struct {
	byClass map[Global]*regEntry
	byType  map[reflect.Type]Global
}

// regEntry is one registered class.
type regEntry struct {
	class Global
	typ   reflect.Type // the type of the proto value
	ptr   bool         // typ is a pointer type: the decoder yields a pointer
	elem  reflect.Type // the allocated type: typ.Elem() when ptr, else typ
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{} }

// Register maps the Python class module.name to the Go type of proto, in both
// directions: decoding yields a new value of proto's type for every object
// of that class, and [Registry.ClassOf] names the class of that type.
//
// proto is a value of the Go type, such as MyType{} or (*MyType)(nil). When
// proto's type is a pointer type the decoder yields pointers, else values.
// The new value is filled by UnmarshalPickle when a pointer to it implements
// [Unmarshaler], which then receives the *Object; otherwise the *Object is
// unmarshalled into it as [Unmarshal] would do: its BUILD state (a dict, or a
// (dict, slots) pair) into struct fields, or else its arguments positionally
// into struct fields. The encoder writes a registered type through its
// [Marshaler] method; a type without one is written as [Marshal] writes any
// Go value (a struct as a dict).
//
// Registering a class or a type that is already registered replaces the
// earlier mapping. Register returns an error for an empty module or name, a
// nil proto, or a type that cannot hold data (functions, channels).
func (r *Registry) Register(module, name string, proto any) error {
	if module == "" || name == "" {
		return fmt.Errorf("pickle: Registry.Register: empty module or class name (%q, %q)", module, name)
	}
	if proto == nil {
		return errors.New("pickle: Registry.Register: proto must be a value of the Go type, not nil")
	}
	module, name = toPy3Name(module, name)
	t := reflect.TypeOf(proto)
	e := &regEntry{class: Global{Module: module, Name: name}, typ: t, elem: t}
	if t.Kind() == reflect.Pointer {
		e.ptr = true
		e.elem = t.Elem()
	}
	switch e.elem.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Invalid, reflect.Pointer:
		return fmt.Errorf("pickle: Registry.Register(%q, %q): type %v cannot hold pickled data", module, name, t)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.cur.Load()
	m := &registryMap{byClass: map[Global]*regEntry{}, byType: map[reflect.Type]Global{}}
	if old != nil {
		for k, v := range old.byClass {
			m.byClass[k] = v
		}
		for k, v := range old.byType {
			m.byType[k] = v
		}
	}
	if prev, ok := m.byClass[e.class]; ok {
		delete(m.byType, prev.typ)
	}
	if prevClass, ok := m.byType[t]; ok {
		delete(m.byClass, prevClass)
	}
	m.byClass[e.class] = e
	m.byType[t] = e.class
	r.cur.Store(m)
	return nil
}

// MustRegister is like [Registry.Register] but panics on an error. It is
// meant for setting up a registry with constant arguments.
func (r *Registry) MustRegister(module, name string, proto any) {
	if err := r.Register(module, name, proto); err != nil {
		panic(err)
	}
}

// Lookup returns the Go type registered for the Python class module.name.
func (r *Registry) Lookup(module, name string) (reflect.Type, bool) {
	module, name = toPy3Name(module, name)
	if e := r.entry(Global{Module: module, Name: name}); e != nil {
		return e.typ, true
	}
	return nil, false
}

// ClassOf returns the Python class registered for the Go type t.
func (r *Registry) ClassOf(t reflect.Type) (Global, bool) {
	if r == nil {
		return Global{}, false
	}
	m := r.cur.Load()
	if m == nil {
		return Global{}, false
	}
	g, ok := m.byType[t]
	return g, ok
}

// Classes returns the registered classes, in no particular order.
func (r *Registry) Classes() []Global {
	if r == nil {
		return nil
	}
	m := r.cur.Load()
	if m == nil {
		return nil
	}
	out := make([]Global, 0, len(m.byClass))
	for g := range m.byClass {
		out = append(out, g)
	}
	return out
}

// entry returns the registration of class, or nil.
func (r *Registry) entry(class Global) *regEntry {
	if r == nil {
		return nil
	}
	m := r.cur.Load()
	if m == nil {
		return nil
	}
	return m.byClass[class]
}

// registered reports whether class is registered. The decoder may use it to
// skip [Registry.resolve] when no object of a registered class was built.
func (r *Registry) registered(class Global) bool { return r.entry(class) != nil }

// empty reports whether nothing is registered.
func (r *Registry) empty() bool {
	if r == nil {
		return true
	}
	m := r.cur.Load()
	return m == nil || len(m.byClass) == 0
}

// convert turns o, an object of the registered class e, into a Go value.
func (e *regEntry) convert(o *Object) (any, error) {
	p := reflect.New(e.elem)
	if u, ok := p.Interface().(Unmarshaler); ok {
		if err := u.UnmarshalPickle(o); err != nil {
			return nil, fmt.Errorf("pickle: decoding %s into %v: %w", e.class, e.typ, err)
		}
	} else if err := unmarshalReflect(o, p); err != nil {
		return nil, err
	}
	if e.ptr {
		return p.Interface(), nil
	}
	return p.Elem().Interface(), nil
}

// maxResolveDepth bounds the recursion of resolve over deeply nested values
// (which a pickle can build without a deep stack by using the memo).
const maxResolveDepth = 10000

// resolve returns v with every *Object whose class is registered replaced by
// the Go value of the registered type. It walks *List, *Dict, *Set,
// FrozenSet, Tuple and *Object (arguments, state and items) and keeps
// identity: the same *Object always yields the same result, and containers
// are updated in place. Objects nested in a registered object are converted
// first, so UnmarshalPickle sees converted arguments and state.
//
// A converted dict key or set member that is not hashable stays an *Object.
func (r *Registry) resolve(v any) (any, error) {
	if r.empty() {
		return v, nil
	}
	w := resolver{m: r.cur.Load(), seenSet: map[resKey]struct{}{}, objs: map[*Object]any{}}
	return w.walk(v, 0)
}

// resolver holds the state of one resolve walk.
type resolver struct {
	m       *registryMap
	seenSet map[resKey]struct{} // containers already walked
	objs    map[*Object]any     // *Object -> its result (itself while in progress)
}

// resKey identifies a container: its pointer, and for a tuple the length of
// the view (tuples sliced from one array are different tuples).
type resKey struct {
	p unsafe.Pointer
	n int
}

func (w *resolver) walk(v any, depth int) (any, error) {
	if depth > maxResolveDepth {
		return nil, fmt.Errorf("pickle: value nested deeper than %d levels", maxResolveDepth)
	}
	depth++
	switch x := v.(type) {
	case *Object:
		if x == nil {
			return v, nil
		}
		if res, ok := w.objs[x]; ok {
			return res, nil
		}
		w.objs[x] = x // placeholder for cycles through the object itself
		if err := w.walkObject(x, depth); err != nil {
			return nil, err
		}
		e := w.m.byClass[x.Class]
		if e == nil {
			return x, nil
		}
		res, err := e.convert(x)
		if err != nil {
			return nil, err
		}
		w.objs[x] = res
		return res, nil
	case *List:
		if x == nil || w.seen(unsafe.Pointer(x), -1) {
			return v, nil
		}
		for i, it := range x.Items {
			n, err := w.walk(it, depth)
			if err != nil {
				return nil, err
			}
			x.Items[i] = n
		}
		return x, nil
	case Tuple:
		if len(x) == 0 || w.seen(unsafe.Pointer(unsafe.SliceData(x)), len(x)) {
			return v, nil
		}
		for i, it := range x {
			n, err := w.walk(it, depth)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case *Dict:
		if x == nil || w.seen(unsafe.Pointer(x), -1) {
			return v, nil
		}
		return x, w.walkDict(x, depth)
	case *Set:
		if x == nil || w.seen(unsafe.Pointer(x), -1) {
			return v, nil
		}
		items, changed, err := w.walkItems(x.Items(), depth)
		if err != nil {
			return nil, err
		}
		if changed {
			if ns, err := NewSet(items...); err == nil {
				*x = *ns
			}
		}
		return x, nil
	case FrozenSet:
		items, changed, err := w.walkItems(x.Items(), depth)
		if err != nil {
			return nil, err
		}
		if changed {
			if fs, err := NewFrozenSet(items...); err == nil {
				return fs, nil
			}
		}
		return x, nil
	}
	return v, nil
}

// walkItems walks the members of a set, reporting whether any was replaced.
func (w *resolver) walkItems(items []any, depth int) ([]any, bool, error) {
	changed := false
	for i, it := range items {
		n, err := w.walk(it, depth)
		if err != nil {
			return nil, false, err
		}
		if replaced(it, n) {
			if _, herr := Hash(n); herr == nil {
				changed = true
				items[i] = n
			}
		}
	}
	return items, changed, nil
}

// seen marks a container as visited and reports whether it already was.
func (w *resolver) seen(p unsafe.Pointer, n int) bool {
	k := resKey{p, n}
	if _, ok := w.seenSet[k]; ok {
		return true
	}
	w.seenSet[k] = struct{}{}
	return false
}

func (w *resolver) walkObject(o *Object, depth int) error {
	if o.Callable != nil {
		n, err := w.walk(o.Callable, depth)
		if err != nil {
			return err
		}
		o.Callable = n
	}
	for i, a := range o.Args {
		n, err := w.walk(a, depth)
		if err != nil {
			return err
		}
		o.Args[i] = n
	}
	if o.Kwargs != nil {
		if _, err := w.walk(o.Kwargs, depth); err != nil {
			return err
		}
	}
	if o.State != nil {
		n, err := w.walk(o.State, depth)
		if err != nil {
			return err
		}
		o.State = n
	}
	for i, it := range o.ListItems {
		n, err := w.walk(it, depth)
		if err != nil {
			return err
		}
		o.ListItems[i] = n
	}
	for i, it := range o.DictItems {
		k, err := w.walk(it.Key, depth)
		if err != nil {
			return err
		}
		val, err := w.walk(it.Value, depth)
		if err != nil {
			return err
		}
		if !replaced(it.Key, k) {
			k = it.Key
		} else if _, herr := Hash(k); herr != nil {
			k = it.Key
		}
		o.DictItems[i] = DictItem{Key: k, Value: val}
	}
	return nil
}

func (w *resolver) walkDict(d *Dict, depth int) error {
	type change struct {
		i      int
		k, val any
		newKey bool
	}
	var changes []change
	var err error
	i := 0
	d.Range(func(key, value any) bool {
		var k, val any
		if k, err = w.walk(key, depth); err != nil {
			return false
		}
		if val, err = w.walk(value, depth); err != nil {
			return false
		}
		newKey := false
		if replaced(key, k) {
			if _, herr := Hash(k); herr == nil {
				newKey = true
			}
		}
		if newKey || replaced(value, val) {
			if !newKey {
				k = key
			}
			changes = append(changes, change{i, k, val, newKey})
		}
		i++
		return true
	})
	if err != nil || len(changes) == 0 {
		return err
	}
	keysChanged := false
	for _, c := range changes {
		keysChanged = keysChanged || c.newKey
	}
	if !keysChanged {
		for _, c := range changes {
			if err := d.Set(c.k, c.val); err != nil {
				return err
			}
		}
		return nil
	}
	items := d.Items()
	for _, c := range changes {
		items[c.i] = DictItem{Key: c.k, Value: c.val}
	}
	d.Clear()
	for _, it := range items {
		if err := d.Set(it.Key, it.Value); err != nil {
			return err
		}
	}
	return nil
}

// replaced reports whether walking old gave a different value n. Only an
// *Object is ever replaced, and a FrozenSet may be rebuilt; everything else
// is updated in place. (Interfaces are not compared directly: a Tuple is not
// comparable.)
func replaced(old, n any) bool {
	switch o := old.(type) {
	case *Object:
		no, ok := n.(*Object)
		return !ok || no != o
	case FrozenSet:
		return true
	}
	return false
}

// NewInstance returns the *Object that CPython pickles for a plain instance
// of class whose attributes (__dict__) are the fields of attrs: NEWOBJ of the
// class with no arguments, then BUILD with the attribute dict. It is the
// encoding counterpart of [Registry.Register] for a struct type, meant for
// MarshalPickle methods:
//
//	func (p Point) MarshalPickle() (any, error) {
//		return pickle.NewInstance(pickle.Global{Module: "geometry", Name: "Point"}, p)
//	}
//
// attrs is a struct (its fields become the dict as [Marshal] writes them; its
// own MarshalPickle is not called, so the method above does not recurse), a
// pointer to one, a map with string keys, or a *Dict.
func NewInstance(class Global, attrs any) (*Object, error) {
	var state *Dict
	switch a := attrs.(type) {
	case *Dict:
		state = a
	default:
		rv := reflect.ValueOf(attrs)
		for rv.Kind() == reflect.Pointer && !rv.IsNil() {
			rv = rv.Elem()
		}
		var s marshalState
		var v any
		var err error
		switch rv.Kind() {
		case reflect.Struct:
			v, err = s.convertStruct(rv, 0)
		case reflect.Map:
			v, err = s.convertMap(rv, 0)
		default:
			return nil, fmt.Errorf("pickle: NewInstance: attrs must be a struct, a map or a *Dict, not %T", attrs)
		}
		if err != nil {
			return nil, err
		}
		d, ok := v.(*Dict)
		if !ok {
			d = NewDict()
		}
		state = d
	}
	return &Object{Class: class, Kind: BuildNewObj, Args: Tuple{}, State: state}, nil
}
