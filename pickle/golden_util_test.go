package pickle

import (
	"math"
	"math/big"
	"testing"
	"unsafe"

	"github.com/mpgo/mpgo/internal/golden"
)

type goldenEntry = golden.Entry

// loadGolden reads every pickle under testdata/golden (written by
// python_fixtures/gen_pickle_corpus.py with each CPython version).
func loadGolden(t testing.TB) []goldenEntry { return golden.Load(t, "testdata/golden") }

// sameValue compares two value-model values structurally, including which
// parts are shared: *List, *Dict, *Set and *Object must map one to one.
func sameValue(a, b any) bool {
	s := sameState{ab: map[any]any{}, ba: map[any]any{}}
	return s.same(a, b, 0)
}

// sameValuePy2Names is sameValue with globals compared after the lossy
// Python 3 -> Python 2 -> Python 3 name mapping of protocols 0 to 2
// (FileNotFoundError becomes OSError, as in CPython).
func sameValuePy2Names(a, b any) bool {
	s := sameState{ab: map[any]any{}, ba: map[any]any{}, py2: true}
	return s.same(a, b, 0)
}

type sameState struct {
	ab, ba map[any]any
	py2    bool
	tuples map[[2]memoKey]bool
}

func (s *sameState) global(a, b Global) bool {
	if s.py2 {
		a2 := toPy2Name(a)
		m, n := toPy3Name(a2.Module, a2.Name)
		a = Global{m, n}
		b2 := toPy2Name(b)
		m, n = toPy3Name(b2.Module, b2.Name)
		b = Global{m, n}
	}
	return a == b
}

func (s *sameState) ident(a, b any) (done, ok bool) {
	if x, seen := s.ab[a]; seen {
		return true, x == b && s.ba[b] == a
	}
	if _, seen := s.ba[b]; seen {
		return true, false
	}
	s.ab[a], s.ba[b] = b, a
	return false, true
}

func (s *sameState) items(a, b []any, depth int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !s.same(a[i], b[i], depth+1) {
			return false
		}
	}
	return true
}

func (s *sameState) same(a, b any, depth int) bool {
	if depth > 20000 {
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y) || ok && math.IsNaN(x) && math.IsNaN(y)
	case complex128:
		y, ok := b.(complex128)
		return ok && s.same(real(x), real(y), depth) && s.same(imag(x), imag(y), depth)
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case ByteArray:
		y, ok := b.(ByteArray)
		return ok && string(x) == string(y)
	case Tuple:
		y, ok := b.(Tuple)
		if !ok {
			return false
		}
		if len(x) > 0 && len(y) > 0 {
			// tuples shared many times (a DAG) are compared once
			k := [2]memoKey{{unsafe.Pointer(unsafe.SliceData(x)), len(x)}, {unsafe.Pointer(unsafe.SliceData(y)), len(y)}}
			if s.tuples[k] {
				return true
			}
			if s.tuples == nil {
				s.tuples = map[[2]memoKey]bool{}
			}
			s.tuples[k] = true
		}
		return s.items(x, y, depth)
	case *List:
		y, ok := b.(*List)
		if !ok {
			return false
		}
		if done, ok := s.ident(x, y); done {
			return ok
		}
		return s.items(x.Items, y.Items, depth)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok {
			return false
		}
		if done, ok := s.ident(x, y); done {
			return ok
		}
		xi, yi := x.Items(), y.Items()
		if len(xi) != len(yi) {
			return false
		}
		for i := range xi {
			if !s.same(xi[i].Key, yi[i].Key, depth+1) || !s.same(xi[i].Value, yi[i].Value, depth+1) {
				return false
			}
		}
		return true
	case *Set:
		y, ok := b.(*Set)
		if !ok {
			return false
		}
		if done, ok := s.ident(x, y); done {
			return ok
		}
		return s.items(x.Items(), y.Items(), depth)
	case FrozenSet:
		y, ok := b.(FrozenSet)
		return ok && s.items(x.Items(), y.Items(), depth)
	case *Object:
		y, ok := b.(*Object)
		if !ok {
			return false
		}
		if done, ok := s.ident(x, y); done {
			return ok
		}
		if !s.global(x.Class, y.Class) || x.Kind != y.Kind || (x.Kwargs == nil) != (y.Kwargs == nil) ||
			len(x.DictItems) != len(y.DictItems) {
			return false
		}
		if !s.items(x.Args, y.Args, depth) || !s.same(x.State, y.State, depth+1) ||
			!s.items(x.ListItems, y.ListItems, depth) || !s.same(x.Callable, y.Callable, depth+1) {
			return false
		}
		if x.Kwargs != nil && !s.same(x.Kwargs, y.Kwargs, depth+1) {
			return false
		}
		for i := range x.DictItems {
			if !s.same(x.DictItems[i].Key, y.DictItems[i].Key, depth+1) || !s.same(x.DictItems[i].Value, y.DictItems[i].Value, depth+1) {
				return false
			}
		}
		return true
	case Global:
		y, ok := b.(Global)
		return ok && s.global(x, y)
	case Py2String:
		// protocols 3+ have no Python 2 str: it becomes a str
		switch y := b.(type) {
		case Py2String:
			return x == y
		case string:
			return py2Text(x) == y
		}
		return false
	}
	return a == b
}
