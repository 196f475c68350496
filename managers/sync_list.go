package managers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// List is a shared Python list (SyncManager typeid "list"): the whole list API the ListProxy
// sends (indexing and slices with steps, slice assignment and deletion, +, *, +=, *=, append,
// extend, insert, pop, remove, index, count, reverse, sort(reverse=...), the 3.14 clear and copy,
// and Python 2's __getslice__, __setslice__ and __delslice__), plus the comparisons. Items compare
// and order with [pickle.Equal] and [pickle.Compare]. sort(key=...) needs a Python function and
// fails with NotImplementedError. It is safe for concurrent use.
type List struct {
	mu    sync.Mutex
	items []any
}

// NewList returns a shared list holding a copy of items.
func NewList(items ...any) *List { return &List{items: slices.Clone(items)} }

func newListFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	if kwargs != nil && kwargs.Len() > 0 {
		return nil, typeErrorf("list() takes no keyword arguments")
	}
	if len(args) > 1 {
		return nil, typeErrorf("list expected at most 1 argument, got %d", len(args))
	}
	if len(args) == 0 {
		return NewList(), nil
	}
	items, err := iterValues(args[0])
	if err != nil {
		return nil, err
	}
	return &List{items: items}, nil
}

// snapshot returns a copy of the items.
func (l *List) snapshot() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// GetValue implements [ValueGetter]: a copy of the list.
func (l *List) GetValue() (any, error) { return pickle.NewList(l.snapshot()...), nil }

// PyRepr implements [Reprer].
func (l *List) PyRepr() string { return pickle.Repr(pickle.NewList(l.snapshot()...)) }

// Len returns the number of items.
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

// Append appends x.
func (l *List) Append(x any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, x)
}

// Items returns a copy of the items.
func (l *List) Items() []any { return l.snapshot() }

// listMethods are the names List.CallMethod answers (the exposed list of the "list" typeid).
var listMethods = []string{
	// CPython 3.13, in its order
	"__add__", "__contains__", "__delitem__", "__getitem__", "__len__", "__mul__", "__reversed__",
	"__rmul__", "__setitem__", "append", "count", "extend", "index", "insert", "pop", "remove",
	"reverse", "sort", "__imul__",
	// 3.14
	"clear", "copy",
	// 2.7
	"__delslice__", "__getslice__", "__setslice__",
	// comparisons and +=
	"__iadd__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
}

// ExposedMethods implements [Exposer].
func (l *List) ExposedMethods() []string { return slices.Clone(listMethods) }

// CallMethod implements [Object].
func (l *List) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	if name == "sort" {
		return l.sort(args, kwargs)
	}
	if kwargs != nil && kwargs.Len() > 0 {
		return nil, typeErrorf("%s() takes no keyword arguments", name)
	}
	switch name {
	case "extend", "__iadd__":
		args = snapshotArgs(args, l, 0)
	case "__setitem__":
		if len(args) == 2 {
			if _, ok := asSlice(args[0]); ok {
				args = snapshotArgs(args, l, 1)
			}
		}
	case "__setslice__":
		args = snapshotArgs(args, l, 2)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch name {
	case "__len__":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		return int64(len(l.items)), nil
	case "__getitem__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		return l.getitem(args[0])
	case "__setitem__":
		if err := posArgs(name, args, nil, 2, 2); err != nil {
			return nil, err
		}
		return nil, l.setitem(args[0], args[1])
	case "__delitem__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		return nil, l.delitem(args[0])
	case "__contains__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		for _, x := range l.items {
			if pickle.Equal(x, args[0]) {
				return true, nil
			}
		}
		return false, nil
	case "__add__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		other, ok := args[0].(*pickle.List)
		if !ok {
			return nil, typeErrorf("can only concatenate list (not \"%s\") to list", pickle.TypeName(args[0]))
		}
		out := make([]any, 0, len(l.items)+len(other.Items))
		return pickle.NewList(append(append(out, l.items...), other.Items...)...), nil
	case "__mul__", "__rmul__", "__imul__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		items, err := repeat(l.items, args[0])
		if err != nil {
			return nil, err
		}
		if name == "__imul__" {
			l.items = items
			return pickle.NewList(slices.Clone(items)...), nil
		}
		return pickle.NewList(items...), nil
	case "__iadd__", "extend":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		items, err := iterValuesSelf(args[0], l)
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, items...)
		if name == "__iadd__" {
			return pickle.NewList(slices.Clone(l.items)...), nil
		}
		return nil, nil
	case "__reversed__":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		// A list_reverseiterator pickles as reversed(list) (its state, the start index, is
		// the default for a fresh iterator); Python 2 can unpickle this form too.
		return &pickle.Object{Class: pickle.Global{Module: "builtins", Name: "reversed"}, Kind: pickle.BuildReduce,
			Args: pickle.Tuple{pickle.NewList(slices.Clone(l.items)...)}}, nil
	case "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		other, ok := args[0].(*pickle.List)
		if !ok {
			return notImplemented, nil
		}
		return compareSeq(name, l.items, other.Items)
	case "append":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		l.items = append(l.items, args[0])
		return nil, nil
	case "insert":
		if err := posArgs(name, args, nil, 2, 2); err != nil {
			return nil, err
		}
		i, err := asIndex(args[0], "OverflowError")
		if err != nil {
			return nil, err
		}
		n := int64(len(l.items))
		if i < 0 {
			i += n
			if i < 0 {
				i = 0
			}
		}
		if i > n {
			i = n
		}
		l.items = slices.Insert(l.items, int(i), args[1])
		return nil, nil
	case "pop":
		if err := posArgs(name, args, nil, 0, 1); err != nil {
			return nil, err
		}
		i := int64(-1)
		if len(args) == 1 {
			var err error
			if i, err = asIndex(args[0], "IndexError"); err != nil {
				return nil, err
			}
		}
		if len(l.items) == 0 {
			return nil, pyErr("IndexError", "pop from empty list")
		}
		n := int64(len(l.items))
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, pyErr("IndexError", "pop index out of range")
		}
		x := l.items[i]
		l.items = slices.Delete(l.items, int(i), int(i)+1)
		return x, nil
	case "remove":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		for i, x := range l.items {
			if pickle.Equal(x, args[0]) {
				l.items = slices.Delete(l.items, i, i+1)
				return nil, nil
			}
		}
		return nil, pyErr("ValueError", "list.remove(x): x not in list")
	case "index":
		if err := posArgs(name, args, nil, 1, 3); err != nil {
			return nil, err
		}
		n := int64(len(l.items))
		start, stop := int64(0), n
		if len(args) > 1 {
			s, _, ok := asInt(args[1])
			if !ok {
				return nil, typeErrorf("slice indices must be integers or have an __index__ method")
			}
			start = s
		}
		if len(args) > 2 {
			s, _, ok := asInt(args[2])
			if !ok {
				return nil, typeErrorf("slice indices must be integers or have an __index__ method")
			}
			stop = s
		}
		start, stop = clampRange(start, stop, n)
		for i := start; i < stop && i < int64(len(l.items)); i++ {
			if pickle.Equal(l.items[i], args[0]) {
				return i, nil
			}
		}
		return nil, pyErr("ValueError", fmt.Sprintf("%s is not in list", pickle.Repr(args[0])))
	case "count":
		if err := posArgs(name, args, nil, 1, 1); err != nil {
			return nil, err
		}
		var c int64
		for _, x := range l.items {
			if pickle.Equal(x, args[0]) {
				c++
			}
		}
		return c, nil
	case "reverse", "clear", "copy":
		if err := posArgs(name, args, nil, 0, 0); err != nil {
			return nil, err
		}
		switch name {
		case "reverse":
			slices.Reverse(l.items)
		case "clear":
			l.items = nil
		case "copy":
			return pickle.NewList(slices.Clone(l.items)...), nil
		}
		return nil, nil
	case "__getslice__", "__setslice__", "__delslice__":
		want := 2
		if name == "__setslice__" {
			want = 3
		}
		if err := posArgs(name, args, nil, want, want); err != nil {
			return nil, err
		}
		i, _, ok1 := asInt(args[0])
		j, _, ok2 := asInt(args[1])
		if !ok1 || !ok2 {
			return nil, typeErrorf("an integer is required")
		}
		n := int64(len(l.items))
		if i < 0 {
			i = 0
		}
		if j < 0 {
			j = 0
		}
		i, j = min(i, n), min(j, n)
		if j < i {
			j = i
		}
		switch name {
		case "__getslice__":
			return pickle.NewList(slices.Clone(l.items[i:j])...), nil
		case "__delslice__":
			l.items = slices.Delete(l.items, int(i), int(j))
			return nil, nil
		}
		items, err := iterValuesSelf(args[2], l)
		if err != nil {
			return nil, typeErrorf("can only assign an iterable")
		}
		l.items = slices.Replace(l.items, int(i), int(j), items...)
		return nil, nil
	}
	return nil, unknownMethod("list", name)
}

// iterValuesSelf is iterValues, with a live reference to l itself read without re-locking.
func iterValuesSelf(v any, l *List) ([]any, error) {
	if r, ok := v.(*Ref); ok && r.Object() == Object(l) {
		return slices.Clone(l.items), nil
	}
	return iterValues(v)
}

// repeat is items * n with Python's rules.
func repeat(items []any, nv any) ([]any, error) {
	n, big, ok := asInt(nv)
	if !ok {
		// list.__mul__(x) called as a method (as the proxy does) converts x with __index__.
		return nil, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(nv))
	}
	if n <= 0 || len(items) == 0 {
		return []any{}, nil
	}
	if big {
		return nil, pyErr("OverflowError", "cannot fit 'int' into an index-sized integer")
	}
	if n > maxSeqLen/int64(len(items)) {
		return nil, pyErr("MemoryError")
	}
	out := make([]any, 0, int64(len(items))*n)
	for k := int64(0); k < n; k++ {
		out = append(out, items...)
	}
	return out, nil
}

// compareSeq implements the rich comparisons of two lists.
func compareSeq(op string, a, b []any) (any, error) {
	switch op {
	case "__eq__":
		return pickle.Equal(pickle.NewList(a...), pickle.NewList(b...)), nil
	case "__ne__":
		return !pickle.Equal(pickle.NewList(a...), pickle.NewList(b...)), nil
	}
	c, err := pickle.Compare(pickle.NewList(a...), pickle.NewList(b...))
	if err != nil {
		return nil, err
	}
	switch op {
	case "__lt__":
		return c < 0, nil
	case "__le__":
		return c <= 0, nil
	case "__gt__":
		return c > 0, nil
	}
	return c >= 0, nil
}

// listIndex normalises an integer index for a sequence of length n.
func listIndex(v any, n int, what string) (int, error) {
	i, big, ok := asInt(v)
	if !ok {
		return 0, nil
	}
	if big {
		return 0, pyErr("IndexError", "cannot fit 'int' into an index-sized integer")
	}
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, pyErr("IndexError", what)
	}
	return int(i), nil
}

func (l *List) getitem(key any) (any, error) {
	if s, ok := asSlice(key); ok {
		start, _, step, n, err := s.indices(int64(len(l.items)))
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, n)
		for k, i := int64(0), start; k < n; k, i = k+1, i+step {
			out = append(out, l.items[i])
		}
		return pickle.NewList(out...), nil
	}
	if _, _, ok := asInt(key); !ok {
		return nil, typeErrorf("list indices must be integers or slices, not %s", pickle.TypeName(key))
	}
	i, err := listIndex(key, len(l.items), "list index out of range")
	if err != nil {
		return nil, err
	}
	return l.items[i], nil
}

func (l *List) setitem(key, value any) error {
	if s, ok := asSlice(key); ok {
		start, stop, step, n, err := s.indices(int64(len(l.items)))
		if err != nil {
			return err
		}
		if step == 1 {
			items, err := iterValuesSelf(value, l)
			if err != nil {
				return typeErrorf("must assign iterable to extended slice")
			}
			if stop < start {
				stop = start
			}
			l.items = slices.Replace(l.items, int(start), int(stop), items...)
			return nil
		}
		items, err := iterValuesSelf(value, l)
		if err != nil {
			return typeErrorf("must assign iterable to extended slice")
		}
		if int64(len(items)) != n {
			return pyErr("ValueError", fmt.Sprintf("attempt to assign sequence of size %d to extended slice of size %d", len(items), n))
		}
		for k, i := int64(0), start; k < n; k, i = k+1, i+step {
			l.items[i] = items[k]
		}
		return nil
	}
	if _, _, ok := asInt(key); !ok {
		return typeErrorf("list indices must be integers or slices, not %s", pickle.TypeName(key))
	}
	i, err := listIndex(key, len(l.items), "list assignment index out of range")
	if err != nil {
		return err
	}
	l.items[i] = value
	return nil
}

func (l *List) delitem(key any) error {
	if s, ok := asSlice(key); ok {
		start, _, step, n, err := s.indices(int64(len(l.items)))
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		drop := make(map[int64]bool, n)
		for k, i := int64(0), start; k < n; k, i = k+1, i+step {
			drop[i] = true
		}
		out := l.items[:0:0]
		for i, x := range l.items {
			if !drop[int64(i)] {
				out = append(out, x)
			}
		}
		l.items = out
		return nil
	}
	if _, _, ok := asInt(key); !ok {
		return typeErrorf("list indices must be integers or slices, not %s", pickle.TypeName(key))
	}
	i, err := listIndex(key, len(l.items), "list assignment index out of range")
	if err != nil {
		return err
	}
	l.items = slices.Delete(l.items, i, i+1)
	return nil
}

// sort is list.sort(*, key=None, reverse=False) (Python 2: sort(cmp=None, key=None,
// reverse=False)).
func (l *List) sort(args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	v, err := bindArgs("sort", args, kwargs, kwo("key", nil), kwo("reverse", false), kwo("cmp", nil))
	if err != nil {
		return nil, err
	}
	if v[0] != nil || v[2] != nil {
		return nil, pyErr("NotImplementedError", "sort(key=...) needs Python code executed on the server: "+
			"mpgo is a Go server and cannot call a Python key function; sort without key= "+
			"(reverse= works) or sort a copy in the client")
	}
	if _, _, ok := asInt(v[1]); !ok {
		return nil, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(v[1]))
	}
	rev := truthy(v[1])
	l.mu.Lock()
	defer l.mu.Unlock()
	items := slices.Clone(l.items)
	if rev {
		slices.Reverse(items)
	}
	var cerr error
	sort.SliceStable(items, func(i, j int) bool {
		if cerr != nil {
			return false
		}
		var c int
		c, cerr = pickle.Compare(items[i], items[j])
		return c < 0
	})
	if cerr != nil {
		return nil, cerr
	}
	if rev {
		slices.Reverse(items)
	}
	l.items = items
	return nil, nil
}
