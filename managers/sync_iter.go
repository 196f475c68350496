package managers

import (
	"context"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// Iterator is a shared Python iterator (typeid "Iterator"): what a dict's __iter__ returns
// through method_to_typeid. __next__ (and Python 2's next) returns the next value and raises
// StopIteration at the end; send(value) advances like __next__ (the value is ignored: the
// iterators mpgo hosts are not generators); throw(exc) ends the iterator and raises exc in the
// caller; close() ends it. It is safe for concurrent use.
type Iterator struct {
	name string

	mu   sync.Mutex
	next func() (any, bool, error)
	done bool
}

// NewIterator returns an iterator whose values come from next: (value, true, nil) for a value,
// (nil, false, nil) at the end, or an error to raise (the iterator stays usable). typeName is
// the Python type name used in messages (e.g. "dict_keyiterator").
func NewIterator(typeName string, next func() (value any, ok bool, err error)) *Iterator {
	return &Iterator{name: typeName, next: next}
}

// NewSliceIterator returns an iterator over a copy of items.
func NewSliceIterator(items ...any) *Iterator {
	items = append([]any(nil), items...)
	i := 0
	return NewIterator("list_iterator", func() (any, bool, error) {
		if i >= len(items) {
			return nil, false, nil
		}
		i++
		return items[i-1], true, nil
	})
}

// iteratorMethods is the exposed list of the "Iterator" typeid (3.13's, plus Python 2's next).
var iteratorMethods = []string{"__next__", "send", "throw", "close", "next"}

// ExposedMethods implements [Exposer].
func (it *Iterator) ExposedMethods() []string { return append([]string(nil), iteratorMethods...) }

// Next returns the next value; ok is false at the end.
func (it *Iterator) Next() (value any, ok bool, err error) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.done {
		return nil, false, nil
	}
	v, ok, err := it.next()
	if err == nil && !ok {
		it.done = true
	}
	return v, ok, err
}

func stopIteration() *PyException { return pyErr("StopIteration") }

// CallMethod implements [Object].
func (it *Iterator) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "__next__", "next", "send":
		if name == "send" {
			if err := posArgs(name, args, kwargs, 1, 1); err != nil {
				return nil, err
			}
		} else if err := posArgs(name, args, kwargs, 0, 0); err != nil {
			return nil, err
		}
		v, ok, err := it.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, stopIteration()
		}
		return v, nil
	case "close":
		if err := posArgs(name, args, kwargs, 0, 0); err != nil {
			return nil, err
		}
		it.mu.Lock()
		it.done = true
		it.mu.Unlock()
		return nil, nil
	case "throw":
		if err := posArgs(name, args, kwargs, 1, 3); err != nil {
			return nil, err
		}
		it.mu.Lock()
		it.done = true
		it.mu.Unlock()
		return nil, thrown(args)
	}
	return nil, unknownMethod(it.name, name)
}

// thrown converts the arguments of generator.throw(typ[, val[, tb]]) into the exception to raise.
func thrown(args pickle.Tuple) error {
	var exc *PyException
	switch x := args[0].(type) {
	case pickle.Global:
		exc = NewPyException(x.Module, x.Name)
		if len(args) > 1 && args[1] != nil {
			if t, ok := args[1].(pickle.Tuple); ok {
				exc.Args = t
			} else if e, ok := PyExceptionFromValue(args[1]); ok {
				exc = e
			} else {
				exc.Args = pickle.Tuple{args[1]}
			}
		}
	case *pickle.Object:
		exc, _ = PyExceptionFromValue(x)
	default:
		return typeErrorf("exceptions must be classes or instances deriving from BaseException, not %s", pickle.TypeName(args[0]))
	}
	return exc
}

// PyRepr implements [Reprer].
func (it *Iterator) PyRepr() string { return "<" + it.name + " object>" }
