package pickle

// Python semantics of *Object: value equality and hashing of instances of
// classes the package has no Go type for (see the Object type's comment).

var (
	tupleClass  = Global{Module: "builtins", Name: "tuple"}
	objectClass = Global{Module: "builtins", Name: "object"}
)

// tupleFields returns the items of an object the pickle shows to be a
// tuple: a namedtuple. At protocols 0 and 1 the pickle proves it
// (copyreg._reconstructor with the base class tuple); at protocol 2 and above
// a namedtuple is cls.__new__(cls, *fields) with no state, which is taken to
// be a tuple when there are at least two fields (one argument and no state
// is also how a str, int or float subclass pickles, and no argument how any
// instance with an empty __dict__ does).
func tupleFields(o *Object) (Tuple, bool) {
	if o == nil || o.Kwargs != nil || o.Callable != nil || len(o.ListItems) > 0 || len(o.DictItems) > 0 {
		return nil, false
	}
	switch o.Kind {
	case BuildNewObj:
		if len(o.Args) >= 2 && o.State == nil {
			return o.Args, true
		}
	case BuildReconstructor:
		if len(o.Args) == 2 && o.Args[0] == any(tupleClass) {
			if t, ok := o.Args[1].(Tuple); ok {
				return t, true
			}
		}
	}
	return nil, false
}

// tupleOf returns the items of a tuple or of a namedtuple object.
func tupleOf(v any) (Tuple, bool) {
	switch x := v.(type) {
	case Tuple:
		return x, true
	case *Object:
		return tupleFields(x)
	}
	return nil, false
}

// objectForm returns how o was built, with the forms a pickle round trip
// of one value can take at different protocols made the same: an instance
// created with no arguments (NEWOBJ with no arguments, or
// copyreg._reconstructor(cls, object, None) at protocols 0 and 1), and
// NEWOBJ_EX without keyword arguments, are NEWOBJ.
func objectForm(o *Object) (BuildKind, Tuple) {
	switch o.Kind {
	case BuildReconstructor:
		if len(o.Args) == 2 && o.Args[0] == any(objectClass) && o.Args[1] == nil {
			return BuildNewObj, nil
		}
	case BuildNewObjEx:
		if o.Kwargs == nil || o.Kwargs.Len() == 0 {
			return BuildNewObj, o.Args
		}
	}
	return o.Kind, o.Args
}

// objectKwargs returns o's keyword arguments, nil when there are none.
func objectKwargs(o *Object) *Dict {
	if o.Kwargs == nil || o.Kwargs.Len() == 0 {
		return nil
	}
	return o.Kwargs
}

// objectState returns o's state, nil for an empty dict (Python 2 pickles
// an instance with an empty __dict__ with one, Python 3 with none).
func objectState(o *Object) any {
	if d, ok := o.State.(*Dict); ok && d != nil && d.Len() == 0 {
		return nil
	}
	return o.State
}

// objectsEqual compares two objects that are not namedtuples: the same
// class, built the same way from equal arguments, with equal state and
// equal list and dict items (in order).
func objectsEqual(x, y *Object, depth int, w *walk) bool {
	if x == nil || y == nil || x.Class != y.Class {
		return false
	}
	if _, ok := tupleFields(y); ok {
		return false
	}
	kx, ax := objectForm(x)
	ky, ay := objectForm(y)
	if kx != ky || !itemsEqual(ax, ay, depth, w) {
		return false
	}
	if (x.Callable == nil) != (y.Callable == nil) || x.Callable != nil && !equal(x.Callable, y.Callable, depth+1, w) {
		return false
	}
	wx, wy := objectKwargs(x), objectKwargs(y)
	if (wx == nil) != (wy == nil) || wx != nil && !dictEqual(wx, wy, depth+1, w) {
		return false
	}
	if sx, sy := objectState(x), objectState(y); !isIdentical(sx, sy) && !equal(sx, sy, depth+1, w) {
		return false
	}
	if !itemsEqual(x.ListItems, y.ListItems, depth, w) || len(x.DictItems) != len(y.DictItems) {
		return false
	}
	for i := range x.DictItems {
		a, b := &x.DictItems[i], &y.DictItems[i]
		if !equal(a.Key, b.Key, depth+1, w) || !isIdentical(a.Value, b.Value) && !equal(a.Value, b.Value, depth+1, w) {
			return false
		}
	}
	return true
}

func hashGlobal(g Global) uint64 { return hashString(g.Module) ^ (hashString(g.Name) * 31) }

// hashObject hashes an object consistently with Equal: a namedtuple as the
// tuple of its fields (so it fails like the tuple when a field is
// unhashable), any other object from its class and contents, whatever they
// hold (Python would run the class's __hash__, which the server cannot).
func hashObject(o *Object, depth int, w *walk) (uint64, error) {
	if o == nil {
		return hashValue(nil, depth, w)
	}
	if f, ok := tupleFields(o); ok {
		return hashValue(f, depth, w)
	}
	return hashLoose(o, depth, w), nil
}

// maxLooseDepth bounds the nesting hashLoose looks into; deeper values
// do not change the hash.
const maxLooseDepth = 64

// mix64 is the SplitMix64 finalizer.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// hashLoose hashes any value, mutable containers included (by content),
// consistently with Equal; it is the hash of an object's contents. A
// container met again inside itself hashes to a constant.
func hashLoose(v any, depth int, w *walk) uint64 {
	if depth > maxLooseDepth {
		return 0x2545f4914f6cdd1d
	}
	k, isContainer := identKey(v)
	if isContainer {
		for _, o := range w.open {
			if o == k {
				return 0x9e3779b97f4a7c15
			}
		}
		w.steps++
		if w.steps > walkMemoAfter {
			if h, ok := w.loose[k]; ok {
				return h
			}
		}
		w.open = append(w.open, k)
		defer func() { w.open = w.open[:len(w.open)-1] }()
	}
	h := hashLooseContainer(v, depth, w)
	if isContainer && w.steps > walkMemoAfter {
		if w.loose == nil {
			w.loose = map[memoKey]uint64{}
		}
		w.loose[k] = h
	}
	return h
}

func hashLooseContainer(v any, depth int, w *walk) uint64 {
	switch x := v.(type) {
	case *Object:
		if x == nil {
			return hashLoose(nil, depth, w)
		}
		if f, ok := tupleFields(x); ok {
			return hashLooseItems(f, depth, w)
		}
		kind, args := objectForm(x)
		h := mix64(hashGlobal(x.Class) + uint64(kind))
		h = mix64(h ^ hashLooseItems(args, depth, w))
		if x.Callable != nil {
			h = mix64(h ^ hashLoose(x.Callable, depth+1, w))
		}
		if kw := objectKwargs(x); kw != nil {
			h = mix64(h ^ hashLooseTable(&kw.t, depth, w))
		}
		if st := objectState(x); st != nil {
			h = mix64(h ^ hashLoose(st, depth+1, w))
		}
		if len(x.ListItems) > 0 {
			h = mix64(h ^ hashLooseItems(x.ListItems, depth, w))
		}
		for _, it := range x.DictItems {
			h = mix64(h ^ hashLoose(it.Key, depth+1, w))
			h = mix64(h ^ hashLoose(it.Value, depth+1, w))
		}
		return h
	case Tuple:
		return hashLooseItems(x, depth, w)
	case *List:
		if x == nil {
			return hashLoose(nil, depth, w)
		}
		return hashLooseItems(x.Items, depth, w)
	case []any:
		return hashLooseItems(x, depth, w)
	case *Dict:
		if x == nil {
			return hashLoose(nil, depth, w)
		}
		return hashLooseTable(&x.t, depth, w)
	case map[string]any:
		return hashLooseTable(&mapToDict(x).t, depth, w)
	case *Set:
		if x == nil {
			return hashLoose(nil, depth, w)
		}
		return hashSet(&x.t)
	case ByteArray:
		return hashString(string(x)) ^ 0x62 // as bytes, which it equals
	}
	h, err := hashValue(v, depth, w)
	if err != nil {
		return 0x7f4a7c159e3779b9
	}
	return h
}

func hashLooseItems(items []any, depth int, w *walk) uint64 {
	h := uint64(len(items)) * 0x9e3779b97f4a7c15
	for _, it := range items {
		h = mix64(h ^ hashLoose(it, depth+1, w))
	}
	return h
}

// hashLooseTable hashes a dict's items independently of their order, as
// dicts compare.
func hashLooseTable(t *table, depth int, w *walk) uint64 {
	h := uint64(t.live) * 0x9e3779b97f4a7c15
	for i := range t.entries {
		if e := &t.entries[i]; !e.dead() {
			h += mix64(t.hashAt(i) ^ mix64(hashLoose(e.value, depth+1, w)))
		}
	}
	return h
}
