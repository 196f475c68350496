package managers

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// Type describes a registered typeid, like the arguments of Python's
// BaseManager.register(typeid, callable, proxytype, exposed, method_to_typeid).
type Type struct {
	// New creates the object for a 'create' request (args and kwargs come from the Python call
	// manager.typeid(*args, **kwargs); kwargs is never nil). It runs with the requesting
	// connection's context. A nil New is Python's callable=None: 'create' then needs exactly
	// one positional argument and no keywords and registers that argument as is; it must be an
	// [Object] (this is how results of MethodToTypeID methods are registered).
	New func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error)

	// Exposed lists the method names clients may call. nil: the object's own list
	// ([Exposer]), else none (only the '#GETVALUE', '__str__' and '__repr__' fallbacks work).
	Exposed []string

	// MethodToTypeID maps method names to typeids: the result of such a method is registered
	// as a new object of that typeid and returned as a proxy ('#PROXY'), e.g.
	// {"__iter__": "Iterator"}. Its keys are appended to the exposed names, as CPython does.
	MethodToTypeID map[string]string

	held      bool   // Singleton: the server holds the object itself (see Server.ReclaimAfter)
	singleton Object // Singleton's object (Server.Snapshot shows a singleton queue before its first create)
}

// Registry maps typeids to [Type]s. It is safe for concurrent use; a [Server] reads it on every
// 'create', so types may be registered while the server runs.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*typeInfo
}

type typeInfo struct {
	typeid string
	Type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*typeInfo{}} }

// Register adds typeid. It fails on an empty or duplicate typeid, empty method names, or a
// MethodToTypeID entry with an empty key or value.
func (r *Registry) Register(typeid string, t Type) error {
	if r == nil {
		return fmt.Errorf("managers: Register on a nil *Registry (use NewRegistry)")
	}
	if typeid == "" {
		return fmt.Errorf("managers: register: empty typeid")
	}
	if strings.ContainsAny(typeid, "\x00") {
		return fmt.Errorf("managers: register %q: typeid contains NUL", typeid)
	}
	for _, name := range t.Exposed {
		if name == "" {
			return fmt.Errorf("managers: register %q: empty name in Exposed", typeid)
		}
	}
	for m, tid := range t.MethodToTypeID {
		if m == "" || tid == "" {
			return fmt.Errorf("managers: register %q: MethodToTypeID entry %q -> %q: method and typeid must be non-empty", typeid, m, tid)
		}
	}
	if t.Exposed != nil { // keep nil (from the object) apart from empty (nothing exposed)
		t.Exposed = append(make([]string, 0, len(t.Exposed)), t.Exposed...)
	}
	if t.MethodToTypeID != nil {
		m := make(map[string]string, len(t.MethodToTypeID))
		for k, v := range t.MethodToTypeID {
			m[k] = v
		}
		t.MethodToTypeID = m
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.types == nil {
		r.types = map[string]*typeInfo{}
	}
	if _, dup := r.types[typeid]; dup {
		return fmt.Errorf("managers: register %q: typeid already registered", typeid)
	}
	r.types[typeid] = &typeInfo{typeid: typeid, Type: t}
	return nil
}

// MustRegister is like Register but panics on error; for package-level setup code.
func (r *Registry) MustRegister(typeid string, t Type) {
	if err := r.Register(typeid, t); err != nil {
		panic(err)
	}
}

// Lookup returns the Type registered as typeid.
func (r *Registry) Lookup(typeid string) (Type, bool) {
	ti := r.lookup(typeid)
	if ti == nil {
		return Type{}, false
	}
	return ti.Type, true
}

func (r *Registry) lookup(typeid string) *typeInfo {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.types[typeid]
}

// TypeIDs returns the registered typeids, sorted.
func (r *Registry) TypeIDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.types))
	for k := range r.types {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Singleton returns a Type whose every 'create' returns obj (with the same ident, so its
// refcount grows with each create): the documented
// register('get_queue', callable=lambda: queue) pattern. Exposed comes from obj ([Exposer]).
//
// The server holds obj itself, so [Server.ReclaimAfter] never forgets its entry: releasing it
// resets only its refcount (to 0, untracked), it keeps its ident, and proxies to it keep working.
func Singleton(obj Object) Type {
	return Type{New: func(context.Context, pickle.Tuple, *pickle.Dict) (Object, error) { return obj, nil }, held: true, singleton: obj}
}

// singletonQueues returns the typeids registered with Singleton whose object is a queue.
func (r *Registry) singletonQueues() map[string]queueLen {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var m map[string]queueLen
	for id, t := range r.types {
		// Only pointers: Snapshot compares them with the table's objects.
		if q, ok := t.singleton.(queueLen); ok && reflect.TypeOf(q).Kind() == reflect.Pointer {
			if m == nil {
				m = map[string]queueLen{}
			}
			m[id] = q
		}
	}
	return m
}
