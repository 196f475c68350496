package pickle

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file converts typed Go values (structs, maps, slices, named scalar
// types, time.Time, big.Int) to the value model for the encoder, in the style
// of encoding/json. The encoder calls marshalHook for every value that is
// neither a value-model type nor a Go kind it writes itself.
//
// The mapping:
//
//   - a struct becomes a dict of its exported fields, keyed by field name or
//     by the name in a `pickle:"name"` tag; options omitempty and omitzero
//     leave a field out as in encoding/json, and `pickle:"-"` always does.
//     Embedded structs without a tag are flattened as json does.
//   - a map becomes a dict; its keys are converted the same way and must be
//     hashable in Python (strings, numbers, bools, arrays become tuples).
//     Keys are written in sorted order so the output is deterministic.
//   - a slice becomes a list, an array a tuple; a []byte or [N]byte (or a
//     named byte slice type) becomes bytes. A nil slice or map becomes None,
//     as a nil []any or map[string]any does (and as encoding/json writes
//     null); a nil []byte becomes b''.
//   - a nil pointer or interface becomes None; a non-nil one is followed.
//   - named bool, integer, float, complex and string types become bool, int,
//     float, complex and str; uint64 values past MaxInt64 become Python ints
//     through *big.Int. big.Int becomes int, big.Rat a fractions.Fraction.
//   - time.Time becomes an aware datetime.datetime (see [DateTimeOf]).
//   - a value implementing [Marshaler] (also through its address when it is
//     addressable) is replaced by the result of MarshalPickle.
//
// Pointer cycles are reported as an error rather than followed forever.

func init() { marshalHook = marshalReflect }

var (
	marshalerType = reflect.TypeFor[Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	bigIntType    = reflect.TypeFor[big.Int]()
	bigRatType    = reflect.TypeFor[big.Rat]()
	anyType       = reflect.TypeFor[any]()
)

// maxMarshalDepth bounds the nesting of Go values converted by Marshal.
const maxMarshalDepth = 10000

// marshalReflect converts a Go value that the encoder does not handle itself
// into a value-model value.
func marshalReflect(v any) (any, error) {
	s := marshalState{}
	return s.convert(reflect.ValueOf(v), 0)
}

// marshalState holds the pointers on the current path, for cycle detection.
type marshalState struct {
	onPath map[any]struct{}
}

// isModelType reports whether t is a type of the value model, which the
// encoder writes itself.
func isModelType(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[bool](), reflect.TypeFor[int64](), reflect.TypeFor[float64](),
		reflect.TypeFor[complex128](), reflect.TypeFor[string](), reflect.TypeFor[[]byte](),
		reflect.TypeFor[*big.Int](), reflect.TypeFor[Tuple](), reflect.TypeFor[*List](),
		reflect.TypeFor[*Dict](), reflect.TypeFor[*Set](), reflect.TypeFor[FrozenSet](),
		reflect.TypeFor[ByteArray](), reflect.TypeFor[Py2String](), reflect.TypeFor[Global](),
		reflect.TypeFor[*Object]():
		return true
	}
	return false
}

func (s *marshalState) convert(rv reflect.Value, depth int) (any, error) {
	if !rv.IsValid() {
		return nil, nil
	}
	if depth > maxMarshalDepth {
		return nil, fmt.Errorf("pickle: Go value nested deeper than %d levels (a cycle?) at type %v", maxMarshalDepth, rv.Type())
	}
	depth++
	t := rv.Type()
	if rv.CanInterface() {
		if isModelType(t) {
			return rv.Interface(), nil
		}
		if t.Implements(marshalerType) {
			if t.Kind() == reflect.Pointer && rv.IsNil() {
				return nil, nil
			}
			return callMarshaler(rv.Interface().(Marshaler), t)
		}
		if rv.CanAddr() && reflect.PointerTo(t).Implements(marshalerType) {
			return callMarshaler(rv.Addr().Interface().(Marshaler), t)
		}
	}
	switch t {
	case timeType:
		if rv.CanInterface() {
			return DateTimeOf(rv.Interface().(time.Time)).MarshalPickle()
		}
	case bigIntType:
		if rv.CanAddr() && rv.Addr().CanInterface() {
			return new(big.Int).Set(rv.Addr().Interface().(*big.Int)), nil
		}
		if rv.CanInterface() {
			b := rv.Interface().(big.Int)
			return new(big.Int).Set(&b), nil
		}
	case bigRatType:
		var r *big.Rat
		if rv.CanAddr() && rv.Addr().CanInterface() {
			r = rv.Addr().Interface().(*big.Rat)
		} else if rv.CanInterface() {
			x := rv.Interface().(big.Rat)
			r = &x
		}
		if r != nil {
			return FractionOf(r).MarshalPickle()
		}
	}
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), nil
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Complex64, reflect.Complex128:
		return rv.Complex(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return s.convert(rv.Elem(), depth)
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		p := rv.UnsafePointer()
		key := any(ptrKey{p, t})
		if _, ok := s.onPath[key]; ok {
			return nil, fmt.Errorf("pickle: encountered a cycle via %v", t)
		}
		if s.onPath == nil {
			s.onPath = map[any]struct{}{}
		}
		s.onPath[key] = struct{}{}
		v, err := s.convert(rv.Elem(), depth)
		delete(s.onPath, key)
		return v, err
	case reflect.Struct:
		return s.convertStruct(rv, depth)
	case reflect.Map:
		return s.convertMap(rv, depth)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) && !reflect.PointerTo(t.Elem()).Implements(marshalerType) {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
		if rv.IsNil() {
			return nil, nil
		}
		if rv.Len() > 0 {
			key := any(ptrKey{rv.UnsafePointer(), t})
			if _, ok := s.onPath[key]; ok {
				return nil, fmt.Errorf("pickle: encountered a cycle via %v", t)
			}
			if s.onPath == nil {
				s.onPath = map[any]struct{}{}
			}
			s.onPath[key] = struct{}{}
			defer delete(s.onPath, key)
		}
		items, err := s.convertElems(rv, depth)
		if err != nil {
			return nil, err
		}
		return NewList(items...), nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) && !reflect.PointerTo(t.Elem()).Implements(marshalerType) {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
		items, err := s.convertElems(rv, depth)
		if err != nil {
			return nil, err
		}
		return Tuple(items), nil
	}
	return nil, &UnsupportedTypeError{Type: t}
}

// ptrKey identifies a pointer (or slice data) of a type on the current path.
type ptrKey struct {
	p any
	t reflect.Type
}

func callMarshaler(m Marshaler, t reflect.Type) (any, error) {
	v, err := m.MarshalPickle()
	if err != nil {
		return nil, fmt.Errorf("pickle: MarshalPickle of %v: %w", t, err)
	}
	return v, nil
}

func (s *marshalState) convertElems(rv reflect.Value, depth int) ([]any, error) {
	n := rv.Len()
	items := make([]any, n)
	for i := range n {
		v, err := s.convert(rv.Index(i), depth)
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

func (s *marshalState) convertStruct(rv reflect.Value, depth int) (any, error) {
	fs := cachedFields(rv.Type())
	d := NewDict()
	for i := range fs.list {
		f := &fs.list[i]
		fv, ok := fieldByIndex(rv, f.index)
		if !ok {
			continue // nil embedded pointer
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if f.omitZero && isZeroField(fv) {
			continue
		}
		v, err := s.convert(fv, depth)
		if err != nil {
			return nil, err
		}
		if err := d.Set(f.name, v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *marshalState) convertMap(rv reflect.Value, depth int) (any, error) {
	if rv.IsNil() {
		return nil, nil
	}
	d := NewDict()
	if rv.Len() == 0 {
		return d, nil
	}
	key := any(ptrKey{rv.UnsafePointer(), rv.Type()})
	if _, ok := s.onPath[key]; ok {
		return nil, fmt.Errorf("pickle: encountered a cycle via %v", rv.Type())
	}
	if s.onPath == nil {
		s.onPath = map[any]struct{}{}
	}
	s.onPath[key] = struct{}{}
	defer delete(s.onPath, key)

	items := make([]DictItem, 0, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		k, err := s.convert(it.Key(), depth)
		if err != nil {
			return nil, err
		}
		v, err := s.convert(it.Value(), depth)
		if err != nil {
			return nil, err
		}
		items = append(items, DictItem{Key: k, Value: v})
	}
	sortItems(items)
	for _, item := range items {
		if err := d.Set(item.Key, item.Value); err != nil {
			return nil, fmt.Errorf("pickle: map key of type %v: %w", rv.Type().Key(), err)
		}
	}
	return d, nil
}

// sortItems orders dict items by key with Python ordering, falling back to
// the type name and repr for keys Python cannot order, so that the output is
// deterministic.
func sortItems(items []DictItem) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].Key, items[j].Key
		if sa, ok := a.(string); ok {
			if sb, ok := b.(string); ok {
				return sa < sb
			}
		}
		if ia, ok := a.(int64); ok {
			if ib, ok := b.(int64); ok {
				return ia < ib
			}
		}
		if c, err := Compare(a, b); err == nil {
			return c < 0
		}
		ta, tb := TypeName(a), TypeName(b)
		if ta != tb {
			return ta < tb
		}
		return fmt.Sprint(a) < fmt.Sprint(b)
	})
}

// fieldByIndex follows an index path, reporting false at a nil embedded
// pointer.
func fieldByIndex(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return reflect.Value{}, false
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZeroField is the omitzero test: an IsZero() bool method when the type has
// one, else the Go zero value.
func isZeroField(v reflect.Value) bool {
	if v.CanInterface() {
		if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
			if v.Kind() == reflect.Pointer && v.IsNil() {
				return true
			}
			return z.IsZero()
		}
	}
	return v.IsZero()
}

// field is one struct field that Marshal writes and Unmarshal fills.
type field struct {
	name      string // Python-side name: the tag name or the Go field name
	index     []int  // path through embedded structs
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
}

// structFields is the cached field list of a struct type.
type structFields struct {
	list   []field
	byName map[string]int // exact name -> index into list
	byFold map[string]int // lower-cased name -> index (first wins)
}

var fieldCache sync.Map // reflect.Type -> *structFields

// cachedFields returns the field information of struct type t, computing it
// once per type.
func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

// parseTag splits a struct tag into its name and options.
func parseTag(tag string) (name string, opts []string) {
	name, rest, _ := strings.Cut(tag, ",")
	if rest != "" {
		opts = strings.Split(rest, ",")
	}
	return name, opts
}

// typeFields lists the fields of struct type t the way encoding/json does:
// exported fields, tag names, embedded structs flattened with Go's rules of
// dominance (shallower wins, then the tagged one; ambiguous names vanish).
func typeFields(t reflect.Type) *structFields {
	type entry struct {
		typ   reflect.Type
		index []int
	}
	var fields []field
	seenName := map[string]bool{}
	visited := map[reflect.Type]bool{}
	next := []entry{{typ: t}}
	for len(next) > 0 {
		current := next
		next = nil
		var level []field
		for _, e := range current {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("pickle")
				if tag == "-" {
					continue
				}
				name, opts := parseTag(tag)
				index := make([]int, len(e.index)+1)
				copy(index, e.index)
				index[len(e.index)] = i
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, entry{typ: ft, index: index})
					continue
				}
				if !sf.IsExported() {
					continue // an unexported embedded non-struct or tagged struct
				}
				f := field{name: name, index: index, typ: sf.Type, tagged: name != ""}
				if name == "" {
					f.name = sf.Name
				}
				for _, o := range opts {
					switch o {
					case "omitempty":
						f.omitEmpty = true
					case "omitzero":
						f.omitZero = true
					}
				}
				level = append(level, f)
			}
		}
		// Dominance within this level; names of shallower levels win.
		count := map[string]int{}
		tagged := map[string]int{}
		for _, f := range level {
			count[f.name]++
			if f.tagged {
				tagged[f.name]++
			}
		}
		for _, f := range level {
			if seenName[f.name] {
				continue
			}
			switch {
			case count[f.name] == 1:
			case tagged[f.name] == 1 && f.tagged:
			default:
				continue
			}
			fields = append(fields, f)
		}
		for _, f := range level {
			seenName[f.name] = true
		}
	}
	sort.Slice(fields, func(i, j int) bool {
		a, b := fields[i].index, fields[j].index
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	sf := &structFields{list: fields, byName: map[string]int{}, byFold: map[string]int{}}
	for i, f := range fields {
		sf.byName[f.name] = i
		lf := strings.ToLower(f.name)
		if _, ok := sf.byFold[lf]; !ok {
			sf.byFold[lf] = i
		}
	}
	return sf
}
