package pickle

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// This file stores value-model values into typed Go values, in the style of
// encoding/json. Unmarshal and Decoder.Decode decode the pickle into the
// value model first, then call unmarshalHook when the target is not *any.
//
// The rules (the target type decides):
//
//   - an interface with no methods receives the value-model value as is; a
//     non-empty interface receives it when the value implements it.
//   - a target of the value's own type (Tuple, *List, *Dict, *Object,
//     DateTime, ...) receives it as is, keeping identity for pointer types.
//   - a type implementing [Unmarshaler] (through a pointer) gets the value.
//   - bool from bool; integers from int (and bool), checked for overflow;
//     floats from float or int; complex from complex, float or int; string
//     from str (and a Python 2 str); big.Int from int; big.Rat from
//     fractions.Fraction, int or a finite float.
//   - []byte and [N]byte from bytes, bytearray or a Python 2 str; other slices
//     and arrays from list, tuple, set and frozenset (an array ignores extra
//     items and zeroes missing ones).
//   - a map from a dict (keys converted by these same rules), or from a set
//     or frozenset when the element type is bool (true) or struct{}.
//   - a struct from a dict with str keys (matched to the field name or tag
//     name exactly, else case-insensitively; unknown keys are ignored), from
//     an *Object (its state dict, or (dict, slots) pair, or else its
//     arguments positionally), or from a tuple or list (positionally, in
//     field order).
//   - time.Time from datetime.datetime (naive taken as UTC) or
//     datetime.date; time.Duration from datetime.timedelta or an int of
//     nanoseconds.
//   - None sets a pointer, interface, map or slice to nil and leaves any
//     other target unchanged.
//
// A value that does not fit its target is skipped, decoding goes on, and the
// first such mismatch is returned as an *UnmarshalTypeError with the path of
// the field, e.g. "items[3].name".

func init() { unmarshalHook = unmarshalReflect }

// Convert stores the value-model value src (as Unmarshal produces it into an
// *any, possibly holding Go values a Registry resolved, such as DateTime) into
// the Go value dst points to, by exactly the rules Unmarshal uses for a typed
// target, without encoding and decoding again: a *any receives src as is, a
// dst implementing [Unmarshaler] gets UnmarshalPickle(src), and any other
// pointer is filled by the typed rules (see [Unmarshal]). Containers of src
// are not modified; a target of the value's own pointer type (*List, *Dict,
// *Object, ...) shares it. A value that does not fit its target is skipped,
// the rest is converted, and the first mismatch is returned as an
// *UnmarshalTypeError with its field path (Offset is 0: there is no pickle).
// dst must be a non-nil pointer, else the error is an *InvalidUnmarshalError.
//
// Convert is what a caller that received a value-model value (a manager
// method's arguments, say) uses to get typed Go values from it.
func Convert(src any, dst any) error {
	if err := checkTarget(dst); err != nil {
		return err
	}
	return store(src, dst)
}

var unmarshalerType = reflect.TypeFor[Unmarshaler]()

// unmarshalReflect stores the value-model value v into the Go value that the
// pointer rv points to.
func unmarshalReflect(v any, rv reflect.Value) error {
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{Type: rv.Type()}
	}
	d := unmarshalState{path: make([]pathSeg, 0, 8)}
	if err := d.value(v, rv.Elem(), 0); err != nil {
		return err
	}
	if d.typeErr != nil {
		return d.typeErr
	}
	return nil
}

// unmarshalState holds one typed Unmarshal in progress.
type unmarshalState struct {
	path    []pathSeg // where the value being decoded sits
	typeErr *UnmarshalTypeError
	// done caches the Go value made from each container for each target
	// type, so that a container shared many times in the pickle (a DAG can
	// be exponentially larger than its pickle) is converted once, and
	// shared pointers stay shared. A zero Value marks a conversion in
	// progress: meeting it again is a cycle.
	done   map[doneKey]reflect.Value
	small  [8]doneEntry // the first conversions, before done is made
	nsmall int
}

// doneEntry is one cached conversion.
type doneEntry struct {
	k doneKey
	v reflect.Value
}

// lookupDone returns the cached conversion of key.
func (d *unmarshalState) lookupDone(key doneKey) (reflect.Value, bool) {
	if d.done != nil {
		v, ok := d.done[key]
		return v, ok
	}
	for i := range d.nsmall {
		if d.small[i].k == key {
			return d.small[i].v, true
		}
	}
	return reflect.Value{}, false
}

// storeDone records (or updates) the conversion of key.
func (d *unmarshalState) storeDone(key doneKey, v reflect.Value) {
	if d.done != nil {
		d.done[key] = v
		return
	}
	for i := range d.nsmall {
		if d.small[i].k == key {
			d.small[i].v = v
			return
		}
	}
	if d.nsmall < len(d.small) {
		d.small[d.nsmall] = doneEntry{key, v}
		d.nsmall++
		return
	}
	d.done = make(map[doneKey]reflect.Value, 2*len(d.small))
	for _, e := range d.small {
		d.done[e.k] = e.v
	}
	d.done[key] = v
}

// doneKey identifies a container of the value model and a target type.
type doneKey struct {
	id any
	t  reflect.Type
}

// containerID returns the identity of a value-model container, or nil.
func containerID(v any) any {
	switch x := v.(type) {
	case *List, *Dict, *Set, *Object:
		return x
	case Tuple:
		if len(x) > 0 {
			return &x[0]
		}
	}
	return nil
}

// maxUnmarshalDepth bounds the recursion over nested values.
const maxUnmarshalDepth = 10000

// pathSeg is one step of a field path, rendered only for an error: a field
// or str key (".name"), an index ("[3]") or another dict key ("[repr]").
type pathSeg struct {
	name  string
	index int // -1 unless an index
	key   any // a non-str dict key, else nil
}

func (d *unmarshalState) push(seg pathSeg) { d.path = append(d.path, seg) }
func (d *unmarshalState) pop()             { d.path = d.path[:len(d.path)-1] }

func (d *unmarshalState) fieldPath() string {
	var b strings.Builder
	for _, s := range d.path {
		switch {
		case s.index >= 0:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case s.key != nil:
			b.WriteString("[" + Repr(s.key) + "]")
		default:
			b.WriteString("." + s.name)
		}
	}
	return strings.TrimPrefix(b.String(), ".")
}

// mismatch records the first type mismatch and lets decoding go on.
func (d *unmarshalState) mismatch(v any, t reflect.Type) {
	if d.typeErr != nil {
		return
	}
	d.typeErr = &UnmarshalTypeError{Value: describe(v), Type: t, Field: d.fieldPath()}
}

// describe names a Python value for an error message: its type, and the
// value itself for numbers.
func describe(v any) string {
	switch x := v.(type) {
	case int64:
		return "int " + strconv.FormatInt(x, 10)
	case Py2Int:
		return "int " + strconv.FormatInt(int64(x), 10)
	case Py2Long:
		return "int " + strconv.FormatInt(int64(x), 10)
	case *big.Int:
		if x != nil {
			return "int " + x.String()
		}
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case *Object:
		if x != nil {
			return "object of class " + x.Class.String()
		}
	}
	return TypeName(v)
}

// indirect walks down v allocating pointers as needed, until it gets to a
// non-pointer. If it meets an Unmarshaler it stops and returns it. With
// decodingNull it stops at the last settable pointer so that it can be set to
// nil. (A port of encoding/json's indirect.)
func indirect(v reflect.Value, decodingNull bool) (Unmarshaler, reflect.Value) {
	v0 := v
	haveAddr := false
	if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
		haveAddr = true
		v = v.Addr()
	}
	for {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			e := v.Elem()
			if e.Kind() == reflect.Pointer && !e.IsNil() && (!decodingNull || e.Elem().Kind() == reflect.Pointer) {
				haveAddr = false
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		if decodingNull && v.CanSet() {
			break
		}
		if v.Elem().Kind() == reflect.Interface && v.Elem().Elem().IsValid() && v.Elem().Elem().Kind() == reflect.Pointer && v.Elem().Elem().Pointer() == v.Pointer() {
			v = v.Elem()
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if v.Type().NumMethod() > 0 && v.CanInterface() {
			if u, ok := v.Interface().(Unmarshaler); ok {
				return u, reflect.Value{}
			}
		}
		if haveAddr {
			v = v0
			haveAddr = false
		} else {
			v = v.Elem()
		}
	}
	return nil, v
}

func (d *unmarshalState) value(v any, rv reflect.Value, depth int) error {
	if depth > maxUnmarshalDepth {
		return fmt.Errorf("pickle: value nested deeper than %d levels", maxUnmarshalDepth)
	}
	depth++
	if v == nil {
		u, pv := indirect(rv, true)
		if u != nil {
			return u.UnmarshalPickle(nil)
		}
		switch pv.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			pv.SetZero()
		}
		return nil
	}
	vt := reflect.TypeOf(v)
	if id := containerID(v); id != nil && rv.Type() != vt && (rv.Kind() != reflect.Interface || rv.NumMethod() > 0) {
		key := doneKey{id, rv.Type()}
		if prev, ok := d.lookupDone(key); ok {
			if !prev.IsValid() {
				return fmt.Errorf("pickle: cannot unmarshal a recursive %s into Go value of type %v", TypeName(v), rv.Type())
			}
			rv.Set(prev)
			return nil
		}
		d.storeDone(key, reflect.Value{})
		if err := d.convert(v, vt, rv, depth); err != nil {
			return err
		}
		// Keep a copy: rv may be a temporary that is reused.
		var c reflect.Value
		switch rv.Kind() {
		case reflect.Pointer, reflect.Map:
			c = reflect.ValueOf(rv.Interface()) // pointer-shaped: no allocation
		default:
			c = reflect.New(rv.Type()).Elem()
			c.Set(rv)
		}
		d.storeDone(key, c)
		return nil
	}
	return d.convert(v, vt, rv, depth)
}

// convert is value for a non-nil v of type vt, without the container cache.
func (d *unmarshalState) convert(v any, vt reflect.Type, rv reflect.Value, depth int) error {
	// The value's own type (or a pointer to it) is assigned as is, before
	// any Unmarshaler of the target is consulted: this keeps *List, *Dict
	// and *Object identity and lets a field of type DateTime take a
	// DateTime the registry already produced.
	if rv.Type() == vt {
		rv.Set(reflect.ValueOf(v))
		return nil
	}
	u, rv := indirect(rv, false)
	if u != nil {
		if err := u.UnmarshalPickle(v); err != nil {
			return d.wrapErr(err)
		}
		return nil
	}
	t := rv.Type()
	if t == vt {
		rv.Set(reflect.ValueOf(v))
		return nil
	}
	if rv.Kind() == reflect.Interface {
		if rv.NumMethod() == 0 || vt.Implements(t) {
			rv.Set(reflect.ValueOf(v))
		} else {
			d.mismatch(v, t)
		}
		return nil
	}
	switch t {
	case timeType:
		return d.timeValue(v, rv)
	case durationType:
		var td TimeDelta
		if o, ok := v.(*Object); ok && o.Class == classTimeDelta {
			if err := td.UnmarshalPickle(o); err != nil {
				return d.wrapErr(err)
			}
		} else if x, ok := v.(TimeDelta); ok {
			td = x
		} else {
			break
		}
		dur, err := td.Duration()
		if err != nil {
			return d.wrapErr(err)
		}
		rv.SetInt(int64(dur))
		return nil
	case bigIntType:
		if n, ok := v.(Py2Int); ok {
			v = int64(n)
		} else if n, ok := v.(Py2Long); ok {
			v = int64(n)
		}
		switch x := v.(type) {
		case int64:
			rv.Set(reflect.ValueOf(*big.NewInt(x)))
		case *big.Int:
			rv.Set(reflect.ValueOf(*new(big.Int).Set(x)))
		case bool:
			n := big.NewInt(0)
			if x {
				n.SetInt64(1)
			}
			rv.Set(reflect.ValueOf(*n))
		default:
			d.mismatch(v, t)
		}
		return nil
	case bigRatType:
		var r *big.Rat
		switch x := v.(type) {
		case Fraction:
			r, _ = x.Rat()
		case *Object:
			if x.Class == classFraction {
				var f Fraction
				if err := f.UnmarshalPickle(x); err != nil {
					return d.wrapErr(err)
				}
				r, _ = f.Rat()
			}
		case int64:
			r = new(big.Rat).SetInt64(x)
		case Py2Int:
			r = new(big.Rat).SetInt64(int64(x))
		case Py2Long:
			r = new(big.Rat).SetInt64(int64(x))
		case *big.Int:
			r = new(big.Rat).SetInt(x)
		case float64:
			r = new(big.Rat).SetFloat64(x) // nil for NaN and infinities
		}
		if r == nil {
			d.mismatch(v, t)
			return nil
		}
		rv.Set(reflect.ValueOf(*r))
		return nil
	}
	switch rv.Kind() {
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			rv.SetBool(b)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := intArg(v)
		if !ok {
			break
		}
		if rv.OverflowInt(n) {
			break
		}
		rv.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var u uint64
		switch x := v.(type) {
		case *big.Int:
			if x.Sign() < 0 || !x.IsUint64() {
				d.mismatch(v, t)
				return nil
			}
			u = x.Uint64()
		default:
			n, ok := intArg(v)
			if !ok || n < 0 {
				d.mismatch(v, t)
				return nil
			}
			u = uint64(n)
		}
		if rv.OverflowUint(u) {
			break
		}
		rv.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case *big.Int:
			f, _ = new(big.Float).SetInt(x).Float64()
			if math.IsInf(f, 0) {
				d.mismatch(v, t)
				return nil
			}
		default:
			n, ok := intArg(v)
			if !ok {
				d.mismatch(v, t)
				return nil
			}
			f = float64(n)
		}
		if rv.Kind() == reflect.Float32 && !math.IsInf(f, 0) && rv.OverflowFloat(f) {
			break
		}
		rv.SetFloat(f)
		return nil
	case reflect.Complex64, reflect.Complex128:
		var c complex128
		switch x := v.(type) {
		case complex128:
			c = x
		case float64:
			c = complex(x, 0)
		default:
			n, ok := intArg(v)
			if !ok {
				d.mismatch(v, t)
				return nil
			}
			c = complex(float64(n), 0)
		}
		rv.SetComplex(c)
		return nil
	case reflect.String:
		switch x := v.(type) {
		case string:
			rv.SetString(x)
			return nil
		case Py2String:
			rv.SetString(string(x))
			return nil
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if b, ok := bytesValue(v); ok {
				nb := reflect.MakeSlice(t, len(b), len(b))
				reflect.Copy(nb, reflect.ValueOf(b))
				rv.Set(nb)
				return nil
			}
		}
		items, ok := iterItems(v)
		if !ok {
			break
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			d.push(pathSeg{index: i})
			err := d.value(it, s.Index(i), depth)
			d.pop()
			if err != nil {
				return err
			}
		}
		rv.Set(s)
		return nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if b, ok := bytesValue(v); ok {
				rv.SetZero()
				reflect.Copy(rv, reflect.ValueOf(b))
				return nil
			}
		}
		items, ok := iterItems(v)
		if !ok {
			break
		}
		for i := range rv.Len() {
			if i >= len(items) {
				rv.Index(i).SetZero()
				continue
			}
			d.push(pathSeg{index: i})
			err := d.value(items[i], rv.Index(i), depth)
			d.pop()
			if err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		return d.mapValue(v, rv, depth)
	case reflect.Struct:
		return d.structValue(v, rv, depth)
	}
	d.mismatch(v, t)
	return nil
}

// wrapErr adds the field path to an error of an Unmarshaler.
func (d *unmarshalState) wrapErr(err error) error {
	if p := d.fieldPath(); p != "" {
		return fmt.Errorf("pickle: field %s: %w", p, err)
	}
	return err
}

// bytesValue returns the bytes of a bytes-like value.
func bytesValue(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case ByteArray:
		return x, true
	case Py2String:
		return []byte(x), true
	}
	return nil, false
}

func (d *unmarshalState) timeValue(v any, rv reflect.Value) error {
	var tm time.Time
	switch x := v.(type) {
	case DateTime:
		t, err := x.Time()
		if err != nil {
			return d.wrapErr(err)
		}
		tm = t
	case Date:
		tm = x.Time()
	case *Object:
		switch x.Class {
		case classDateTime:
			var dt DateTime
			if err := dt.UnmarshalPickle(x); err != nil {
				return d.wrapErr(err)
			}
			t, err := dt.Time()
			if err != nil {
				return d.wrapErr(err)
			}
			tm = t
		case classDate:
			var dd Date
			if err := dd.UnmarshalPickle(x); err != nil {
				return d.wrapErr(err)
			}
			tm = dd.Time()
		default:
			d.mismatch(v, rv.Type())
			return nil
		}
	default:
		d.mismatch(v, rv.Type())
		return nil
	}
	rv.Set(reflect.ValueOf(tm))
	return nil
}

func (d *unmarshalState) mapValue(v any, rv reflect.Value, depth int) error {
	t := rv.Type()
	switch x := v.(type) {
	case *Dict:
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(t, x.Len()))
		}
		kv := reflect.New(t.Key()).Elem() // reused: SetMapIndex copies
		ev := reflect.New(t.Elem()).Elem()
		var err error
		x.Range(func(key, val any) bool {
			if s, ok := key.(string); ok {
				d.push(pathSeg{name: s, index: -1})
			} else {
				d.push(pathSeg{index: -1, key: key})
			}
			kv.SetZero()
			before := d.typeErr
			if err = d.value(key, kv, depth); err != nil {
				d.pop()
				return false
			}
			if d.typeErr != before {
				d.pop()
				return true // the key did not fit: skip the item
			}
			ev.SetZero()
			err = d.value(val, ev, depth)
			d.pop()
			if err != nil {
				return false
			}
			rv.SetMapIndex(kv, ev)
			return true
		})
		return err
	case *Set, FrozenSet:
		et := t.Elem()
		var mark reflect.Value
		switch {
		case et.Kind() == reflect.Bool:
			mark = reflect.New(et).Elem()
			mark.SetBool(true)
		case et.Kind() == reflect.Struct && et.NumField() == 0:
			mark = reflect.New(et).Elem()
		default:
			d.mismatch(v, t)
			return nil
		}
		items, _ := iterItems(v)
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(t, len(items)))
		}
		for _, it := range items {
			kv := reflect.New(t.Key()).Elem()
			before := d.typeErr
			if err := d.value(it, kv, depth); err != nil {
				return err
			}
			if d.typeErr == before {
				rv.SetMapIndex(kv, mark)
			}
		}
		return nil
	}
	d.mismatch(v, t)
	return nil
}

func (d *unmarshalState) structValue(v any, rv reflect.Value, depth int) error {
	t := rv.Type()
	switch x := v.(type) {
	case *Dict:
		return d.structFromDict(x, rv, depth)
	case Tuple:
		return d.structFromSeq(x, rv, depth)
	case *List:
		return d.structFromSeq(x.Items, rv, depth)
	case *Object:
		switch st := x.State.(type) {
		case *Dict:
			return d.structFromDict(st, rv, depth)
		case Tuple:
			// (dict or None, slots dict): __slots__ state.
			if len(st) == 2 {
				if dd, ok := st[0].(*Dict); ok {
					if err := d.structFromDict(dd, rv, depth); err != nil {
						return err
					}
				}
				if sd, ok := st[1].(*Dict); ok {
					return d.structFromDict(sd, rv, depth)
				}
				return nil
			}
		case nil:
			if x.Kind == BuildReconstructor {
				return nil // copyreg._reconstructor(cls, base, state): no attributes
			}
			if len(x.DictItems) > 0 {
				dd, err := NewDictItems(x.DictItems...)
				if err != nil {
					return d.wrapErr(err)
				}
				return d.structFromDict(dd, rv, depth)
			}
			return d.structFromSeq(x.Args, rv, depth)
		}
	}
	d.mismatch(v, t)
	return nil
}

// settableField returns the struct field at index, allocating nil embedded
// pointers; ok is false when an embedded pointer cannot be set.
func settableField(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				if !rv.CanSet() {
					return reflect.Value{}, false
				}
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, true
}

func (d *unmarshalState) structFromDict(dict *Dict, rv reflect.Value, depth int) error {
	fs := cachedFields(rv.Type())
	var err error
	dict.Range(func(key, val any) bool {
		name, ok := strOf(key)
		if !ok {
			return true // non-str keys cannot name a field
		}
		i, ok := fs.byName[name]
		if !ok {
			i, ok = fs.byFold[strings.ToLower(name)]
		}
		if !ok {
			return true
		}
		f := &fs.list[i]
		fv, ok := settableField(rv, f.index)
		if !ok {
			return true
		}
		d.push(pathSeg{name: f.name, index: -1})
		err = d.value(val, fv, depth)
		d.pop()
		return err == nil
	})
	return err
}

func (d *unmarshalState) structFromSeq(items []any, rv reflect.Value, depth int) error {
	fs := cachedFields(rv.Type())
	for i, it := range items {
		if i >= len(fs.list) {
			break
		}
		f := &fs.list[i]
		fv, ok := settableField(rv, f.index)
		if !ok {
			continue
		}
		d.push(pathSeg{name: f.name, index: -1})
		err := d.value(it, fv, depth)
		d.pop()
		if err != nil {
			return err
		}
	}
	return nil
}
