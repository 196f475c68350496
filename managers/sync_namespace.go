package managers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// Namespace is a shared multiprocessing.managers.Namespace (typeid "Namespace"): attributes
// read, set and deleted through __getattribute__, __setattr__ and __delattr__. (Names starting
// with '_' stay local to the Python proxy and never reach the server.) Its repr lists the public
// attributes sorted: Namespace(a=1, b=2). It is safe for concurrent use.
type Namespace struct {
	mu    sync.Mutex
	attrs *pickle.Dict // str -> value, in assignment order
}

// NewNamespace returns an empty namespace.
func NewNamespace() *Namespace { return &Namespace{attrs: pickle.NewDict()} }

func newNamespaceFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	if len(args) > 0 {
		return nil, typeErrorf("Namespace.__init__() takes 1 positional argument but %d were given", len(args)+1)
	}
	ns := NewNamespace()
	if kwargs != nil {
		for _, it := range kwargs.Items() {
			k, _ := asStr(it.Key)
			_ = ns.attrs.Set(k, it.Value)
		}
	}
	return ns, nil
}

// Get returns attribute name.
func (n *Namespace) Get(name string) (any, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attrs.Get(name)
}

// Set sets attribute name.
func (n *Namespace) Set(name string, value any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	_ = n.attrs.Set(name, value)
}

func noAttr(name string) error {
	return pyErr("AttributeError", fmt.Sprintf("'Namespace' object has no attribute '%s'", name))
}

// CallMethod implements [Object].
func (n *Namespace) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	want := 1
	if name == "__setattr__" {
		want = 2
	}
	if err := posArgs(name, args, kwargs, want, want); err != nil {
		return nil, err
	}
	attr, ok := asStr(args[0])
	if !ok {
		return nil, typeErrorf("attribute name must be string, not '%s'", pickle.TypeName(args[0]))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch name {
	case "__getattribute__":
		if attr == "__dict__" {
			return n.attrs.Copy(), nil
		}
		v, ok := n.attrs.Get(attr)
		if !ok {
			return nil, noAttr(attr)
		}
		return v, nil
	case "__setattr__":
		return nil, n.attrs.Set(attr, args[1])
	case "__delattr__":
		if _, ok, _ := n.attrs.Pop(attr); !ok {
			return nil, noAttr(attr)
		}
		return nil, nil
	}
	return nil, unknownMethod("Namespace", name)
}

// GetValue implements [ValueGetter]: a multiprocessing.managers.Namespace instance, pickled as
// Python pickles it (NEWOBJ, then BUILD with its __dict__).
func (n *Namespace) GetValue() (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &pickle.Object{Class: pickle.Global{Module: "multiprocessing.managers", Name: "Namespace"},
		Kind: pickle.BuildNewObj, Args: pickle.Tuple{}, State: n.attrs.Copy()}, nil
}

// PyRepr implements [Reprer]: Namespace(a=1, b='x').
func (n *Namespace) PyRepr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var parts []string
	for _, it := range n.attrs.Items() {
		k, _ := asStr(it.Key)
		if strings.HasPrefix(k, "_") {
			continue
		}
		parts = append(parts, k+"="+pickle.Repr(it.Value))
	}
	sort.Strings(parts)
	return "Namespace(" + strings.Join(parts, ", ") + ")"
}

// Value is a shared multiprocessing.managers.Value (typeid "Value"): get() and set(value).
// Like CPython's (a plain holder whose typecode is only shown by repr), it does not check the
// value against the typecode: m.Value('i', 'text') works on every CPython version, so it works
// here. It is safe for concurrent use.
type Value struct {
	mu       sync.Mutex
	typecode any
	value    any
}

// NewValue returns a Value holding value, labelled typecode.
func NewValue(typecode, value any) *Value { return &Value{typecode: typecode, value: value} }

func newValueFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	v, err := bindArgs("Value.__init__", args, kwargs, req("typecode"), req("value"), opt("lock", true))
	if err != nil {
		return nil, err
	}
	return NewValue(v[0], v[1]), nil
}

// Get returns the value.
func (v *Value) Get() any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.value
}

// Set replaces the value.
func (v *Value) Set(x any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.value = x
}

// CallMethod implements [Object].
func (v *Value) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "get":
		if err := noArgs("get", args, kwargs); err != nil {
			return nil, err
		}
		return v.Get(), nil
	case "set":
		a, err := bindArgs("set", args, kwargs, req("value"))
		if err != nil {
			return nil, err
		}
		v.Set(a[0])
		return nil, nil
	case "__getattribute__":
		if len(args) == 1 {
			if s, _ := asStr(args[0]); s == "value" {
				return v.Get(), nil
			}
		}
	}
	return nil, unknownMethod("Value", name)
}

// GetValue implements [ValueGetter]: a multiprocessing.managers.Value instance as Python pickles
// it (NEWOBJ, then BUILD with {'_typecode': ..., '_value': ...}).
func (v *Value) GetValue() (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := pickle.NewDict()
	_ = st.Set("_typecode", v.typecode)
	_ = st.Set("_value", v.value)
	return &pickle.Object{Class: pickle.Global{Module: "multiprocessing.managers", Name: "Value"},
		Kind: pickle.BuildNewObj, Args: pickle.Tuple{}, State: st}, nil
}

// PyRepr implements [Reprer]: Value('i', 1).
func (v *Value) PyRepr() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return "Value(" + pickle.Repr(v.typecode) + ", " + pickle.Repr(v.value) + ")"
}
