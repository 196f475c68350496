package managers

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// Dict is a shared Python dict (SyncManager typeid "dict"): the DictProxy API (item access,
// get, setdefault, pop, popitem, update, keys/values/items as lists, copy, clear, iteration
// through the "Iterator" typeid), the 3.14 additions (|, |=, reversed, fromkeys), Python 2's
// has_key, and == / !=. Keys follow Python's equality and hashing ([pickle.Dict]). It is safe for
// concurrent use.
type Dict struct {
	mu sync.Mutex
	d  *pickle.Dict
}

// NewDict returns an empty shared dict.
func NewDict() *Dict { return &Dict{d: pickle.NewDict()} }

func newDictFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	if len(args) > 1 {
		return nil, typeErrorf("dict expected at most 1 argument, got %d", len(args))
	}
	d := NewDict()
	if err := d.update(args, kwargs, "dict"); err != nil {
		return nil, err
	}
	return d, nil
}

// dictMethods are the names Dict.CallMethod answers (the exposed list of the "dict" typeid;
// like CPython, the create reply lists __iter__ twice: here and from method_to_typeid).
var dictMethods = []string{
	// CPython 3.13, in its order
	"__contains__", "__delitem__", "__getitem__", "__iter__", "__len__", "__setitem__", "clear",
	"copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values",
	// 3.14
	"__or__", "__ror__", "__ior__", "fromkeys", "__reversed__",
	// 2.7
	"has_key",
	// comparisons
	"__eq__", "__ne__",
}

// ExposedMethods implements [Exposer].
func (d *Dict) ExposedMethods() []string { return slices.Clone(dictMethods) }

// GetValue implements [ValueGetter]: a copy of the dict.
func (d *Dict) GetValue() (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.d.Copy(), nil
}

// PyRepr implements [Reprer].
func (d *Dict) PyRepr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return pickle.Repr(d.d)
}

// Get returns the value for key.
func (d *Dict) Get(key any) (any, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.d.Get(key)
}

// Set sets key to value; an unhashable key is a *pickle.TypeError.
func (d *Dict) Set(key, value any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.d.Set(key, value)
}

// Len returns the number of items.
func (d *Dict) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.d.Len()
}

// Items returns a copy of the items in insertion order.
func (d *Dict) Items() []pickle.DictItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.d.Items()
}

// CallMethod implements [Object].
func (d *Dict) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "update":
		if len(args) > 1 {
			return nil, typeErrorf("update expected at most 1 argument, got %d", len(args))
		}
		args = snapshotArgs(args, d, 0)
		d.mu.Lock()
		defer d.mu.Unlock()
		return nil, d.update(args, kwargs, "update")
	case "fromkeys":
		if err := posArgs(name, args, kwargs, 1, 2); err != nil {
			return nil, err
		}
		keys, err := iterValues(args[0])
		if err != nil {
			return nil, err
		}
		var value any
		if len(args) > 1 {
			value = args[1]
		}
		out := pickle.NewDict()
		for _, k := range keys {
			if err := out.Set(k, value); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if kwargs != nil && kwargs.Len() > 0 {
		return nil, typeErrorf("%s() takes no keyword arguments", name)
	}
	switch name {
	case "__or__", "__ror__", "__ior__":
		args = snapshotArgs(args, d, 0)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch name {
	case "__len__":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		return int64(d.d.Len()), nil
	case "__getitem__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		v, ok, err := d.d.Lookup(args[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, pyErr("KeyError", args[0])
		}
		return v, nil
	case "__setitem__":
		if err := posArgs(name, args, nil, 2, 2); err != nil {
			return nil, err
		}
		return nil, d.d.Set(args[0], args[1])
	case "__delitem__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		_, ok, err := d.d.Pop(args[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, pyErr("KeyError", args[0])
		}
		return nil, nil
	case "__contains__", "has_key":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		_, ok, err := d.d.Lookup(args[0])
		return ok, err
	case "__iter__":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		return d.iter(), nil
	case "__reversed__":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		// A dict_reversekeyiterator pickles as iter(list of the remaining keys).
		keys := d.d.Keys()
		slices.Reverse(keys)
		return &pickle.Object{Class: pickle.Global{Module: "builtins", Name: "iter"}, Kind: pickle.BuildReduce,
			Args: pickle.Tuple{pickle.NewList(keys...)}}, nil
	case "clear":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		d.d.Clear()
		return nil, nil
	case "copy":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		return d.d.Copy(), nil
	case "keys", "values", "items":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		switch name {
		case "keys":
			return pickle.NewList(d.d.Keys()...), nil
		case "values":
			return pickle.NewList(d.d.Values()...), nil
		}
		items := d.d.Items()
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = pickle.Tuple{it.Key, it.Value}
		}
		return pickle.NewList(out...), nil
	case "get":
		if err := posArgs(name, args, nil, 1, 2); err != nil {
			return nil, err
		}
		v, ok, err := d.d.Lookup(args[0])
		if err != nil {
			return nil, err
		}
		if !ok && len(args) > 1 {
			return args[1], nil
		}
		return v, nil
	case "setdefault":
		if err := posArgs(name, args, nil, 1, 2); err != nil {
			return nil, err
		}
		v, ok, err := d.d.Lookup(args[0])
		if err != nil {
			return nil, err
		}
		if ok {
			return v, nil
		}
		var def any
		if len(args) > 1 {
			def = args[1]
		}
		return def, d.d.Set(args[0], def)
	case "pop":
		if err := posArgs(name, args, nil, 1, 2); err != nil {
			return nil, err
		}
		v, ok, err := d.d.Pop(args[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, pyErr("KeyError", args[0])
		}
		return v, nil
	case "popitem":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		it, ok := d.d.PopItem()
		if !ok {
			return nil, pyErr("KeyError", "popitem(): dictionary is empty")
		}
		return pickle.Tuple{it.Key, it.Value}, nil
	case "__or__", "__ror__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		other, ok := dictOf(args[0], d)
		if !ok {
			return notImplemented, nil
		}
		var out *pickle.Dict
		var add []pickle.DictItem
		if name == "__or__" {
			out, add = d.d.Copy(), other
		} else {
			out = pickle.NewDict()
			for _, it := range other {
				if err := out.Set(it.Key, it.Value); err != nil {
					return nil, err
				}
			}
			add = d.d.Items()
		}
		for _, it := range add {
			if err := out.Set(it.Key, it.Value); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "__ior__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		if err := d.update(args, nil, "update"); err != nil {
			return nil, err
		}
		return d.d.Copy(), nil
	case "__eq__", "__ne__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		other, ok := args[0].(*pickle.Dict)
		if !ok {
			return notImplemented, nil
		}
		eq := pickle.Equal(d.d, other)
		return eq == (name == "__eq__"), nil
	}
	return nil, unknownMethod("dict", name)
}

// dictOf returns the items of a dict argument (a dict value or a live reference to a shared
// dict); self is d, whose lock the caller holds.
func dictOf(v any, self *Dict) ([]pickle.DictItem, bool) {
	switch x := v.(type) {
	case *pickle.Dict:
		return x.Items(), true
	case *Ref:
		if o, ok := x.Object().(*Dict); ok {
			if o == self {
				return self.d.Items(), true
			}
			return o.Items(), true
		}
	}
	return nil, false
}

// update is dict.update(other=(), **kwargs) with the caller holding d.mu (or d unshared).
func (d *Dict) update(args pickle.Tuple, kwargs *pickle.Dict, fname string) error {
	if len(args) == 1 {
		if items, ok := dictOf(args[0], d); ok {
			for _, it := range items {
				if err := d.d.Set(it.Key, it.Value); err != nil {
					return err
				}
			}
		} else {
			seq, err := iterValues(args[0])
			if err != nil {
				return err
			}
			for i, el := range seq {
				pair, err := iterValues(el)
				if err != nil {
					return typeErrorf("cannot convert dictionary update sequence element #%d to a sequence", i)
				}
				if len(pair) != 2 {
					return pyErr("ValueError", fmt.Sprintf("dictionary update sequence element #%d has length %d; 2 is required", i, len(pair)))
				}
				if err := d.d.Set(pair[0], pair[1]); err != nil {
					return err
				}
			}
		}
	}
	if kwargs != nil {
		for _, it := range kwargs.Items() {
			if err := d.d.Set(it.Key, it.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// iter returns an iterator over the keys, failing like CPython's dict_keyiterator when the dict
// changes size (or keys) meanwhile. The caller holds d.mu.
func (d *Dict) iter() *Iterator {
	keys := d.d.Keys()
	size := len(keys)
	i := 0
	broken := false
	return NewIterator("dict_keyiterator", func() (any, bool, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if broken || d.d.Len() != size {
			broken = true
			return nil, false, pyErr("RuntimeError", "dictionary changed size during iteration")
		}
		if i >= len(keys) {
			return nil, false, nil
		}
		k := keys[i]
		i++
		if _, ok := d.d.Get(k); !ok {
			broken = true
			return nil, false, pyErr("RuntimeError", "dictionary keys changed during iteration")
		}
		return k, true, nil
	})
}
