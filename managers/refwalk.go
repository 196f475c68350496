package managers

import (
	"unsafe"

	"github.com/mpgo/mpgo/pickle"
)

// maxWalkDepth bounds the recursion of the reference walkers (decoded values are already bounded
// by the pickle decoder; Go results may be anything).
const maxWalkDepth = 1000

// refWalker replaces values inside a value-model tree, copying only the containers on the path
// to a replaced value (so shared objects are never modified) and keeping the identity of shared
// or recursive containers. Every container is walked once, however many times it is referenced:
// a pickle of a few hundred bytes can hold a tuple DAG with 2^64 paths.
type refWalker struct {
	replace func(v any) (any, bool) // returns the replacement of a leaf and whether to replace
	memo    map[any]any             // original pointer -> result
	err     error
}

// walk returns v with replacements, and whether anything changed.
func (w *refWalker) walk(v any, depth int) (any, bool) {
	if r, ok := w.replace(v); ok {
		return r, true
	}
	if depth > maxWalkDepth {
		return v, false
	}
	switch t := v.(type) {
	case pickle.Tuple:
		return w.walkShared(v, t, depth, func(items []any) any { return pickle.Tuple(items) })
	case []any:
		return w.walkShared(v, t, depth, func(items []any) any { return items })
	case *pickle.List:
		if t == nil {
			return v, false
		}
		if r, ok := w.memo[t]; ok {
			return r, r != any(t)
		}
		w.memo[t] = t // provisional (a cycle back to t keeps t)
		items, changed := w.walkSlice(t.Items, depth)
		if !changed {
			return v, false
		}
		nl := &pickle.List{Items: items}
		w.memo[t] = nl
		return nl, true
	case *pickle.Dict:
		if t == nil {
			return v, false
		}
		if r, ok := w.memo[t]; ok {
			return r, r != any(t)
		}
		w.memo[t] = t
		items := t.Items()
		changed := false
		for i := range items {
			if nv, ch := w.walk(items[i].Value, depth+1); ch {
				items[i].Value, changed = nv, true
			}
		}
		if !changed {
			return v, false
		}
		nd := pickle.NewDict()
		for _, it := range items {
			_ = nd.Set(it.Key, it.Value)
		}
		w.memo[t] = nd
		return nd, true
	case map[string]any:
		changed := false
		var nm map[string]any
		for k, x := range t {
			if nv, ch := w.walk(x, depth+1); ch {
				if nm == nil {
					nm = make(map[string]any, len(t))
					for k2, x2 := range t {
						nm[k2] = x2
					}
				}
				nm[k], changed = nv, true
			}
		}
		if !changed {
			return v, false
		}
		return nm, true
	case *pickle.Object:
		if t == nil {
			return v, false
		}
		if r, ok := w.memo[t]; ok {
			return r, r != any(t)
		}
		w.memo[t] = t
		args, c1 := w.walkSlice(t.Args, depth)
		state, c2 := w.walk(t.State, depth+1)
		litems, c3 := w.walkSlice(t.ListItems, depth)
		var ditems []pickle.DictItem
		c4 := false
		for i, it := range t.DictItems {
			if nv, ch := w.walk(it.Value, depth+1); ch {
				if ditems == nil {
					ditems = append([]pickle.DictItem(nil), t.DictItems...)
				}
				ditems[i].Value, c4 = nv, true
			}
		}
		if !(c1 || c2 || c3 || c4) {
			return v, false
		}
		no := *t
		if c1 {
			no.Args = args
		}
		if c2 {
			no.State = state
		}
		if c3 {
			no.ListItems = litems
		}
		if c4 {
			no.DictItems = ditems
		}
		w.memo[t] = &no
		return &no, true
	}
	return v, false
}

// sliceKey identifies a tuple or []any (slices are not comparable): the same backing array
// and length is the same container, shared through the pickle memo.
type sliceKey struct {
	data  unsafe.Pointer
	n     int
	tuple bool
}

// walkShared walks the items of a tuple or []any once per container: a container met again
// gets the result of its first walk.
func (w *refWalker) walkShared(v any, items []any, depth int, wrap func([]any) any) (any, bool) {
	if len(items) == 0 {
		return v, false
	}
	_, tuple := v.(pickle.Tuple)
	k := sliceKey{unsafe.Pointer(unsafe.SliceData(items)), len(items), tuple}
	if r, ok := w.memo[k]; ok {
		if r == nil {
			return v, false
		}
		return r, true
	}
	out, changed := w.walkSlice(items, depth)
	if !changed {
		w.memo[k] = nil
		return v, false
	}
	r := wrap(out)
	w.memo[k] = r
	return r, true
}

func (w *refWalker) walkSlice(items []any, depth int) ([]any, bool) {
	var out []any
	for i, x := range items {
		if nv, ch := w.walk(x, depth+1); ch {
			if out == nil {
				out = append([]any(nil), items...)
			}
			out[i] = nv
		}
	}
	if out == nil {
		return items, false
	}
	return out, true
}

// resolveRefs replaces every RebuildProxy in args whose ident is one of the server's objects
// by a live *Ref, and records the use of those objects by u.
func (s *Server) resolveRefs(args pickle.Tuple, kwargs *pickle.Dict, u *user) (pickle.Tuple, *pickle.Dict) {
	if allScalar(args) && (kwargs == nil || kwargs.Len() == 0) {
		return args, kwargs // the common case: nothing to resolve, nothing to allocate
	}
	w := &refWalker{memo: map[any]any{}}
	w.replace = func(v any) (any, bool) {
		o, ok := v.(*pickle.Object)
		if !ok || o.Class.Name != "RebuildProxy" {
			return nil, false
		}
		rp, ok := RebuildProxyFromValue(o)
		if !ok {
			return nil, false
		}
		e := s.tab.lookup(rp.Token.ID, u)
		if e == nil {
			return nil, false // a foreign proxy: kept as the value it is
		}
		if r, ok := w.memo[o]; ok {
			return r, true
		}
		r := s.tab.newRef(e, *rp)
		w.memo[o] = r
		return r, true
	}
	na, _ := w.walk(args, 0)
	nk := kwargs
	if kwargs != nil && kwargs.Len() > 0 {
		if v, ch := w.walk(kwargs, 0); ch {
			nk = v.(*pickle.Dict)
		}
	}
	return na.(pickle.Tuple), nk
}

// rewriteRefs replaces every *Ref in a reply value by what this connection's client can use:
// the proxy with the address the client reached us at (Python 3) or the referent's value (Python 2,
// xmlrpclib).
func (c *serverConn) rewriteRefs(v any) (any, error) {
	if scalar(v) {
		return v, nil
	}
	w := &refWalker{memo: map[any]any{}}
	w.replace = func(x any) (any, bool) {
		r, ok := x.(*Ref)
		if !ok {
			return nil, false
		}
		if c.srv.tab.reclaim { // the client receives a proxy of r's object
			c.srv.tab.mu.Lock()
			c.srv.tab.use(r.e, &c.uses)
			c.srv.tab.mu.Unlock()
		}
		if c.dialect.python2 || c.dialect.xmlrpc {
			val, err := r.GetValue()
			if err != nil {
				if w.err == nil {
					w.err = err
				}
				return nil, true
			}
			return val, true
		}
		rp := r.proxy
		rp.Token.Address = c.addr
		if rp.Token.Address == nil {
			rp.Token.Address = r.proxy.Token.Address
		}
		return rp, true
	}
	out, _ := w.walk(v, 0)
	return out, w.err
}

// scalar reports whether v is a value that cannot contain a proxy or a *Ref (no container, no
// object), so that walking it can be skipped.
func scalar(v any) bool {
	switch v.(type) {
	case nil, bool, int64, float64, string, []byte, complex128, pickle.Py2String, pickle.ByteArray:
		return true
	}
	return false
}

// allScalar reports whether every item of t is scalar.
func allScalar(t pickle.Tuple) bool {
	for _, v := range t {
		if !scalar(v) {
			return false
		}
	}
	return true
}
