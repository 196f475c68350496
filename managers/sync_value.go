package managers

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mpgo/mpgo/pickle"
)

// Array is a shared array.array (SyncManager typeid "Array"; CPython's managers.Array returns a
// plain array.array): __len__, __getitem__, __setitem__ (and Python 2's __getslice__ and
// __setslice__). Items are checked against the typecode exactly as array.array checks them
// (OverflowError "signed integer is greater than maximum", TypeError "'float' object cannot be
// interpreted as an integer", "must be real number, not str", "array item must be unicode
// character", ...), with the sizes of CPython on 64-bit Linux. Slices come back as an
// array.array: array.array(typecode, raw bytes), which both Python 2 and 3 unpickle. The Python 2
// typecode 'c' (one-byte str items) is accepted too. It is safe for concurrent use.
type Array struct {
	mu    sync.Mutex
	t     *arrayType
	items []any // int64 / *big.Int (beyond int64), float64, string (one character)
}

// arrayKind is the class of an array typecode's items.
type arrayKind int

const (
	akSigned arrayKind = iota
	akUnsigned
	akFloat
	akUnicode
	akChar
)

type arrayType struct {
	code      string
	size      int
	kind      arrayKind
	bits      uint
	viaLong   bool   // converted through a C long first (b, B, h, H, i)
	tooBig    string // OverflowError past the C conversion type
	overMsg   string // OverflowError above the typecode's maximum
	underMsg  string // OverflowError below its minimum
	negMsg    string // OverflowError for a negative unsigned value
	mformat   int64  // array._array_reconstructor machine format (little-endian)
	className string
}

var arrayTypes = map[string]*arrayType{
	"b": {code: "b", size: 1, kind: akSigned, bits: 8, viaLong: true, tooBig: "Python int too large to convert to C long", overMsg: "signed char is greater than maximum", underMsg: "signed char is less than minimum", mformat: 1},
	"B": {code: "B", size: 1, kind: akUnsigned, bits: 8, viaLong: true, tooBig: "Python int too large to convert to C long", overMsg: "unsigned byte integer is greater than maximum", negMsg: "unsigned byte integer is less than minimum", mformat: 0},
	"h": {code: "h", size: 2, kind: akSigned, bits: 16, viaLong: true, tooBig: "Python int too large to convert to C long", overMsg: "signed short integer is greater than maximum", underMsg: "signed short integer is less than minimum", mformat: 4},
	"H": {code: "H", size: 2, kind: akUnsigned, bits: 16, viaLong: true, tooBig: "Python int too large to convert to C long", overMsg: "unsigned short is greater than maximum", negMsg: "unsigned short is less than minimum", mformat: 2},
	"i": {code: "i", size: 4, kind: akSigned, bits: 32, viaLong: true, tooBig: "Python int too large to convert to C long", overMsg: "signed integer is greater than maximum", underMsg: "signed integer is less than minimum", mformat: 8},
	"I": {code: "I", size: 4, kind: akUnsigned, bits: 32, tooBig: "Python int too large to convert to C unsigned long", overMsg: "unsigned int is greater than maximum", negMsg: "can't convert negative value to unsigned int", mformat: 6},
	"l": {code: "l", size: 8, kind: akSigned, bits: 64, tooBig: "Python int too large to convert to C long", mformat: 12},
	"L": {code: "L", size: 8, kind: akUnsigned, bits: 64, tooBig: "Python int too large to convert to C unsigned long", negMsg: "can't convert negative value to unsigned int", mformat: 10},
	"q": {code: "q", size: 8, kind: akSigned, bits: 64, tooBig: "int too big to convert", mformat: 12},
	"Q": {code: "Q", size: 8, kind: akUnsigned, bits: 64, tooBig: "int too big to convert", negMsg: "can't convert negative int to unsigned", mformat: 10},
	"f": {code: "f", size: 4, kind: akFloat, bits: 32, mformat: 14},
	"d": {code: "d", size: 8, kind: akFloat, bits: 64, mformat: 16},
	"u": {code: "u", size: 4, kind: akUnicode, mformat: 20},
	"c": {code: "c", size: 1, kind: akChar, mformat: -1},
}

// NewArray returns an array of typecode initialised from items (value-model values), with
// array.array's checks.
func NewArray(typecode string, items ...any) (*Array, error) {
	t, ok := arrayTypes[typecode]
	if !ok {
		return nil, pyErr("ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)")
	}
	a := &Array{t: t}
	for _, x := range items {
		v, err := t.convert(x)
		if err != nil {
			return nil, err
		}
		a.items = append(a.items, v)
	}
	return a, nil
}

func newArrayFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	v, err := bindArgs("Array", args, kwargs, req("typecode"), req("sequence"), opt("lock", true))
	if err != nil {
		return nil, err
	}
	tc, ok := asStr(v[0])
	if !ok || utf8.RuneCountInString(tc) != 1 {
		return nil, typeErrorf("array() argument 1 must be a unicode character, not %s", pickle.TypeName(v[0]))
	}
	t, ok := arrayTypes[tc]
	if !ok {
		return nil, pyErr("ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)")
	}
	a := &Array{t: t}
	switch s := v[1].(type) {
	case string:
		if t.kind != akUnicode {
			return nil, typeErrorf("cannot use a str to initialize an array with typecode '%s'", tc)
		}
		for _, r := range s {
			a.items = append(a.items, string(r))
		}
		return a, nil
	case pickle.Py2String:
		if t.kind == akChar {
			for i := 0; i < len(s); i++ {
				a.items = append(a.items, string(s[i:i+1]))
			}
			return a, nil
		}
		// Python 2: array(typecode, str) reads machine values.
		items, err := t.fromBytes([]byte(s))
		if err != nil {
			return nil, err
		}
		a.items = items
		return a, nil
	case []byte:
		items, err := t.fromBytes(s)
		if err != nil {
			return nil, err
		}
		a.items = items
		return a, nil
	case pickle.ByteArray:
		items, err := t.fromBytes(s)
		if err != nil {
			return nil, err
		}
		a.items = items
		return a, nil
	}
	var src []any
	if _, vals, ok := decodeArray(v[1]); ok {
		src = vals
	} else if src, err = iterValues(v[1]); err != nil {
		return nil, err
	}
	for _, x := range src {
		c, err := t.convert(x)
		if err != nil {
			return nil, err
		}
		a.items = append(a.items, c)
	}
	return a, nil
}

// convert checks and normalises one item for the typecode.
func (t *arrayType) convert(x any) (any, error) {
	switch t.kind {
	case akFloat:
		if b, ok := x.(*big.Int); ok {
			f, _ := new(big.Float).SetInt(b).Float64()
			if math.IsInf(f, 0) {
				return nil, pyErr("OverflowError", "int too large to convert to float")
			}
			return t.roundFloat(f), nil
		}
		f, ok := asFloat(x)
		if !ok {
			return nil, typeErrorf("must be real number, not %s", pickle.TypeName(x))
		}
		return t.roundFloat(f), nil
	case akUnicode:
		s, ok := x.(string)
		if !ok || utf8.RuneCountInString(s) != 1 {
			return nil, typeErrorf("array item must be unicode character")
		}
		return s, nil
	case akChar:
		s, ok := asStr(x)
		if !ok || len(s) != 1 {
			return nil, typeErrorf("array item must be char")
		}
		return s, nil
	}
	var b *big.Int
	switch n := x.(type) {
	case *big.Int:
		b = n
	default:
		i, _, ok := asInt(x)
		if !ok {
			return nil, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(x))
		}
		b = big.NewInt(i)
	}
	if t.kind == akUnsigned && b.Sign() < 0 {
		if t.viaLong && !b.IsInt64() {
			return nil, pyErr("OverflowError", t.tooBig)
		}
		return nil, pyErr("OverflowError", t.negMsg)
	}
	if t.viaLong && !b.IsInt64() {
		return nil, pyErr("OverflowError", t.tooBig)
	}
	if t.kind == akSigned {
		if !b.IsInt64() {
			return nil, pyErr("OverflowError", t.tooBig)
		}
		i := b.Int64()
		if t.bits < 64 {
			if i > 1<<(t.bits-1)-1 {
				return nil, pyErr("OverflowError", t.overMsg)
			}
			if i < -(1 << (t.bits - 1)) {
				return nil, pyErr("OverflowError", t.underMsg)
			}
		}
		return i, nil
	}
	if !b.IsUint64() {
		return nil, pyErr("OverflowError", t.tooBig)
	}
	u := b.Uint64()
	if t.bits < 64 && u > 1<<t.bits-1 {
		return nil, pyErr("OverflowError", t.overMsg)
	}
	if u > math.MaxInt64 {
		return new(big.Int).SetUint64(u), nil
	}
	return int64(u), nil
}

func (t *arrayType) roundFloat(f float64) float64 {
	if t.bits == 32 {
		return float64(float32(f))
	}
	return f
}

// fromBytes is array.frombytes on a little-endian machine.
func (t *arrayType) fromBytes(p []byte) ([]any, error) {
	if len(p)%t.size != 0 {
		return nil, pyErr("ValueError", "bytes length not a multiple of item size")
	}
	if t.kind == akChar {
		out := make([]any, len(p))
		for i := range p {
			out[i] = string(p[i : i+1])
		}
		return out, nil
	}
	return decodeMachine(t.mformat, p)
}

// decodeMachine decodes raw items of an array._array_reconstructor machine format code.
func decodeMachine(mformat int64, p []byte) ([]any, error) {
	type mf struct {
		size   int
		signed bool
		float  bool
		utf    bool
		be     bool
	}
	formats := map[int64]mf{
		0: {1, false, false, false, false}, 1: {1, true, false, false, false},
		2: {2, false, false, false, false}, 3: {2, false, false, false, true},
		4: {2, true, false, false, false}, 5: {2, true, false, false, true},
		6: {4, false, false, false, false}, 7: {4, false, false, false, true},
		8: {4, true, false, false, false}, 9: {4, true, false, false, true},
		10: {8, false, false, false, false}, 11: {8, false, false, false, true},
		12: {8, true, false, false, false}, 13: {8, true, false, false, true},
		14: {4, false, true, false, false}, 15: {4, false, true, false, true},
		16: {8, false, true, false, false}, 17: {8, false, true, false, true},
		20: {4, false, false, true, false}, 21: {4, false, false, true, true},
	}
	f, ok := formats[mformat]
	if !ok {
		return nil, pyErr("ValueError", "third argument must be a valid machine format code.")
	}
	if len(p)%f.size != 0 {
		return nil, pyErr("ValueError", "bytes length not a multiple of item size")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if f.be {
		order = binary.BigEndian
	}
	out := make([]any, 0, len(p)/f.size)
	for i := 0; i < len(p); i += f.size {
		c := p[i : i+f.size]
		var u uint64
		switch f.size {
		case 1:
			u = uint64(c[0])
		case 2:
			u = uint64(order.Uint16(c))
		case 4:
			u = uint64(order.Uint32(c))
		case 8:
			u = order.Uint64(c)
		}
		switch {
		case f.utf:
			out = append(out, string(rune(u)))
		case f.float && f.size == 4:
			out = append(out, float64(math.Float32frombits(uint32(u))))
		case f.float:
			out = append(out, math.Float64frombits(u))
		case f.signed:
			shift := 64 - 8*uint(f.size)
			out = append(out, int64(u<<shift)>>shift)
		case u > math.MaxInt64:
			out = append(out, new(big.Int).SetUint64(u))
		default:
			out = append(out, int64(u))
		}
	}
	return out, nil
}

// decodeArray recognises a pickled array.array: array._array_reconstructor(array.array,
// typecode, mformat, bytes) (protocol 3+), array.array(typecode, list) (3.x at protocol 2) and
// array.array(typecode, str) (Python 2).
func decodeArray(v any) (string, []any, bool) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class.Module != "array" {
		return "", nil, false
	}
	switch {
	case o.Class.Name == "_array_reconstructor" && len(o.Args) == 4:
		tc, ok1 := asStr(o.Args[1])
		mf, _, ok2 := asInt(o.Args[2])
		raw, ok3 := o.Args[3].([]byte)
		if !ok1 || !ok2 || !ok3 {
			return "", nil, false
		}
		vals, err := decodeMachine(mf, raw)
		if err != nil {
			return "", nil, false
		}
		return tc, vals, true
	case o.Class.Name == "array" && len(o.Args) >= 1:
		tc, ok := asStr(o.Args[0])
		if !ok {
			return "", nil, false
		}
		if len(o.Args) == 1 {
			return tc, nil, true
		}
		t := arrayTypes[tc]
		switch s := o.Args[1].(type) {
		case pickle.Py2String, []byte:
			var raw []byte
			if ps, ok := s.(pickle.Py2String); ok {
				raw = []byte(ps)
			} else {
				raw = s.([]byte)
			}
			if t == nil {
				return "", nil, false
			}
			vals, err := t.fromBytes(raw)
			if err != nil {
				return "", nil, false
			}
			return tc, vals, true
		case string:
			vals, _ := iterValues(s)
			return tc, vals, true
		}
		vals, err := iterValues(o.Args[1])
		if err != nil {
			return "", nil, false
		}
		return tc, vals, true
	}
	return "", nil, false
}

// toBytes is array.tobytes on a little-endian machine.
func (t *arrayType) toBytes(items []any) []byte {
	out := make([]byte, 0, len(items)*t.size)
	for _, x := range items {
		switch t.kind {
		case akChar:
			out = append(out, x.(string)[0])
			continue
		case akUnicode:
			r, _ := utf8.DecodeRuneInString(x.(string))
			out = binary.LittleEndian.AppendUint32(out, uint32(r))
			continue
		case akFloat:
			f := x.(float64)
			if t.size == 4 {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(f)))
			} else {
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(f))
			}
			continue
		}
		var u uint64
		switch n := x.(type) {
		case int64:
			u = uint64(n)
		case pickle.Py2Int:
			u = uint64(n)
		case pickle.Py2Long:
			u = uint64(n)
		case *big.Int:
			u = n.Uint64()
		}
		switch t.size {
		case 1:
			out = append(out, byte(u))
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(u))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(u))
		default:
			out = binary.LittleEndian.AppendUint64(out, u)
		}
	}
	return out
}

// pickled returns items as a picklable array.array(typecode, raw bytes).
func (t *arrayType) pickled(items []any) any {
	return &pickle.Object{Class: pickle.Global{Module: "array", Name: "array"}, Kind: pickle.BuildReduce,
		Args: pickle.Tuple{t.code, t.toBytes(items)}}
}

// values returns a copy of the items.
func (a *Array) values() []any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.items)
}

// Typecode returns the array's typecode.
func (a *Array) Typecode() string { return a.t.code }

// Items returns a copy of the items.
func (a *Array) Items() []any { return a.values() }

// GetValue implements [ValueGetter]: the whole array.array.
func (a *Array) GetValue() (any, error) { return a.t.pickled(a.values()), nil }

// PyRepr implements [Reprer]: array('i', [1, 2]).
func (a *Array) PyRepr() string {
	items := a.values()
	if len(items) == 0 {
		return "array('" + a.t.code + "')"
	}
	if a.t.kind == akUnicode {
		var b strings.Builder
		for _, x := range items {
			b.WriteString(x.(string))
		}
		return "array('u', " + pickle.Repr(b.String()) + ")"
	}
	return "array('" + a.t.code + "', " + pickle.Repr(pickle.NewList(items...)) + ")"
}

// arrayMethods is the exposed list of the "Array" typeid (3.13's, plus Python 2's slices).
var arrayMethods = []string{"__len__", "__getitem__", "__setitem__", "__getslice__", "__setslice__"}

// ExposedMethods implements [Exposer].
func (a *Array) ExposedMethods() []string { return slices.Clone(arrayMethods) }

// CallMethod implements [Object].
func (a *Array) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "__setitem__":
		args = snapshotArgs(args, a, 1)
	case "__setslice__":
		args = snapshotArgs(args, a, 2)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch name {
	case "__len__":
		if err := posArgs(name, args, kwargs, 0, 0); err != nil {
			return nil, err
		}
		return int64(len(a.items)), nil
	case "__getitem__":
		if err := posArgs(name, args, kwargs, 1, 1); err != nil {
			return nil, err
		}
		if s, ok := asSlice(args[0]); ok {
			start, _, step, n, err := s.indices(int64(len(a.items)))
			if err != nil {
				return nil, err
			}
			out := make([]any, 0, n)
			for k, i := int64(0), start; k < n; k, i = k+1, i+step {
				out = append(out, a.items[i])
			}
			return a.t.pickled(out), nil
		}
		i, err := a.index(args[0], "array index out of range")
		if err != nil {
			return nil, err
		}
		return a.items[i], nil
	case "__setitem__":
		if err := posArgs(name, args, kwargs, 2, 2); err != nil {
			return nil, err
		}
		if s, ok := asSlice(args[0]); ok {
			start, stop, step, n, err := s.indices(int64(len(a.items)))
			if err != nil {
				return nil, err
			}
			vals, err := a.sliceValue(args[1])
			if err != nil {
				return nil, err
			}
			if step == 1 {
				if stop < start {
					stop = start
				}
				a.items = slices.Replace(a.items, int(start), int(stop), vals...)
				return nil, nil
			}
			if int64(len(vals)) != n {
				return nil, pyErr("ValueError", fmt.Sprintf("attempt to assign array of size %d to extended slice of size %d", len(vals), n))
			}
			for k, i := int64(0), start; k < n; k, i = k+1, i+step {
				a.items[i] = vals[k]
			}
			return nil, nil
		}
		i, err := a.index(args[0], "array assignment index out of range")
		if err != nil {
			return nil, err
		}
		v, err := a.t.convert(args[1])
		if err != nil {
			return nil, err
		}
		a.items[i] = v
		return nil, nil
	case "__getslice__", "__setslice__":
		want := 2
		if name == "__setslice__" {
			want = 3
		}
		if err := posArgs(name, args, kwargs, want, want); err != nil {
			return nil, err
		}
		i, _, ok1 := asInt(args[0])
		j, _, ok2 := asInt(args[1])
		if !ok1 || !ok2 {
			return nil, typeErrorf("an integer is required")
		}
		n := int64(len(a.items))
		i, j = max(i, 0), max(j, 0)
		i, j = min(i, n), min(j, n)
		if j < i {
			j = i
		}
		if name == "__getslice__" {
			return a.t.pickled(slices.Clone(a.items[i:j])), nil
		}
		vals, err := a.sliceValue(args[2])
		if err != nil {
			return nil, err
		}
		a.items = slices.Replace(a.items, int(i), int(j), vals...)
		return nil, nil
	}
	return nil, unknownMethod("array.array", name)
}

// index normalises an item index.
func (a *Array) index(v any, outOfRange string) (int, error) {
	if _, _, ok := asInt(v); !ok {
		return 0, typeErrorf("array indices must be integers")
	}
	return listIndex(v, len(a.items), outOfRange)
}

// sliceValue returns the items of an array assigned to a slice: it must be an array of the
// same typecode (or a live reference to this or another shared Array).
func (a *Array) sliceValue(v any) ([]any, error) {
	if r, ok := v.(*Ref); ok {
		if o, ok := r.Object().(*Array); ok {
			if o == a {
				return slices.Clone(a.items), nil
			}
			if o.t != a.t {
				return nil, typeErrorf("bad argument type for built-in operation")
			}
			return o.values(), nil
		}
	}
	tc, vals, ok := decodeArray(v)
	if !ok {
		return nil, typeErrorf("can only assign array (not \"%s\") to array slice", pickle.TypeName(v))
	}
	if tc != a.t.code {
		return nil, typeErrorf("bad argument type for built-in operation")
	}
	out := make([]any, len(vals))
	for i, x := range vals {
		c, err := a.t.convert(x)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}
