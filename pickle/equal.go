package pickle

import (
	"hash/maphash"
	"math"
	"math/big"
	"reflect"
	"unsafe"
)

// TypeError is a Python TypeError raised by a value operation (hashing an
// unhashable value, ordering values Python cannot order, ...). Msg is
// CPython's message text.
type TypeError struct {
	Msg string
}

func (e *TypeError) Error() string { return e.Msg }

// walk is the state of one Equal, Hash or Compare call.
type walk struct {
	steps int
	eq    map[[2]memoKey]bool
	hash  map[memoKey]uint64
	loose map[memoKey]uint64 // hashLoose results, after walkMemoAfter steps
	open  []memoKey          // containers hashLoose is inside, for cycles
}

// walkMemoAfter is the number of containers visited before results are
// memoized.
const walkMemoAfter = 2048

// identKey identifies a container value by address.
func identKey(v any) (memoKey, bool) {
	switch x := v.(type) {
	case Tuple:
		if len(x) > 0 {
			return memoKey{unsafe.Pointer(unsafe.SliceData(x)), len(x)}, true
		}
	case *List:
		return memoKey{unsafe.Pointer(x), keyList}, true
	case *Dict:
		return memoKey{unsafe.Pointer(x), keyDict}, true
	case *Set:
		return memoKey{unsafe.Pointer(x), keySet}, true
	case *Object:
		return memoKey{unsafe.Pointer(x), keyObject}, true
	case FrozenSet:
		if x.t != nil {
			return memoKey{unsafe.Pointer(x.t), keyFrozen}, true
		}
	case []any:
		if cap(x) > 0 {
			return memoKey{unsafe.Pointer(unsafe.SliceData(x)), keySlice - len(x)}, true
		}
	}
	return memoKey{}, false
}

// maxCompareDepth bounds the recursion of Equal, Hash, Compare and Repr, like
// Python's recursion limit.
const maxCompareDepth = 10000

// numKind classifies numeric values.
type numKind int

const (
	notNum numKind = iota
	numInt
	numBig
	numFloat
	numComplex
)

type number struct {
	kind numKind
	i    int64
	b    *big.Int
	f    float64
	c    complex128
}

// asNumber converts the Python numeric types of the value model, and Go's
// numeric kinds, without reflection.
func asNumber(v any) (number, bool) {
	switch x := v.(type) {
	case int64:
		return number{kind: numInt, i: x}, true
	case int:
		return number{kind: numInt, i: int64(x)}, true
	case bool:
		if x {
			return number{kind: numInt, i: 1}, true
		}
		return number{kind: numInt}, true
	case float64:
		return number{kind: numFloat, f: x}, true
	case *big.Int:
		if x == nil {
			return number{}, false
		}
		if x.IsInt64() {
			return number{kind: numInt, i: x.Int64()}, true
		}
		return number{kind: numBig, b: x}, true
	case complex128:
		return number{kind: numComplex, c: x}, true
	case int32:
		return number{kind: numInt, i: int64(x)}, true
	case int16:
		return number{kind: numInt, i: int64(x)}, true
	case int8:
		return number{kind: numInt, i: int64(x)}, true
	case uint8:
		return number{kind: numInt, i: int64(x)}, true
	case uint16:
		return number{kind: numInt, i: int64(x)}, true
	case uint32:
		return number{kind: numInt, i: int64(x)}, true
	case uint:
		return uintNumber(uint64(x)), true
	case uint64:
		return uintNumber(x), true
	case uintptr:
		return uintNumber(uint64(x)), true
	case float32:
		return number{kind: numFloat, f: float64(x)}, true
	case complex64:
		return number{kind: numComplex, c: complex128(x)}, true
	case Py2Int:
		return number{kind: numInt, i: int64(x)}, true
	case Py2Long:
		return number{kind: numInt, i: int64(x)}, true
	}
	return number{}, false
}

func uintNumber(u uint64) number {
	if u <= math.MaxInt64 {
		return number{kind: numInt, i: int64(u)}
	}
	return number{kind: numBig, b: new(big.Int).SetUint64(u)}
}

func (n number) bigInt() *big.Int {
	if n.kind == numBig {
		return n.b
	}
	return big.NewInt(n.i)
}

// cmpIntFloat compares an integer with a float exactly (f not NaN).
func cmpIntFloat(n number, f float64) int {
	if math.IsInf(f, 1) {
		return -1
	}
	if math.IsInf(f, -1) {
		return 1
	}
	if n.kind == numInt && n.i > -(1<<53) && n.i < 1<<53 {
		return cmpFloat(float64(n.i), f)
	}
	bf := new(big.Float).SetInt(n.bigInt())
	return bf.Cmp(big.NewFloat(f))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numEqual compares two numbers by Python's rules.
func numEqual(a, b number) bool {
	if a.kind == numComplex || b.kind == numComplex {
		if a.kind == numComplex && b.kind == numComplex {
			return a.c == b.c
		}
		if a.kind == numComplex {
			a, b = b, a
		}
		return imag(b.c) == 0 && numEqual(a, number{kind: numFloat, f: real(b.c)})
	}
	switch {
	case a.kind == numInt && b.kind == numInt:
		return a.i == b.i
	case a.kind == numFloat && b.kind == numFloat:
		return a.f == b.f
	case a.kind == numFloat:
		return !math.IsNaN(a.f) && cmpIntFloat(b, a.f) == 0
	case b.kind == numFloat:
		return !math.IsNaN(b.f) && cmpIntFloat(a, b.f) == 0
	}
	return a.bigInt().Cmp(b.bigInt()) == 0
}

func (n number) toComplex() complex128 {
	switch n.kind {
	case numComplex:
		return n.c
	case numFloat:
		return complex(n.f, 0)
	case numInt:
		return complex(float64(n.i), 0)
	}
	f, _ := new(big.Float).SetInt(n.b).Float64()
	return complex(f, 0)
}

// numCompare orders two real numbers; ok is false when one is NaN
// (every comparison is false).
func numCompare(a, b number) (int, bool) {
	switch {
	case a.kind == numInt && b.kind == numInt:
		if a.i < b.i {
			return -1, true
		} else if a.i > b.i {
			return 1, true
		}
		return 0, true
	case a.kind == numFloat && b.kind == numFloat:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, false
		}
		return cmpFloat(a.f, b.f), true
	case a.kind == numFloat:
		if math.IsNaN(a.f) {
			return 0, false
		}
		return -cmpIntFloat(b, a.f), true
	case b.kind == numFloat:
		if math.IsNaN(b.f) {
			return 0, false
		}
		return cmpIntFloat(a, b.f), true
	}
	return a.bigInt().Cmp(b.bigInt()), true
}

// Equal reports whether a == b in Python. Numbers compare across types
// (1 == 1.0 == True, complex(1, 0) == 1), NaN is unequal to itself, str and
// bytes are never equal, a Py2String equals the string with the same bytes,
// bytes equal a bytearray with the same content, tuples and lists compare
// item by item but a list never equals a tuple, dicts ignore order, a set
// equals a frozenset with the same items, Globals compare by name and
// *Object by value (see Object). Containers holding themselves compare
// equal to themselves (identity shortcut, as CPython does for items).
func Equal(a, b any) bool {
	var w walk
	return equal(a, b, 0, &w)
}

func isIdentical(a, b any) bool {
	switch x := a.(type) {
	case *List:
		y, ok := b.(*List)
		return ok && x == y
	case *Dict:
		y, ok := b.(*Dict)
		return ok && x == y
	case *Set:
		y, ok := b.(*Set)
		return ok && x == y
	case *Object:
		y, ok := b.(*Object)
		return ok && x == y
	}
	return false
}

// listItems returns the items of a list-like value (*List or []any).
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case *List:
		if x == nil {
			return nil, false
		}
		return x.Items, true
	case []any:
		return x, true
	}
	return nil, false
}

func setTable(v any) (*table, bool) {
	switch x := v.(type) {
	case *Set:
		if x == nil {
			return nil, false
		}
		return &x.t, true
	case FrozenSet:
		if x.t == nil {
			return &table{}, true
		}
		return x.t, true
	}
	return nil, false
}

func bytesOf(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case ByteArray:
		return []byte(x), true
	}
	return nil, false
}

func strOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Py2String:
		return string(x), true
	}
	return "", false
}

func equal(a, b any, depth int, w *walk) bool {
	if depth > maxCompareDepth {
		return false
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if s, ok := strOf(a); ok {
		t, ok := strOf(b)
		return ok && s == t
	}
	if na, ok := asNumber(a); ok {
		nb, ok := asNumber(b)
		return ok && numEqual(na, nb)
	}
	if isIdentical(a, b) {
		return true
	}
	if x, ok := bytesOf(a); ok {
		y, ok := bytesOf(b)
		return ok && string(x) == string(y)
	}
	w.steps++
	if w.steps > walkMemoAfter {
		// a value with much sharing (a DAG of tuples, say) would take
		// exponential time: remember the pairs already compared
		ka, ok1 := identKey(a)
		kb, ok2 := identKey(b)
		if ok1 && ok2 {
			k := [2]memoKey{ka, kb}
			if r, ok := w.eq[k]; ok {
				return r
			}
			if w.eq == nil {
				w.eq = map[[2]memoKey]bool{}
			}
			w.eq[k] = true // in progress: assume equal, as for cycles
			r := equalContainer(a, b, depth, w)
			w.eq[k] = r
			return r
		}
	}
	return equalContainer(a, b, depth, w)
}

func equalContainer(a, b any, depth int, w *walk) bool {
	switch x := a.(type) {
	case Tuple:
		y, ok := tupleOf(b)
		return ok && itemsEqual(x, y, depth, w)
	case *Dict:
		y, ok := b.(*Dict)
		return ok && x != nil && y != nil && dictEqual(x, y, depth, w)
	case Global:
		y, ok := b.(Global)
		return ok && x == y
	case *Object:
		if f, ok := tupleFields(x); ok {
			y, ok := tupleOf(b)
			return ok && itemsEqual(f, y, depth, w)
		}
		y, ok := b.(*Object)
		return ok && objectsEqual(x, y, depth, w)
	}
	if x, ok := listItems(a); ok {
		y, ok := listItems(b)
		return ok && itemsEqual(x, y, depth, w)
	}
	if x, ok := setTable(a); ok {
		y, ok := setTable(b)
		if !ok || x.live != y.live {
			return false
		}
		for i := range x.entries {
			if !x.entries[i].dead() && y.findIn(x, i) < 0 {
				return false
			}
		}
		return true
	}
	if m, ok := a.(map[string]any); ok {
		return equal(mapToDict(m), b, depth, w)
	}
	if m, ok := b.(map[string]any); ok {
		return equal(a, mapToDict(m), depth, w)
	}
	defer func() { recover() }() // incomparable dynamic types
	return a == b
}

func mapToDict(m map[string]any) *Dict {
	d := &Dict{}
	for k, v := range m {
		d.t.insertNew(k, v)
	}
	return d
}

func itemsEqual(x, y []any, depth int, w *walk) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !isIdentical(x[i], y[i]) && !equal(x[i], y[i], depth+1, w) {
			return false
		}
	}
	return true
}

func dictEqual(x, y *Dict, depth int, w *walk) bool {
	if x.t.live != y.t.live {
		return false
	}
	for i := range x.t.entries {
		e := &x.t.entries[i]
		if e.dead() {
			continue
		}
		j := y.t.findIn(&x.t, i)
		if j < 0 {
			return false
		}
		v := y.t.entries[j].value
		if !isIdentical(e.value, v) && !equal(e.value, v, depth+1, w) {
			return false
		}
	}
	return true
}

var hashSeed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(hashSeed, s) }

// Numbers hash by value, consistently with Equal (1, 1.0, True, 1+0j and a
// *big.Int 1 hash alike), with a per-process seed, and not with CPython's
// reduction modulo 2**61 - 1: under that, keys a peer chooses (every
// i * (2**61 - 1) hashes to 0) all fall into one chain of a table's index,
// and a dict of n of them takes n**2/2 comparisons to decode; a 64 MiB
// request could hold a core for hours. Here an int64 hashes through a
// bijective mix of its value, so distinct int64 keys never share a hash, and
// the values beyond int64 through maphash.
var numSeed = maphash.String(hashSeed, "numbers")

// seededMix is mix64 (SplitMix64's finalizer, a bijection) of x plus the
// seed.
func seededMix(x uint64) uint64 { return mix64(x + numSeed) }

func hashInt64(i int64) uint64 { return seededMix(uint64(i)) }

// hashBig hashes an integer beyond int64 (a *big.Int within int64 hashes as
// the int64: asNumber makes it one).
func hashBig(b *big.Int) uint64 {
	if b.IsInt64() {
		return hashInt64(b.Int64())
	}
	h := maphash.Bytes(hashSeed, b.Bytes())
	if b.Sign() < 0 {
		h = ^h
	}
	return h
}

// Float bounds of int64: integral floats within them hash as the int64.
const (
	minInt64Float = -9223372036854775808.0
	maxInt64Float = 9223372036854775808.0 // exclusive
)

// hashFloat hashes an integral float as the integer it equals (NaN, never
// equal to anything, hashes to 0).
func hashFloat(v float64) uint64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return seededMix(0x7ff0000000000000) ^ 1
	case math.IsInf(v, -1):
		return seededMix(0xfff0000000000000) ^ 1
	case v != math.Trunc(v):
		return seededMix(math.Float64bits(v)) ^ 2
	case v >= minInt64Float && v < maxInt64Float:
		return hashInt64(int64(v))
	}
	b, _ := new(big.Float).SetFloat64(v).Int(nil)
	return hashBig(b)
}

func hashNumber(n number) uint64 {
	switch n.kind {
	case numInt:
		return hashInt64(n.i)
	case numBig:
		return hashBig(n.b)
	case numFloat:
		return hashFloat(n.f)
	}
	if imag(n.c) == 0 {
		return hashFloat(real(n.c)) // complex(x, 0) == x
	}
	return hashFloat(real(n.c)) + 1000003*hashFloat(imag(n.c))
}

func unhashable(v any) error {
	return &TypeError{Msg: "unhashable type: '" + TypeName(v) + "'"}
}

// Hash returns a hash of v consistent with Equal: numbers by value, so that
// hash(1) == hash(1.0) == hash(True) as in CPython (but not CPython's
// values: see numSeed), strings with a per-process seed,
// an *Object from its class and contents (see Object).
// Mutable values (list, dict, set, bytearray) return a *TypeError
// "unhashable type: 'list'". Other Go values of comparable types (such as
// the DateTime a Registry makes of a datetime) hash by value, consistently
// with Equal, which compares them with ==; so they can be dict keys and set
// members.
func Hash(v any) (uint64, error) {
	var w walk
	return hashValue(v, 0, &w)
}

func hashValue(v any, depth int, w *walk) (uint64, error) {
	if depth > maxCompareDepth {
		return 0, &TypeError{Msg: "maximum recursion depth exceeded while calculating hash"}
	}
	switch x := v.(type) {
	case nil:
		return 0x5f3759df, nil
	case string:
		return hashString(x), nil
	case Py2String:
		return hashString(string(x)), nil
	case int64:
		return hashInt64(x), nil
	case []byte:
		return hashString(string(x)) ^ 0x62, nil
	case Tuple:
		w.steps++
		if w.steps > walkMemoAfter && len(x) > 0 {
			k := memoKey{unsafe.Pointer(unsafe.SliceData(x)), len(x)}
			if h, ok := w.hash[k]; ok {
				return h, nil
			}
			h, err := hashItems(x, depth, w)
			if err == nil {
				if w.hash == nil {
					w.hash = map[memoKey]uint64{}
				}
				w.hash[k] = h
			}
			return h, err
		}
		return hashItems(x, depth, w)
	case Global:
		return hashGlobal(x), nil
	case *Object:
		return hashObject(x, depth, w)
	case FrozenSet:
		return hashSet(x.t), nil
	case *List, []any, *Dict, *Set, ByteArray, map[string]any:
		return 0, unhashable(v)
	}
	if n, ok := asNumber(v); ok {
		return hashNumber(n), nil
	}
	return hashComparable(v)
}

// hashComparable hashes a comparable Go value that is not of the value model
// (a registry-resolved DateTime, say) consistently with Equal, which compares
// such values with ==. Values of non-comparable types, or holding one in an
// interface field, are unhashable.
func hashComparable(v any) (h uint64, err error) {
	if !reflect.TypeOf(v).Comparable() {
		return 0, unhashable(v)
	}
	defer func() {
		if recover() != nil {
			h, err = 0, unhashable(v)
		}
	}()
	return maphash.Comparable(hashSeed, v), nil
}

func hashItems(items []any, depth int, w *walk) (uint64, error) {
	// xxHash-like accumulation as in CPython's tuplehash.
	const (
		p1 = 11400714785074694791
		p2 = 14029467366897019727
		p5 = 2870177450012600261
	)
	acc := uint64(p5)
	for _, it := range items {
		h, err := hashValue(it, depth+1, w)
		if err != nil {
			return 0, err
		}
		acc += h * p2
		acc = acc<<31 | acc>>33
		acc *= p1
	}
	acc += uint64(len(items)) ^ (p5 ^ 3527539)
	return acc, nil
}

func hashSet(t *table) uint64 {
	if t == nil {
		t = &table{}
	}
	var h uint64
	for i := range t.entries {
		if !t.entries[i].dead() {
			x := t.hashAt(i)
			h ^= ((x ^ 89869747) ^ (x << 16)) * 3644798167
		}
	}
	h ^= (uint64(t.live) + 1) * 1927868237
	h = h*69069 + 907133923
	return h
}

// TypeName returns the Python type name of v: 'NoneType', 'int', 'str',
// 'list', ... For an *Object it is the class name.
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string, Py2String:
		return "str"
	case []byte:
		return "bytes"
	case ByteArray:
		return "bytearray"
	case Tuple:
		return "tuple"
	case *List, []any:
		return "list"
	case *Dict, map[string]any:
		return "dict"
	case *Set:
		return "set"
	case FrozenSet:
		return "frozenset"
	case Global:
		return "type"
	case *Object:
		return x.Class.Name
	}
	if n, ok := asNumber(v); ok {
		switch n.kind {
		case numFloat:
			return "float"
		case numComplex:
			return "complex"
		}
		return "int"
	}
	return "object"
}

func notOrderable(a, b any) error {
	msg := "'<' not supported between instances of '" + TypeName(a) + "' and '" + TypeName(b) + "'"
	o, ok := a.(*Object)
	if _, tuple := tupleFields(o); !ok || o == nil || tuple {
		o, ok = b.(*Object)
	}
	if _, tuple := tupleFields(o); ok && o != nil && !tuple {
		// Python may well order these (a dataclass with order=True, a class
		// with __lt__): say why we do not
		msg += " (mpgo cannot run the comparison methods of " + o.Class.String() + ")"
	}
	return &TypeError{Msg: msg}
}

// Compare orders a and b as Python's < does and returns -1, 0 or +1. Numbers
// compare across types (a NaN compares as 0: neither is smaller), strings by
// code point, bytes bytewise, tuples and lists lexicographically (a list only
// with a list; a namedtuple, see Object, as a tuple). Anything else, and
// mixed types, fail with a *TypeError whose text is CPython's: "'<' not
// supported between instances of 'str' and 'int'"; for an *Object, whose
// ordering is the class's own code, the text adds that mpgo cannot run it.
func Compare(a, b any) (int, error) {
	var w walk
	return compare(a, b, 0, &w)
}

func compare(a, b any, depth int, w *walk) (int, error) {
	if depth > maxCompareDepth {
		return 0, &TypeError{Msg: "maximum recursion depth exceeded in comparison"}
	}
	if na, ok := asNumber(a); ok {
		if nb, ok := asNumber(b); ok && na.kind != numComplex && nb.kind != numComplex {
			c, _ := numCompare(na, nb)
			return c, nil
		}
		return 0, notOrderable(a, b)
	}
	if s, ok := strOf(a); ok {
		if t, ok := strOf(b); ok {
			return compareStrings(s, t), nil
		}
		return 0, notOrderable(a, b)
	}
	if x, ok := bytesOf(a); ok {
		if y, ok := bytesOf(b); ok {
			return compareStrings(string(x), string(y)), nil
		}
		return 0, notOrderable(a, b)
	}
	if x, ok := tupleOf(a); ok {
		if y, ok := tupleOf(b); ok {
			return compareItems(x, y, depth, w)
		}
		return 0, notOrderable(a, b)
	}
	if x, ok := listItems(a); ok {
		if y, ok := listItems(b); ok {
			return compareItems(x, y, depth, w)
		}
	}
	return 0, notOrderable(a, b)
}

// compareStrings orders by code point; for valid UTF-8 this is byte order.
func compareStrings(s, t string) int {
	switch {
	case s < t:
		return -1
	case s > t:
		return 1
	}
	return 0
}

func compareItems(x, y []any, depth int, w *walk) (int, error) {
	for i := 0; i < len(x) && i < len(y); i++ {
		if isIdentical(x[i], y[i]) || equal(x[i], y[i], depth+1, w) {
			continue
		}
		return compare(x[i], y[i], depth+1, w)
	}
	switch {
	case len(x) < len(y):
		return -1, nil
	case len(x) > len(y):
		return 1, nil
	}
	return 0, nil
}
