package pickle

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// marshalHook is set by the typed-marshal code (marshal.go): it converts a
// Go value the core does not know (structs, maps, slices, pointers...) into a
// value the encoder understands.
var marshalHook func(v any) (any, error)

// DefaultProtocol is the protocol Marshal and a new Encoder use: 4, the
// default of CPython 3.8 and later.
const DefaultProtocol = 4

// HighestProtocol is the highest protocol the encoder writes.
const HighestProtocol = 5

// maxTextIntBits bounds the integers written in decimal (protocols 0 and 1):
// the conversion is superlinear (CPython 3.11+ refuses more than 4300 digits).
const maxTextIntBits = 1 << 19

const (
	frameSizeTarget = 64 * 1024
	frameSizeMin    = 4
	frameHeaderSize = 9
	batchSize       = 1000
)

var encPool = sync.Pool{New: func() any { return NewEncoder(nil) }}

// Marshal returns the pickle of v at protocol 4 (DefaultProtocol).
// Value-model values (see the package documentation) are written as the
// Python values they stand for; Go bool, integer, float, complex and string
// kinds, []byte, []any and map[string]any as bool, int, float, complex, str,
// bytes, list and dict. Other Go values are converted first:
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
//     null); a nil []byte becomes empty bytes.
//   - a nil pointer or interface becomes None; a non-nil one is followed.
//   - named bool, integer, float, complex and string types become bool, int,
//     float, complex and str; uint64 values past MaxInt64 become Python ints
//     through *big.Int. big.Int becomes int, big.Rat a fractions.Fraction.
//   - time.Time becomes an aware datetime.datetime (see [DateTimeOf]).
//   - a value implementing [Marshaler] (also through its address when it is
//     addressable) is replaced by the result of MarshalPickle.
//
// Shared pointers, lists and dicts are written once and referenced through
// the memo, so Python sees the same object; Go pointer cycles through
// structs are reported as an error rather than followed forever.
func Marshal(v any) ([]byte, error) {
	e := encPool.Get().(*Encoder)
	e.proto, e.py2 = DefaultProtocol, false
	buf, err := e.AppendEncode(e.scratch[:0], v)
	var out []byte
	if err == nil {
		out = bytes.Clone(buf) // one allocation of the exact size, not zeroed
	}
	e.scratch = buf[:0]
	if cap(e.scratch) > 4<<20 {
		e.scratch = nil
	}
	e.buf = nil
	encPool.Put(e)
	return out, err
}

// An Encoder writes pickles to an output stream, one per Encode call. Each
// pickle has its own memo. An Encoder is not safe for concurrent use; reuse
// one (or AppendEncode) to avoid allocations.
type Encoder struct {
	w     io.Writer
	proto int
	py2   bool

	buf        []byte
	scratch    []byte // Marshal's reused output buffer
	frameStart int    // index in buf of the current frame's header, -1 if none
	framing    bool
	memo       ptrTable // containers by identity (memoKey)
	strMemo    ptrTable // strings by identity, as CPython's memo (strKey)
	globalMemo map[Global]int
	modMemo    map[string]int
	marshaled  map[unsafe.Pointer]any
	nmemo      int
	depth      int
	valueOnly  bool // SetValueModelOnly
	ngets      int  // memo reads (for EncodePickled)
}

// strKey identifies a string by identity (its bytes' address and length),
// as CPython's memo does by id(): the same string value reached twice is
// written once, equal strings made separately are written each time. It
// costs no hashing of the contents. The pointer keeps the string alive while
// it is in the memo, so an address cannot be reused by another string during
// an Encode.
type strKey struct {
	p unsafe.Pointer
	n int // len<<1 | 1 for the Python 2 str namespace
}

func (k strKey) ptr() (unsafe.Pointer, int) { return k.p, k.n }

// memoKey identifies a mutable (or tuple) value by its address and kind.
type memoKey struct {
	p unsafe.Pointer
	n int // tuple length, or a negative kind tag
}

const (
	keyList = -1 - iota
	keyDict
	keySet
	keyObject
	keyFrozen
	keySlice
	keyMap
	keyByteArray
	keyBytes
)

// NewEncoder returns an encoder writing to w at protocol 4.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, proto: DefaultProtocol, frameStart: -1}
}

// Reset makes e write to w, keeping its settings and buffers.
func (e *Encoder) Reset(w io.Writer) { e.w = w }

// SetProtocol sets the pickle protocol, 0 to 5 (values outside are clamped).
// In Python 2 mode the protocol is at most 2.
func (e *Encoder) SetProtocol(p int) {
	e.proto = min(max(p, 0), HighestProtocol)
}

// SetPython2 sets Python 2 mode: the target is a Python 2 peer. The protocol
// is at most 2 (2 unless set lower), globals use Python 2 module names, and
// ASCII strings and []byte are written as Python 2 str (STRING, BINSTRING or
// SHORT_BINSTRING); other strings as unicode.
func (e *Encoder) SetPython2(on bool) {
	e.py2 = on
	if on && e.proto > 2 {
		e.proto = 2
	}
}

// Encode writes the pickle of v to the stream with a single Write call.
func (e *Encoder) Encode(v any) error {
	buf, err := e.AppendEncode(e.buf[:0], v)
	e.buf = buf[:0]
	if err != nil {
		return err
	}
	_, err = e.w.Write(buf)
	if cap(e.buf) > 4<<20 {
		e.buf = nil
	}
	return err
}

// AppendEncode appends the pickle of v to dst and returns the extended
// buffer; nothing is written to the stream.
func (e *Encoder) AppendEncode(dst []byte, v any) (out []byte, err error) {
	proto := e.proto
	if e.py2 && proto > 2 {
		proto = 2
	}
	e.resetMemo()
	e.buf = dst
	e.frameStart = -1
	e.framing = false
	e.depth = 0
	savedProto := e.proto
	e.proto = proto
	defer func() {
		e.proto = savedProto
		if r := recover(); r != nil {
			ee, ok := r.(encodeError)
			if !ok {
				panic(r)
			}
			out, err = dst, ee.err
		}
	}()
	if proto >= 2 {
		e.buf = append(e.buf, opProto, byte(proto))
	}
	if proto >= 4 {
		e.framing = true
	}
	e.save(v)
	e.write1(opStop)
	e.commitFrame()
	e.framing = false
	return e.buf, nil
}

type encodeError struct{ err error }

func (e *Encoder) fail(err error) { panic(encodeError{err}) }

func (e *Encoder) resetMemo() {
	e.memo.reset()
	e.strMemo.reset()
	if e.globalMemo == nil || len(e.globalMemo) > 1<<16 {
		e.globalMemo = make(map[Global]int)
	} else {
		clear(e.globalMemo)
	}
	if e.modMemo == nil || len(e.modMemo) > 1<<16 {
		e.modMemo = make(map[string]int)
	} else {
		clear(e.modMemo)
	}
	e.marshaled = nil
	e.nmemo = 0
	if e.py2 {
		// Python 2's cPickle numbers its memo from 1
		e.nmemo = 1
	}
}

// ---- output and framing ----

// ensureFrame opens a frame when framing and none is open.
func (e *Encoder) ensureFrame() {
	if e.framing && e.frameStart < 0 {
		e.frameStart = len(e.buf)
		e.buf = append(e.buf, opFrame, 0, 0, 0, 0, 0, 0, 0, 0)
	}
}

func (e *Encoder) write1(c byte) {
	e.ensureFrame()
	e.buf = append(e.buf, c)
}

func (e *Encoder) write2(a, b byte) {
	e.ensureFrame()
	e.buf = append(e.buf, a, b)
}

func (e *Encoder) write(p []byte) {
	e.ensureFrame()
	e.buf = append(e.buf, p...)
}

func (e *Encoder) writeString(s string) {
	e.ensureFrame()
	e.buf = appendLarge(e.buf, s)
}

// commitFrame closes the current frame: it writes its length, or removes
// the header when the frame is shorter than 4 bytes, as CPython does.
func (e *Encoder) commitFrame() {
	if e.frameStart < 0 {
		return
	}
	start := e.frameStart
	e.frameStart = -1
	n := len(e.buf) - start - frameHeaderSize
	if n >= frameSizeMin {
		binary.LittleEndian.PutUint64(e.buf[start+1:], uint64(n))
		return
	}
	copy(e.buf[start:], e.buf[start+frameHeaderSize:])
	e.buf = e.buf[:len(e.buf)-frameHeaderSize]
}

// boundary commits a frame once it reached the target size.
func (e *Encoder) boundary() {
	if e.frameStart >= 0 && len(e.buf)-e.frameStart >= frameSizeTarget {
		e.commitFrame()
	}
}

// writeData writes an opcode header and a payload; a large payload goes
// outside any frame, as CPython writes it.
func (e *Encoder) writeData(header []byte, data string) {
	if e.framing && len(data) >= frameSizeTarget {
		e.commitFrame()
		e.buf = append(e.buf, header...)
		e.buf = appendLarge(e.buf, data)
		return
	}
	e.write(header)
	e.writeString(data)
}

// appendLarge is append(dst, s...) that copies a 1-2 MiB s in two halves:
// the runtime's memmove switches to non-temporal stores at 1 MiB, which
// makes a copy into a reused (cached) buffer such as Marshal's scratch twice
// as slow as two half copies (24 vs 44 us per MiB on the benchmark machine;
// into a fresh allocation the two cost the same).
func appendLarge(dst []byte, s string) []byte {
	if len(s) < 1<<20 || len(s) >= 2<<20 {
		return append(dst, s...)
	}
	if cap(dst)-len(dst) < len(s) {
		dst = slices.Grow(dst, len(s))
	}
	h := len(s) / 2
	return append(append(dst, s[:h]...), s[h:]...)
}

// ---- memo ----

func (e *Encoder) memoizeOp() int {
	idx := e.nmemo
	e.nmemo++
	switch {
	case e.proto >= 4:
		e.write1(opMemoize)
	case e.proto >= 1:
		if idx < 256 {
			e.write2(opBinput, byte(idx))
		} else {
			var b [5]byte
			b[0] = opLongBinput
			binary.LittleEndian.PutUint32(b[1:], uint32(idx))
			e.write(b[:])
		}
	default:
		e.write1(opPut)
		e.ensureFrame()
		e.buf = strconv.AppendInt(e.buf, int64(idx), 10)
		e.buf = append(e.buf, '\n')
	}
	return idx
}

func (e *Encoder) memoize(k memoKey) { e.memo.put(k.p, k.n, e.memoizeOp()) }

func (e *Encoder) get(idx int) {
	e.ngets++
	switch {
	case e.proto >= 1:
		if idx < 256 {
			e.write2(opBinget, byte(idx))
		} else {
			var b [5]byte
			b[0] = opLongBinget
			binary.LittleEndian.PutUint32(b[1:], uint32(idx))
			e.write(b[:])
		}
	default:
		e.write1(opGet)
		e.ensureFrame()
		e.buf = strconv.AppendInt(e.buf, int64(idx), 10)
		e.buf = append(e.buf, '\n')
	}
}

func (e *Encoder) memoGet(k memoKey) bool {
	if idx, ok := e.memo.get(k.p, k.n); ok {
		e.get(idx)
		return true
	}
	return false
}

// ---- values ----

func (e *Encoder) save(v any) {
	e.boundary()
	e.depth++
	if e.depth > maxEncodeDepth {
		e.fail(&UnsupportedValueError{Str: "nesting too deep (a tuple or slice containing itself?)"})
	}
	switch x := v.(type) {
	case nil:
		e.write1(opNone)
	case string:
		e.saveStr(x)
	case int64:
		e.saveInt(x)
	case int:
		e.saveInt(int64(x))
	case bool:
		e.saveBool(x)
	case float64:
		e.saveFloat(x)
	case Tuple:
		e.saveTuple(x)
	case *List:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveList(memoKey{unsafe.Pointer(x), keyList}, x.Items)
	case *Dict:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveDict(x)
	case []byte:
		e.saveBytes(x)
	case Py2String:
		e.savePy2Str(string(x))
	case Py2Int:
		e.savePy2Int(int64(x))
	case Py2Long:
		e.savePy2Long(int64(x))
	case *big.Int:
		if x == nil {
			e.write1(opNone)
		} else if x.IsInt64() {
			e.saveInt(x.Int64())
		} else {
			e.saveBig(x)
		}
	case Global:
		e.saveGlobal(x)
	case *Object:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveObject(x)
	case *Set:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveSet(x)
	case FrozenSet:
		e.saveFrozenSet(x)
	case ByteArray:
		e.saveByteArray(x)
	case complex128:
		e.saveComplex(x)
	case []any:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveList(memoKey{unsafe.Pointer(unsafe.SliceData(x)), keySlice}, x)
	case map[string]any:
		if x == nil {
			e.write1(opNone)
			break
		}
		e.saveMap(x)
	case int32:
		e.saveInt(int64(x))
	case int16:
		e.saveInt(int64(x))
	case int8:
		e.saveInt(int64(x))
	case uint8:
		e.saveInt(int64(x))
	case uint16:
		e.saveInt(int64(x))
	case uint32:
		e.saveInt(int64(x))
	case uint:
		e.saveUint(uint64(x))
	case uint64:
		e.saveUint(x)
	case uintptr:
		e.saveUint(uint64(x))
	case float32:
		e.saveFloat(float64(x))
	case complex64:
		e.saveComplex(complex128(x))
	case Pickled:
		e.savePickled(x)
	case Marshaler:
		if e.valueOnly {
			e.fail(&UnsupportedTypeError{reflect.TypeOf(v)})
		}
		e.saveMarshaler(x)
	default:
		if marshalHook == nil || e.valueOnly {
			e.fail(&UnsupportedTypeError{reflect.TypeOf(v)})
		}
		r, err := marshalHook(v)
		if err != nil {
			e.fail(err)
		}
		e.save(r)
	}
	e.depth--
}

// UnsupportedValueError is returned by the encoder for a value it cannot
// encode (a cycle without a list, dict, set or object in it, a NaN-free
// contradiction...).
type UnsupportedValueError struct {
	Str string
}

func (e *UnsupportedValueError) Error() string { return "pickle: unsupported value: " + e.Str }

func (e *Encoder) saveMarshaler(m Marshaler) {
	var key unsafe.Pointer
	rv := reflect.ValueOf(m)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		key = rv.UnsafePointer()
		if r, ok := e.marshaled[key]; ok {
			e.save(r)
			return
		}
	}
	r, err := m.MarshalPickle()
	if err != nil {
		e.fail(err)
	}
	if _, again := r.(Marshaler); again && r == any(m) {
		e.fail(&UnsupportedValueError{Str: "MarshalPickle returned its receiver"})
	}
	if key != nil {
		if e.marshaled == nil {
			e.marshaled = map[unsafe.Pointer]any{}
		}
		e.marshaled[key] = r
	}
	e.save(r)
}

func (e *Encoder) saveBool(b bool) {
	if e.proto >= 2 {
		if b {
			e.write1(opNewtrue)
		} else {
			e.write1(opNewfalse)
		}
		return
	}
	if b {
		e.writeString("I01\n")
	} else {
		e.writeString("I00\n")
	}
}

func (e *Encoder) saveInt(i int64) {
	if e.proto >= 1 {
		switch {
		case i >= 0 && i <= 0xff:
			e.write2(opBinint1, byte(i))
			return
		case i >= 0 && i <= 0xffff:
			e.ensureFrame()
			e.buf = append(e.buf, opBinint2, byte(i), byte(i>>8))
			return
		case i >= math.MinInt32 && i <= math.MaxInt32:
			e.ensureFrame()
			e.buf = append(e.buf, opBinint, byte(i), byte(i>>8), byte(i>>16), byte(i>>24))
			return
		}
	}
	if e.proto >= 2 {
		e.saveLong1(i)
		return
	}
	e.ensureFrame()
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		e.buf = append(e.buf, opInt)
		e.buf = strconv.AppendInt(e.buf, i, 10)
		e.buf = append(e.buf, '\n')
		return
	}
	e.saveLongText(i)
}

// savePy2Int writes a Python 2 int as Python 2 does: the INT text form when
// it is outside the 32-bit range (at every protocol), else as an int.
func (e *Encoder) savePy2Int(i int64) {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		e.saveInt(i)
		return
	}
	e.ensureFrame()
	e.buf = append(e.buf, opInt)
	e.buf = strconv.AppendInt(e.buf, i, 10)
	e.buf = append(e.buf, '\n')
}

// savePy2Long writes a Python 2 long as Python 2 does: LONG1 at protocol 2
// and above, the LONG text form below.
func (e *Encoder) savePy2Long(i int64) {
	if e.proto >= 2 {
		e.saveLong1(i)
		return
	}
	e.ensureFrame()
	e.saveLongText(i)
}

// saveLongText writes the LONG text form (the frame is ensured).
func (e *Encoder) saveLongText(i int64) {
	e.buf = append(e.buf, opLong)
	e.buf = strconv.AppendInt(e.buf, i, 10)
	e.buf = append(e.buf, 'L', '\n')
}

// long1Len is the number of bytes of i's minimal two's complement form
// (none for 0, as pickle.encode_long).
func long1Len(i int64) int {
	if i == 0 {
		return 0
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	n := 8
	for n > 1 {
		last, prev := b[n-1], b[n-2]
		if last == 0 && prev&0x80 == 0 || last == 0xff && prev&0x80 != 0 {
			n--
			continue
		}
		break
	}
	return n
}

// saveLong1 writes i with LONG1 and the minimal two's complement bytes.
func (e *Encoder) saveLong1(i int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	n := long1Len(i)
	e.ensureFrame()
	e.buf = append(e.buf, opLong1, byte(n))
	e.buf = append(e.buf, b[:n]...)
}

func (e *Encoder) saveUint(u uint64) {
	if u <= math.MaxInt64 {
		e.saveInt(int64(u))
		return
	}
	e.saveBig(new(big.Int).SetUint64(u))
}

// encodeLong returns the minimal little-endian two's complement bytes of b,
// as pickle.encode_long.
func encodeLong(b *big.Int) []byte {
	if b.Sign() == 0 {
		return nil
	}
	nbytes := b.BitLen()/8 + 1
	var mag *big.Int
	if b.Sign() < 0 {
		mag = new(big.Int).Lsh(big.NewInt(1), uint(8*nbytes))
		mag.Add(mag, b)
	} else {
		mag = b
	}
	be := mag.FillBytes(make([]byte, nbytes))
	out := make([]byte, nbytes)
	for i := range be {
		out[nbytes-1-i] = be[i]
	}
	if b.Sign() < 0 && nbytes > 1 && out[nbytes-1] == 0xff && out[nbytes-2]&0x80 != 0 {
		out = out[:nbytes-1]
	}
	return out
}

func (e *Encoder) saveBig(b *big.Int) {
	if e.proto >= 2 {
		p := encodeLong(b)
		e.ensureFrame()
		if len(p) < 256 {
			e.buf = append(e.buf, opLong1, byte(len(p)))
		} else {
			e.buf = append(e.buf, opLong4)
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(p)))
		}
		e.buf = append(e.buf, p...)
		return
	}
	if b.BitLen() > maxTextIntBits {
		e.fail(&UnsupportedValueError{Str: "int too large for the text form of protocols 0 and 1"})
	}
	e.ensureFrame()
	e.buf = append(e.buf, opLong)
	e.buf = b.Append(e.buf, 10)
	e.buf = append(e.buf, 'L', '\n')
}

func (e *Encoder) saveFloat(f float64) {
	e.ensureFrame()
	if e.proto >= 1 {
		e.buf = append(e.buf, opBinfloat)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
		return
	}
	e.buf = append(e.buf, opFloat)
	e.buf = append(e.buf, FloatRepr(f)...)
	e.buf = append(e.buf, '\n')
}

func (e *Encoder) saveComplex(c complex128) {
	e.saveGlobal(gComplex)
	if e.proto >= 2 {
		e.saveFloat(real(c))
		e.saveFloat(imag(c))
		e.write1(opTuple2)
	} else {
		e.write1(opMark)
		e.saveFloat(real(c))
		e.saveFloat(imag(c))
		e.write1(opTuple)
	}
	e.memoizeOp()
	e.write1(opReduce)
	e.memoizeOp()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (e *Encoder) saveStr(s string) {
	if e.py2 && isASCII(s) {
		e.savePy2Str(s)
		return
	}
	key := strKey{unsafe.Pointer(unsafe.StringData(s)), len(s) << 1}
	if len(s) == 0 {
		key.p = nil // '' is one object in CPython
	}
	if idx, ok := e.strMemo.get(key.ptr()); ok {
		e.get(idx)
		return
	}
	e.writeUnicode(s)
	e.strMemo.put(key.p, key.n, e.memoizeOp())
}

// writeCounted writes s as the argument of a length-prefixed opcode: op1
// with a 1-byte length when s is shorter than 256 bytes (op1 0: no such
// form), else op4 with a 4-byte length up to max4, else op8 with an 8-byte
// length (op8 0: no such form, and it reports false).
func (e *Encoder) writeCounted(s string, op1, op4, op8 byte, max4 uint64) bool {
	n := len(s)
	switch {
	case op1 != 0 && n < 256:
		e.ensureFrame()
		e.buf = append(e.buf, op1, byte(n))
		e.buf = append(e.buf, s...)
	case uint64(n) <= max4:
		var h [5]byte
		h[0] = op4
		binary.LittleEndian.PutUint32(h[1:], uint32(n))
		e.writeData(h[:], s)
	case op8 != 0:
		var h [9]byte
		h[0] = op8
		binary.LittleEndian.PutUint64(h[1:], uint64(n))
		e.writeData(h[:], s)
	default:
		return false
	}
	return true
}

func (e *Encoder) writeUnicode(s string) {
	switch {
	case e.proto >= 4:
		e.writeCounted(s, opShortBinunicode, opBinunicode, opBinunicode8, math.MaxUint32)
	case e.proto >= 1:
		if !e.writeCounted(s, 0, opBinunicode, 0, math.MaxUint32) {
			e.fail(&UnsupportedValueError{Str: "str longer than 4 GiB needs protocol 4"})
		}
	default:
		e.ensureFrame()
		e.buf = append(e.buf, opUnicode)
		e.buf = appendRawUnicodeEscape(e.buf, s)
		e.buf = append(e.buf, '\n')
	}
}

// appendRawUnicodeEscape encodes WTF-8 text as CPython's pickler does for the
// UNICODE opcode: raw-unicode-escape, also escaping \, NUL, \n, \r and \x1a.
func appendRawUnicodeEscape(out []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, n := decodeWTF8(s[i:])
		i += n
		switch {
		case r >= 0x10000:
			out = append(out, '\\', 'U')
			out = appendHex(out, uint32(r), 8)
		case r >= 0x100 || r == '\\' || r == 0 || r == '\n' || r == '\r' || r == 0x1a:
			out = append(out, '\\', 'u')
			out = appendHex(out, uint32(r), 4)
		default:
			out = append(out, byte(r))
		}
	}
	return out
}

func appendHex(out []byte, v uint32, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		out = append(out, hexDigits[(v>>(4*uint(i)))&15])
	}
	return out
}

// savePy2Str writes a Python 2 str at protocols 0 to 2, and a str after.
func (e *Encoder) savePy2Str(s string) {
	if e.proto >= 3 {
		if !utf8.ValidString(s) {
			// not text: Python 3 would have decoded it as latin-1
			b := make([]byte, 0, len(s)*2)
			for i := 0; i < len(s); i++ {
				b = utf8.AppendRune(b, rune(s[i]))
			}
			s = string(b)
		}
		e.saveStr(s)
		return
	}
	key := strKey{unsafe.Pointer(unsafe.StringData(s)), len(s)<<1 | 1}
	if len(s) == 0 {
		key.p = nil
	}
	if idx, ok := e.strMemo.get(key.ptr()); ok {
		e.get(idx)
		return
	}
	switch {
	case e.proto >= 1:
		if !e.writeCounted(s, opShortBinstring, opBinstring, 0, math.MaxInt32) {
			e.fail(&UnsupportedValueError{Str: "Python 2 str longer than 2 GiB"})
		}
	default:
		e.ensureFrame()
		e.buf = append(e.buf, opString)
		e.buf = append(e.buf, py2StrRepr(s)...)
		e.buf = append(e.buf, '\n')
	}
	e.strMemo.put(key.p, key.n, e.memoizeOp())
}

// py2StrRepr is Python 2's repr(str).
func py2StrRepr(s string) string {
	r := bytesRepr([]byte(s))
	return r[1:]
}

func (e *Encoder) saveBytes(b []byte) {
	if e.py2 {
		e.savePy2Str(string(b))
		return
	}
	if len(b) > 0 && e.proto >= 3 {
		if e.memoGet(memoKey{unsafe.Pointer(unsafe.SliceData(b)), keyBytes - len(b)}) {
			return
		}
	}
	switch {
	case e.proto >= 3:
		var op8 byte
		if e.proto >= 4 {
			op8 = opBinbytes8
		}
		if !e.writeCounted(unsafe.String(unsafe.SliceData(b), len(b)), opShortBinbytes, opBinbytes, op8, math.MaxUint32) {
			e.fail(&UnsupportedValueError{Str: "bytes longer than 4 GiB needs protocol 4"})
		}
		if len(b) > 0 {
			e.memoize(memoKey{unsafe.Pointer(unsafe.SliceData(b)), keyBytes - len(b)})
		} else {
			e.memoizeOp()
		}
	case len(b) == 0:
		// bytes() via REDUCE, as CPython writes it
		e.saveGlobal(gBytes)
		e.emptyTuple()
		e.write1(opReduce)
		e.memoizeOp()
	default:
		// _codecs.encode(latin-1 text, 'latin1'), as CPython writes it
		e.saveGlobal(gEncode)
		text := make([]byte, 0, len(b)+8)
		for _, c := range b {
			text = utf8.AppendRune(text, rune(c))
		}
		if e.proto >= 2 {
			e.saveStrNoPy2(string(text))
			e.saveStrNoPy2("latin1")
			e.write1(opTuple2)
		} else {
			e.write1(opMark)
			e.saveStrNoPy2(string(text))
			e.saveStrNoPy2("latin1")
			e.write1(opTuple)
		}
		e.memoizeOp()
		e.write1(opReduce)
		e.memoizeOp()
	}
}

// saveStrNoPy2 writes a str even in Python 2 mode.
func (e *Encoder) saveStrNoPy2(s string) {
	py2 := e.py2
	e.py2 = false
	e.saveStr(s)
	e.py2 = py2
}

func (e *Encoder) emptyTuple() {
	if e.proto >= 1 {
		e.write1(opEmptyTuple)
	} else {
		e.write2(opMark, opTuple)
	}
}

func (e *Encoder) saveByteArray(b ByteArray) {
	if e.proto >= 5 {
		var h [9]byte
		h[0] = opBytearray8
		binary.LittleEndian.PutUint64(h[1:], uint64(len(b)))
		e.writeData(h[:], unsafe.String(unsafe.SliceData(b), len(b)))
		e.memoizeOp()
		return
	}
	e.saveGlobal(gByteArray)
	if len(b) == 0 {
		e.emptyTuple()
		e.write1(opReduce)
		e.memoizeOp()
		return
	}
	if e.proto >= 2 {
		e.saveBytesNoPy2(b)
		e.write1(opTuple1)
	} else {
		e.write1(opMark)
		e.saveBytesNoPy2(b)
		e.write1(opTuple)
	}
	e.memoizeOp()
	e.write1(opReduce)
	e.memoizeOp()
}

func (e *Encoder) saveBytesNoPy2(b []byte) {
	if e.py2 {
		e.savePy2Str(string(b))
		return
	}
	e.saveBytes(b)
}

func (e *Encoder) saveTuple(t Tuple) {
	n := len(t)
	if n == 0 {
		e.emptyTuple()
		return
	}
	key := memoKey{unsafe.Pointer(unsafe.SliceData(t)), n}
	if e.memoGet(key) {
		return
	}
	if n <= 3 && e.proto >= 2 {
		for _, x := range t {
			e.save(x)
		}
		if idx, ok := e.memo.get(key.p, key.n); ok {
			// the tuple is recursive: it was saved while saving its items
			for i := 0; i < n; i++ {
				e.write1(opPop)
			}
			e.get(idx)
			return
		}
		e.write1(opTuple1 + byte(n-1))
		e.memoize(key)
		return
	}
	e.write1(opMark)
	for _, x := range t {
		e.save(x)
	}
	if idx, ok := e.memo.get(key.p, key.n); ok {
		if e.proto >= 1 {
			e.write1(opPopMark)
		} else {
			for i := 0; i <= n; i++ {
				e.write1(opPop)
			}
		}
		e.get(idx)
		return
	}
	e.write1(opTuple)
	e.memoize(key)
}

func (e *Encoder) saveList(key memoKey, items []any) {
	if key.n == keySlice && cap(items) == 0 {
		// empty slices share one address: never treat them as the same list
		key.p = nil
	} else if e.memoGet(key) {
		return
	}
	if e.proto >= 1 {
		e.write1(opEmptyList)
	} else {
		e.write2(opMark, opList)
	}
	if key.p == nil {
		e.memoizeOp()
	} else {
		e.memoize(key)
	}
	e.appends(items)
}

// appends writes APPEND/APPENDS batches like CPython's _batch_appends.
func (e *Encoder) appends(items []any) {
	if e.proto == 0 {
		for _, x := range items {
			e.save(x)
			e.write1(opAppend)
		}
		return
	}
	for len(items) > 0 {
		n := min(len(items), batchSize)
		batch := items[:n]
		items = items[n:]
		if n == 1 {
			e.save(batch[0])
			e.write1(opAppend)
			continue
		}
		e.write1(opMark)
		for _, x := range batch {
			e.save(x)
		}
		e.write1(opAppends)
	}
}

func (e *Encoder) saveDict(d *Dict) {
	key := memoKey{unsafe.Pointer(d), keyDict}
	if e.memoGet(key) {
		return
	}
	if e.proto >= 1 {
		e.write1(opEmptyDict)
	} else {
		e.write2(opMark, opDict)
	}
	e.memoize(key)
	e.setitemsTable(&d.t)
}

func (e *Encoder) setitemsTable(t *table) {
	// iterate by index: the table may not change while we encode, but be
	// robust if a Marshaler mutates it.
	if e.proto == 0 {
		for i := 0; i < len(t.entries); i++ {
			if en := t.entries[i]; !en.dead() {
				e.save(en.key)
				e.save(en.value)
				e.write1(opSetitem)
			}
		}
		return
	}
	live := make([]int, 0, min(t.live, batchSize))
	flush := func() {
		if len(live) == 1 {
			en := t.entries[live[0]]
			e.save(en.key)
			e.save(en.value)
			e.write1(opSetitem)
		} else if len(live) > 1 {
			e.write1(opMark)
			for _, i := range live {
				en := t.entries[i]
				e.save(en.key)
				e.save(en.value)
			}
			e.write1(opSetitems)
		}
		live = live[:0]
	}
	for i := 0; i < len(t.entries); i++ {
		if !t.entries[i].dead() {
			live = append(live, i)
			if len(live) == batchSize {
				flush()
			}
		}
	}
	flush()
}

func (e *Encoder) setitemsList(items []DictItem) {
	if e.proto == 0 {
		for _, it := range items {
			e.save(it.Key)
			e.save(it.Value)
			e.write1(opSetitem)
		}
		return
	}
	for len(items) > 0 {
		n := min(len(items), batchSize)
		batch := items[:n]
		items = items[n:]
		if n == 1 {
			e.save(batch[0].Key)
			e.save(batch[0].Value)
			e.write1(opSetitem)
			continue
		}
		e.write1(opMark)
		for _, it := range batch {
			e.save(it.Key)
			e.save(it.Value)
		}
		e.write1(opSetitems)
	}
}

func (e *Encoder) saveMap(m map[string]any) {
	key := memoKey{*(*unsafe.Pointer)(unsafe.Pointer(&m)), keyMap}
	if e.memoGet(key) {
		return
	}
	if e.proto >= 1 {
		e.write1(opEmptyDict)
	} else {
		e.write2(opMark, opDict)
	}
	e.memoize(key)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]DictItem, len(keys))
	for i, k := range keys {
		items[i] = DictItem{k, m[k]}
	}
	e.setitemsList(items)
}

func (e *Encoder) saveSet(s *Set) {
	key := memoKey{unsafe.Pointer(s), keySet}
	if e.memoGet(key) {
		return
	}
	if e.proto < 4 {
		// set(list) via REDUCE, as CPython writes it
		e.saveGlobal(gSet)
		items := s.Items()
		if e.proto >= 2 {
			e.saveList(memoKey{unsafe.Pointer(unsafe.SliceData(items)), keySlice}, items)
			e.write1(opTuple1)
		} else {
			e.write1(opMark)
			e.saveList(memoKey{unsafe.Pointer(unsafe.SliceData(items)), keySlice}, items)
			e.write1(opTuple)
		}
		e.memoizeOp()
		e.write1(opReduce)
		e.memoize(key)
		return
	}
	e.write1(opEmptySet)
	e.memoize(key)
	items := s.Items()
	for len(items) > 0 {
		n := min(len(items), batchSize)
		e.write1(opMark)
		for _, x := range items[:n] {
			e.save(x)
		}
		items = items[n:]
		e.write1(opAdditems)
	}
}

func (e *Encoder) saveFrozenSet(f FrozenSet) {
	var key memoKey
	if f.t != nil {
		key = memoKey{unsafe.Pointer(f.t), keyFrozen}
		if e.memoGet(key) {
			return
		}
	}
	items := f.Items()
	if e.proto < 4 {
		e.saveGlobal(gFrozenSet)
		if e.proto >= 2 {
			e.saveList(memoKey{unsafe.Pointer(unsafe.SliceData(items)), keySlice}, items)
			e.write1(opTuple1)
			e.memoizeOp()
		} else {
			e.write1(opMark)
			e.saveList(memoKey{unsafe.Pointer(unsafe.SliceData(items)), keySlice}, items)
			e.write1(opTuple)
			e.memoizeOp()
		}
		e.write1(opReduce)
		if f.t != nil {
			e.memoize(key)
		} else {
			e.memoizeOp()
		}
		return
	}
	e.write1(opMark)
	for _, x := range items {
		e.save(x)
	}
	if f.t != nil {
		if idx, ok := e.memo.get(key.p, key.n); ok {
			e.write1(opPopMark)
			e.get(idx)
			return
		}
	}
	e.write1(opFrozenset)
	if f.t != nil {
		e.memoize(key)
	} else {
		e.memoizeOp()
	}
}

func (e *Encoder) saveGlobal(g Global) {
	if idx, ok := e.globalMemo[g]; ok {
		e.get(idx)
		return
	}
	if e.proto >= 4 {
		// CPython memoizes strings by identity: the module names of Python
		// classes are one object per module (shared between globals), a
		// class's name is an object of its own.
		if idx, ok := e.modMemo[g.Module]; ok {
			e.get(idx)
		} else {
			e.writeUnicode(g.Module)
			e.modMemo[g.Module] = e.memoizeOp()
		}
		e.writeUnicode(g.Name)
		e.memoizeOp()
		e.write1(opStackGlobal)
	} else {
		w := g
		if e.proto <= 2 {
			w = toPy2Name(g)
		}
		if strings.ContainsRune(w.Module, '\n') || strings.ContainsRune(w.Name, '\n') {
			e.fail(&UnsupportedValueError{Str: "global name with a newline needs protocol 4: " + strconv.Quote(w.String())})
		}
		e.ensureFrame()
		e.buf = append(e.buf, opGlobal)
		e.buf = append(e.buf, w.Module...)
		e.buf = append(e.buf, '\n')
		e.buf = append(e.buf, w.Name...)
		e.buf = append(e.buf, '\n')
	}
	e.globalMemo[g] = e.memoizeOp()
}

var (
	gNewObj   = Global{"copyreg", "__newobj__"}
	gNewObjEx = Global{"copyreg", "__newobj_ex__"}
)

// saveArgs writes args as a tuple.
func (e *Encoder) saveArgs(args Tuple) {
	if len(args) == 0 {
		e.emptyTuple()
		return
	}
	e.saveTuple(args)
}

func (e *Encoder) saveObject(o *Object) {
	key := memoKey{unsafe.Pointer(o), keyObject}
	if e.memoGet(key) {
		return
	}
	switch o.Kind {
	case BuildNewObj:
		if e.proto >= 2 {
			e.saveGlobal(o.Class)
			e.saveArgs(o.Args)
			e.write1(opNewobj)
		} else {
			e.saveGlobal(gNewObj)
			args := make(Tuple, 0, len(o.Args)+1)
			args = append(append(args, o.Class), o.Args...)
			e.saveArgs(args)
			e.write1(opReduce)
		}
	case BuildNewObjEx:
		kw := o.Kwargs
		if kw == nil {
			kw = &Dict{}
		}
		if e.proto >= 4 {
			e.saveGlobal(o.Class)
			e.saveArgs(o.Args)
			e.save(kw)
			e.write1(opNewobjEx)
		} else {
			e.saveGlobal(gNewObjEx)
			e.saveArgs(Tuple{o.Class, o.Args, kw})
			e.write1(opReduce)
		}
	case BuildInst:
		e.write1(opMark)
		if e.proto >= 1 {
			e.saveGlobal(o.Class)
			for _, a := range o.Args {
				e.save(a)
			}
			e.write1(opObj)
		} else {
			for _, a := range o.Args {
				e.save(a)
			}
			g := toPy2Name(o.Class)
			if strings.ContainsRune(g.Module, '\n') || strings.ContainsRune(g.Name, '\n') {
				e.fail(&UnsupportedValueError{Str: "global name with a newline needs protocol 4"})
			}
			e.write1(opInst)
			e.writeString(g.Module + "\n" + g.Name + "\n")
		}
	case BuildReconstructor:
		e.saveGlobal(gReconstruc)
		args := make(Tuple, 0, 3)
		args = append(append(args, o.Class), o.Args...)
		e.saveArgs(args)
		e.write1(opReduce)
	default:
		if o.Callable != nil {
			e.save(o.Callable)
		} else {
			e.saveGlobal(o.Class)
		}
		e.saveArgs(o.Args)
		e.write1(opReduce)
	}
	if idx, ok := e.memo.get(key.p, key.n); ok {
		// the object was created while saving its arguments
		e.write1(opPop)
		e.get(idx)
		return
	}
	e.memoize(key)
	if len(o.ListItems) > 0 {
		e.appends(o.ListItems)
	}
	if len(o.DictItems) > 0 {
		e.setitemsList(o.DictItems)
	}
	if o.State != nil {
		e.save(o.State)
		e.write1(opBuild)
	}
}
