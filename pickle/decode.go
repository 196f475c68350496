package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// unmarshalHook is set by the typed-unmarshal code (unmarshal.go): it stores
// a decoded value-model value into the Go value rv points to.
var unmarshalHook func(value any, rv reflect.Value) error

// Unmarshal decodes the pickle in data and stores the result in the value
// pointed to by v. With v of type *any the result is the value model (see the
// package documentation). Bytes after the STOP opcode are ignored, as
// Python's pickle.loads ignores them. Unmarshal never calls or imports
// anything named in the pickle. Any other target is filled from the decoded
// value by these rules (the target type decides; [Convert] applies the same
// rules to a value-model value):
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
// the field, e.g. "items[3].name", and the offset just past the pickle. A
// shared container is converted once per target type (shared pointers stay
// shared); a cycle into a non-pointer Go type is an error.
func Unmarshal(data []byte, v any) error { return unmarshal(data, v, false) }

// UnmarshalOwned is [Unmarshal] for a caller that hands data over, as
// [bytes.NewBuffer] takes its slice: bytes, bytearray and str values of
// [OwnedShareMin] bytes or more share data's memory instead of being copied,
// so a large payload decodes with no allocation and no copy. The caller must
// not use data after the call (the decoded values own it, and strings
// require that it never changes), and any of those values kept alive keeps
// all of data alive. It is meant for buffers read for this one pickle, such
// as a large received frame (package connection reads frames of 64 KiB or
// more into buffers of their own for this).
func UnmarshalOwned(data []byte, v any) error { return unmarshal(data, v, true) }

// OwnedShareMin is the size from which [UnmarshalOwned] shares a value's
// bytes with its input; smaller values are copied, so that a small value
// kept for long does not keep a large input alive.
const OwnedShareMin = 512

func unmarshal(data []byte, v any, owned bool) error {
	d := decPool.Get().(*Decoder)
	d.buf, d.pos, d.base, d.err = data, 0, 0, nil
	d.limits = DefaultLimits
	d.owned = owned
	err := d.Decode(v)
	d.buf, d.owned = nil, false
	decPool.Put(d)
	return err
}

var decPool = sync.Pool{New: func() any { return new(Decoder) }}

// A Decoder reads and decodes pickles from an input stream. It buffers: it
// may read past the end of a pickle (see Buffered). A Decoder is not safe for
// concurrent use.
type Decoder struct {
	r    io.Reader
	buf  []byte // buf[pos:] is unread input
	pos  int
	base int64 // stream offset of buf[0]
	err  error // sticky read error

	limits         Limits
	reg            *Registry
	persistentLoad func(pid any) (any, error)
	ext            map[int32]Global

	// per-pickle state, reused
	stack []any
	depth []int32
	// stackHigh: the highest length the stack had before dropTo shrank it
	// without clearing the slots it gave up (popMark, TUPLE1-3):
	// the slots up to it may hold popped values, which the end of Decode
	// clears. Clearing them at each opcode instead cost 4% of decoding a
	// list of small dicts, in write barriers while the collector marks.
	stackHigh int
	marks     []int
	memo      []memoEntry
	sparse    map[int]memoEntry
	nmemo     int
	proto     int
	alloc     int64
	intern    *internCache // short strings seen before, boxed (kept across pickles)
	slab      slabs        // chunks for small values (slab.go); the leaf ones kept across pickles
	// sawClass: an opcode that can make an *Object ran (else the registry
	// has nothing to resolve)
	sawClass bool
	// owned: buf was handed over (UnmarshalOwned), bytes values may share it
	owned bool
	op    byte
	opPos int64
}

type memoEntry struct {
	v   any
	d   int32
	set bool
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, limits: DefaultLimits}
}

// SetRegistry makes the decoder turn objects of registered classes into
// their Go types.
func (d *Decoder) SetRegistry(r *Registry) { d.reg = r }

// SetLimits sets the limits for hostile input; zero fields keep their
// defaults.
func (d *Decoder) SetLimits(l Limits) { d.limits = l.withDefaults() }

// SetPersistentLoad sets the function called for the PERSID and BINPERSID
// opcodes with the persistent id (a string for PERSID); its result replaces
// the id. Without one, persistent ids are an error, as in Python.
func (d *Decoder) SetPersistentLoad(f func(pid any) (any, error)) { d.persistentLoad = f }

// SetExtension registers an extension code for the EXT1, EXT2 and EXT4
// opcodes, like Python's copyreg.add_extension. The table is empty by
// default, as is copyreg's.
func (d *Decoder) SetExtension(code int32, g Global) {
	if d.ext == nil {
		d.ext = map[int32]Global{}
	}
	d.ext[code] = g
}

// Buffered returns a reader of the data remaining in the Decoder's buffer.
func (d *Decoder) Buffered() io.Reader { return bytes.NewReader(d.buf[d.pos:]) }

// InputOffset returns the offset in the input stream of the next byte to
// decode.
func (d *Decoder) InputOffset() int64 { return d.base + int64(d.pos) }

// Decode reads the next pickle from its input and stores it in the value
// pointed to by v (see Unmarshal). At the end of the input it returns io.EOF.
func (d *Decoder) Decode(v any) error {
	if d.limits.MaxDepth == 0 {
		d.limits = d.limits.withDefaults()
	}
	if err := checkTarget(v); err != nil {
		return err
	}
	val, err := d.decodeValue()
	if err != nil {
		return err
	}
	err = store(val, v)
	if te, ok := err.(*UnmarshalTypeError); ok && te.Offset == 0 {
		// typed decoding runs on the decoded value, whose own position is
		// not kept: report the end of its pickle (just past STOP), as
		// encoding/json reports the offset after the value it read
		te.Offset = d.InputOffset()
	}
	return err
}

// checkTarget reports an *InvalidUnmarshalError unless v is a non-nil
// pointer.
func checkTarget(v any) error {
	switch p := v.(type) {
	case *any:
		if p == nil {
			return &InvalidUnmarshalError{reflect.TypeOf(v)}
		}
		return nil
	case nil:
		return &InvalidUnmarshalError{nil}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{rv.Type()}
	}
	return nil
}

// store stores the value-model value val into the non-nil pointer v (checked
// by checkTarget): the last step of Decode, Unmarshal and Convert.
func store(val any, v any) error {
	if p, ok := v.(*any); ok {
		*p = val
		return nil
	}
	if u, ok := v.(Unmarshaler); ok {
		return u.UnmarshalPickle(val)
	}
	rv := reflect.ValueOf(v)
	if unmarshalHook != nil {
		return unmarshalHook(val, rv)
	}
	return &UnmarshalTypeError{Value: TypeName(val), Type: rv.Type().Elem()}
}

// decodeValue decodes one pickle to the value model and resolves registered
// classes.
func (d *Decoder) decodeValue() (v any, err error) {
	if d.r != nil && d.pos >= len(d.buf) {
		// clean EOF between pickles
		if !d.fillAny() {
			if d.err == io.EOF {
				return nil, io.EOF
			}
			return nil, d.err
		}
	}
	v, err = d.run()
	if err != nil {
		return nil, err
	}
	if d.reg != nil && d.sawClass {
		return d.reg.resolve(v)
	}
	return v, nil
}

// classOps are the opcodes that can put an *Object (or a class) into the
// value; a pickle without any needs no Registry.resolve walk.
var classOps = func() (t [256]bool) {
	for _, op := range []byte{opGlobal, opStackGlobal, opExt1, opExt2, opExt4, opInst, opObj,
		opReduce, opNewobj, opNewobjEx, opBuild, opPersid, opBinpersid} {
		t[op] = true
	}
	return t
}()

// decodeError is the private panic type of the decoder.
type decodeError struct{ err error }

func (d *Decoder) fail(format string, args ...any) {
	panic(decodeError{&SyntaxError{Offset: d.opPos, Op: d.op, Msg: fmt.Sprintf(format, args...)}})
}

// run executes the pickle machine up to STOP.
func (d *Decoder) run() (result any, err error) {
	d.stack = d.stack[:0]
	d.depth = d.depth[:0]
	d.marks = d.marks[:0]
	d.memo = d.memo[:0] // cleared when the last pickle ended
	d.stackHigh = 0
	d.sawClass = false
	d.sparse = nil
	d.nmemo = 0
	d.proto = 0
	d.alloc = 0
	d.op = 0
	// a hint: for a stream, what is buffered may be only the start
	d.slab.startPickle(len(d.buf)-d.pos <= smallPickle)
	defer func() {
		if r := recover(); r != nil {
			de, ok := r.(decodeError)
			if !ok {
				panic(r)
			}
			result, err = nil, de.err
		}
		// keep the memo (it regrows by doubling otherwise) unless huge,
		// without keeping its values alive
		if cap(d.memo) > 1<<16 {
			d.memo = nil
		} else {
			clear(d.memo)
		}
		// the leaf slabs are kept for the next pickle (a small request then
		// takes a few slots, no allocation), but not after a large pickle;
		// the others never outlive their pickle (slab.go)
		d.slab.startPickle(false)
		if d.alloc > slabKeepMax {
			d.slab = slabs{}
		}
		if cap(d.stack) > 4096 {
			d.stack, d.depth = nil, nil
		} else {
			// what was ever pushed: dropTo leaves the items above the
			// new top (see stackHigh), pop clears its slot
			clear(d.stack[:max(d.stackHigh, len(d.stack))])
		}
	}()
	for {
		d.fast()
		d.opPos = d.base + int64(d.pos)
		d.op = 0
		if d.pos >= len(d.buf) && !d.fill(1) {
			d.fail("pickle data was truncated")
		}
		op := d.buf[d.pos]
		d.pos++
		d.op = op
		if classOps[op] {
			d.sawClass = true
		}
		if op == opStop {
			if len(d.stack) == 0 {
				d.fail("STOP with an empty stack")
			}
			return d.stack[len(d.stack)-1], nil
		}
		d.step(op)
	}
}

// fast runs opcodes for as long as they are of the kinds that make up most
// pickles (the dict and list building of a list of records, a manager
// request) and need nothing unusual: their argument bytes are in the
// buffer, no limit is reached, no error is possible. It stops at the first
// opcode that is not, which run then takes through step; step handles
// every case and every error (so d.op and d.opPos, which only errors read,
// are set there only). Running these in one loop, without step's call,
// switch and bookkeeping, took a third off the decoder's own instructions on a
// list of small dicts.
func (d *Decoder) fast() {
	buf, pos := d.buf, d.pos
loop:
	for pos < len(buf) {
		switch fastOps[buf[pos]] {
		case fBinget:
			if pos+1 < len(buf) {
				if i := int(buf[pos+1]); i < len(d.memo) {
					if e := &d.memo[i]; e.set {
						pos += 2
						d.push(e.v, e.d)
						continue
					}
				}
			}
		case fMemoize:
			// the dense memo's next index: an append
			if n := len(d.stack) - 1; n >= d.markBase() && d.nmemo == len(d.memo) && d.nmemo < d.limits.MaxMemo {
				d.memo = append(d.memo, memoEntry{d.stack[n], d.depth[n], true})
				d.nmemo++
				pos++
				continue
			}
		case fMark:
			if len(d.marks) < d.limits.MaxDepth {
				d.marks = append(d.marks, len(d.stack))
				pos++
				continue
			}
		case fBinint1:
			if pos+1 < len(buf) {
				d.push(int64(buf[pos+1]), 0)
				pos += 2
				continue
			}
		case fBinint2:
			if pos+2 < len(buf) {
				d.push(d.boxInt(int64(binary.LittleEndian.Uint16(buf[pos+1:]))), 0)
				pos += 3
				continue
			}
		case fBinint:
			if pos+4 < len(buf) {
				d.push(d.boxInt(int64(int32(binary.LittleEndian.Uint32(buf[pos+1:])))), 0)
				pos += 5
				continue
			}
		case fBinfloat:
			if pos+8 < len(buf) {
				d.push(d.boxFloat(math.Float64frombits(binary.BigEndian.Uint64(buf[pos+1:]))), 0)
				pos += 9
				continue
			}
		case fShortBinunicode:
			if pos+1 < len(buf) {
				n := int(buf[pos+1])
				if end := pos + 2 + n; end <= len(buf) && d.alloc+int64(n) <= d.limits.MaxAlloc {
					d.alloc += int64(n)
					d.push(d.str(buf[pos+2:end]), 0)
					pos = end
					continue
				}
			}
		case fEmptyDict:
			pos++
			d.push(d.newDict(), 1)
			continue
		case fEmptyList:
			pos++
			d.push(d.newList(), 1)
			continue
		case fConst:
			d.push(fastConsts[buf[pos]], 0)
			pos++
			continue
		case fSetitems:
			if d.fastSetItems() {
				pos++
				continue
			}
		}
		break loop
	}
	d.pos = pos
}

// The opcodes fast runs, numbered densely so that its switch compiles to a
// jump table (the opcodes' own values are too sparse for one: the switch
// was a chain of comparisons, a tenth of fast's instructions).
const (
	fSlow uint8 = iota // not one of them: step runs it
	fBinget
	fMemoize
	fMark
	fBinint1
	fBinint2
	fBinint
	fBinfloat
	fShortBinunicode
	fEmptyDict
	fEmptyList
	fConst // (), None, True, False: fastConsts has the value
	fSetitems
)

// fastConsts holds the value of each fConst opcode.
var fastConsts = [256]any{opEmptyTuple: emptyTuple, opNone: nil, opNewtrue: true, opNewfalse: false}

var fastOps = [256]uint8{
	opBinget: fBinget, opMemoize: fMemoize, opMark: fMark, opBinint1: fBinint1,
	opBinint2: fBinint2, opBinint: fBinint, opBinfloat: fBinfloat,
	opShortBinunicode: fShortBinunicode, opEmptyDict: fEmptyDict, opEmptyList: fEmptyList,
	opEmptyTuple: fConst, opNone: fConst, opNewtrue: fConst, opNewfalse: fConst,
	opSetitems: fSetitems,
}

// fastSetItems runs the SETITEMS that fills a new dict with at most
// slabMaxDict pairs of distinct string keys (the records of a list of
// dicts, the kwargs of a request) when no limit is reached; otherwise it
// changes nothing and reports false, and step runs the opcode. What it does
// is what popMark and setItems do on that path, accounting included; calling
// them instead, once the checks pass, cost a quarter more of the decoder's
// own instructions on a list of small dicts (their type switch, checks and
// accounting calls, all known to pass here).
func (d *Decoder) fastSetItems() bool {
	nm := len(d.marks)
	if nm == 0 {
		return false
	}
	m, base := d.marks[nm-1], 0
	if nm > 1 {
		base = d.marks[nm-2]
	}
	kv := d.stack[m:]
	if m-1 < base || len(kv) == 0 || len(kv)%2 != 0 || len(kv)/2 > slabMaxDict {
		return false
	}
	t, ok := d.stack[m-1].(*Dict)
	if !ok || t.t.entries != nil || !distinctStringKeys(kv) {
		return false
	}
	var dp int32
	for _, x := range d.depth[m:] {
		dp = max(dp, x)
	}
	dp = max(d.depth[m-1], dp+1)
	n := int64(len(kv)) * 32 // popMark's and setItems' accounting
	if int(dp) > d.limits.MaxDepth || d.alloc+n > d.limits.MaxAlloc {
		return false
	}
	d.alloc += n
	d.marks = d.marks[:nm-1]
	e := fillEntries(d.dictEntries(len(kv) / 2)[:len(kv)/2], kv)
	t.t.entries, t.t.live = e, len(e)
	d.depth[m-1] = dp
	d.dropTo(m)
	return true
}

// ---- input ----

// fillAny reads at least one more byte; false at EOF or on error (d.err).
func (d *Decoder) fillAny() bool {
	return d.fill(len(d.buf) - d.pos + 1)
}

// fill makes at least n unread bytes available. It grows the buffer only as
// bytes arrive, so a declared length is never trusted.
func (d *Decoder) fill(n int) bool {
	if len(d.buf)-d.pos >= n {
		return true
	}
	if d.r == nil || d.err != nil {
		return false
	}
	if int64(n) > d.limits.MaxAlloc {
		d.err = fmt.Errorf("pickle: input larger than the %d-byte limit", d.limits.MaxAlloc)
		return false
	}
	// move unread bytes to the front (values never alias the buffer)
	if d.pos > 0 {
		m := copy(d.buf, d.buf[d.pos:])
		d.base += int64(d.pos)
		d.buf = d.buf[:m]
		d.pos = 0
	}
	for len(d.buf) < n {
		if len(d.buf) == cap(d.buf) {
			grow := max(4096, len(d.buf))
			if grow > 1<<20 {
				grow = 1 << 20
			}
			nb := make([]byte, len(d.buf), len(d.buf)+grow)
			copy(nb, d.buf)
			d.buf = nb
		}
		m, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+m]
		if err != nil {
			if len(d.buf) >= n {
				if err != io.EOF {
					d.err = err
				}
				return true
			}
			d.err = err
			return false
		}
	}
	return true
}

func (d *Decoder) truncated() {
	if d.err != nil && d.err != io.EOF && d.err != io.ErrUnexpectedEOF {
		panic(decodeError{d.err})
	}
	d.fail("pickle data was truncated")
}

// read returns the next n bytes (aliasing the buffer until the next read).
func (d *Decoder) read(n int) []byte {
	if n < 0 {
		d.fail("negative length")
	}
	if len(d.buf)-d.pos < n && !d.fill(n) {
		d.truncated()
	}
	p := d.buf[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *Decoder) readByte() byte {
	if d.pos >= len(d.buf) && !d.fill(1) {
		d.truncated()
	}
	c := d.buf[d.pos]
	d.pos++
	return c
}

// readLength reads a declared length and checks it against the input that
// can possibly follow (in memory) and the allocation limit.
func (d *Decoder) readLength(size int) int {
	var n uint64
	p := d.read(size)
	switch size {
	case 1:
		n = uint64(p[0])
	case 4:
		n = uint64(binary.LittleEndian.Uint32(p))
	case 8:
		n = binary.LittleEndian.Uint64(p)
	}
	if n > uint64(d.limits.MaxAlloc) || d.r == nil && n > uint64(len(d.buf)-d.pos) {
		if d.r == nil {
			d.fail("pickle data was truncated (declared length %d)", n)
		}
		d.fail("declared length %d exceeds the limit", n)
	}
	d.account(int64(n))
	return int(n)
}

// readLine returns the bytes up to (not including) the next newline.
func (d *Decoder) readLine() []byte {
	for {
		if i := bytes.IndexByte(d.buf[d.pos:], '\n'); i >= 0 {
			p := d.buf[d.pos : d.pos+i]
			d.pos += i + 1
			d.account(int64(i))
			return p
		}
		if !d.fill(len(d.buf) - d.pos + 1) {
			if d.err == nil || d.err == io.EOF {
				d.fail("pickle data was truncated (no newline)")
			}
			d.truncated()
		}
	}
}

func (d *Decoder) account(n int64) {
	d.alloc += n
	if d.alloc > d.limits.MaxAlloc {
		d.fail("decoded value exceeds the %d-byte allocation limit", d.limits.MaxAlloc)
	}
}

// ---- stack ----

func (d *Decoder) push(v any, depth int32) {
	d.stack = append(d.stack, v)
	d.depth = append(d.depth, depth)
}

func (d *Decoder) top() int {
	n := len(d.stack) - 1
	if n < d.markBase() {
		d.fail("stack underflow")
	}
	return n
}

func (d *Decoder) markBase() int {
	if len(d.marks) == 0 {
		return 0
	}
	return d.marks[len(d.marks)-1]
}

func (d *Decoder) pop() (any, int32) {
	n := d.top()
	v, dp := d.stack[n], d.depth[n]
	d.stack[n] = nil
	d.stack = d.stack[:n]
	d.depth = d.depth[:n]
	return v, dp
}

// popMark pops the items above the last mark; the returned slices alias the
// stack and are valid until the next push.
func (d *Decoder) popMark() ([]any, int32) {
	if len(d.marks) == 0 {
		d.fail("could not find MARK")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	items := d.stack[m:]
	var dp int32
	for _, x := range d.depth[m:] {
		dp = max(dp, x)
	}
	d.dropTo(m)
	d.account(int64(len(items)) * 16)
	return items, dp
}

// dropTo shrinks the stack to n items without clearing the slots it gives
// up (its callers still read them); the end of Decode clears them, up to
// stackHigh.
func (d *Decoder) dropTo(n int) {
	d.stackHigh = max(d.stackHigh, len(d.stack))
	d.stack, d.depth = d.stack[:n], d.depth[:n]
}

func (d *Decoder) checkDepth(dp int32) int32 {
	if int(dp) > d.limits.MaxDepth {
		d.fail("nesting deeper than %d", d.limits.MaxDepth)
	}
	return dp
}

func copyItems(items []any) []any {
	out := make([]any, len(items))
	copy(out, items)
	return out
}

// ---- memo ----

func (d *Decoder) memoPut(idx int, v any, dp int32) {
	if idx < 0 {
		d.fail("negative memo index")
	}
	if idx < len(d.memo) {
		if !d.memo[idx].set {
			d.nmemo++
		}
		d.memo[idx] = memoEntry{v, dp, true}
	} else if idx == len(d.memo) {
		d.memo = append(d.memo, memoEntry{v, dp, true})
		d.nmemo++
	} else {
		if d.sparse == nil {
			d.sparse = map[int]memoEntry{}
		}
		if _, ok := d.sparse[idx]; !ok {
			d.nmemo++
		}
		d.sparse[idx] = memoEntry{v, dp, true}
	}
	if d.nmemo > d.limits.MaxMemo {
		d.fail("more than %d memo entries", d.limits.MaxMemo)
	}
}

func (d *Decoder) memoGet(idx int) {
	var e memoEntry
	if idx >= 0 && idx < len(d.memo) {
		e = d.memo[idx]
	} else if idx >= 0 && d.sparse != nil {
		e = d.sparse[idx]
	}
	if !e.set {
		d.fail("memo value not found at index %d", idx)
	}
	d.push(e.v, e.d)
}

func (d *Decoder) memoTop(idx int) {
	n := d.top()
	d.memoPut(idx, d.stack[n], d.depth[n])
}

// ---- text arguments ----

func (d *Decoder) parseIntText(s []byte, long bool) any {
	s = bytes.TrimSpace(s)
	if long && len(s) > 0 && (s[len(s)-1] == 'L' || s[len(s)-1] == 'l') {
		s = s[:len(s)-1]
	}
	if len(s) > d.limits.MaxIntDigits {
		d.fail("integer with more than %d digits", d.limits.MaxIntDigits)
	}
	str := string(s)
	if i, err := strconv.ParseInt(str, 10, 64); err == nil {
		return i
	}
	b, ok := new(big.Int).SetString(str, 0)
	if !ok {
		d.fail("invalid literal for int(): %q", str)
	}
	return normInt(b)
}

// py2Long decodes a LONG1 or LONG4 argument; the value is a Py2Long when
// it is in the 32-bit range and minimally encoded, as only Python 2 writes
// such a value (a long; Python 3 writes ints of that range with BININT).
func py2Long(p []byte) any {
	v := decodeLong(p)
	if i, ok := v.(int64); ok && i >= math.MinInt32 && i <= math.MaxInt32 && len(p) == long1Len(i) {
		return Py2Long(i)
	}
	return v
}

// normInt returns b as int64 when it fits.
func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// decodeLong decodes a little-endian two's complement integer (LONG1/LONG4).
func decodeLong(p []byte) any {
	n := len(p)
	if n == 0 {
		return int64(0)
	}
	if n <= 8 {
		var u uint64
		for i := n - 1; i >= 0; i-- {
			u = u<<8 | uint64(p[i])
		}
		if p[n-1]&0x80 != 0 && n < 8 {
			u |= ^uint64(0) << (8 * uint(n))
		}
		return int64(u)
	}
	be := make([]byte, n)
	for i := range p {
		be[n-1-i] = p[i]
	}
	b := new(big.Int).SetBytes(be)
	if p[n-1]&0x80 != 0 {
		b.Sub(b, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return normInt(b)
}

// escapeDecode implements Python's codecs.escape_decode for the STRING
// opcode (the decoder and the disassembler share it).
func escapeDecode(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("trailing \\ in string")
		}
		c = s[i]
		switch c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("invalid \\x escape at position %d", i-1)
			}
			h1, ok1 := unhex(s[i+1])
			h2, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("invalid \\x escape at position %d", i-1)
			}
			out = append(out, h1<<4|h2)
			i += 2
		default:
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendWTF8 appends the code point r, encoding surrogates as WTF-8 (as
// Python's 'surrogatepass' does).
func appendWTF8(out []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(out, 0xED, byte(0xA0|(r>>6)&0x1F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(out, r)
}

// rawUnicodeEscapeDecode implements Python's 'raw-unicode-escape' decoding
// (protocol 0 UNICODE): latin-1 bytes with \uXXXX and \UXXXXXXXX escapes.
func rawUnicodeEscapeDecode(s []byte) (string, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = appendWTF8(out, rune(c))
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\\' {
			j++
		}
		nbs := j - i
		if nbs%2 == 0 || j >= len(s) || (s[j] != 'u' && s[j] != 'U') {
			for k := 0; k < nbs; k++ {
				out = append(out, '\\')
			}
			i = j
			continue
		}
		for k := 0; k < nbs-1; k++ {
			out = append(out, '\\')
		}
		count := 4
		if s[j] == 'U' {
			count = 8
		}
		j++
		if j+count > len(s) {
			return "", errors.New("truncated \\uXXXX escape")
		}
		var r rune
		for k := 0; k < count; k++ {
			h, ok := unhex(s[j+k])
			if !ok {
				return "", errors.New("truncated \\uXXXX escape")
			}
			r = r<<4 | rune(h)
		}
		if r > 0x10FFFF || r < 0 {
			return "", errors.New("\\Uxxxxxxxx out of range")
		}
		out = appendWTF8(out, r)
		i = j + count
	}
	return string(out), nil
}

// takeBytes returns the bytes of a bytes or bytearray value read from the
// input: a copy, or with owned input the input itself when large (its
// capacity cut, so that appending to the value never writes into what
// follows; the regions of two values never overlap).
func (d *Decoder) takeBytes(b []byte) []byte {
	if d.owned && len(b) >= OwnedShareMin {
		return b[:len(b):len(b)]
	}
	if len(b) <= slabMaxBytes {
		return d.slabBytes(b)
	}
	return bytes.Clone(b)
}

// longString returns b, longer than internMax, as a string: a copy, or with
// owned input the input itself when large.
func (d *Decoder) longString(b []byte) string {
	if d.owned && len(b) >= OwnedShareMin {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return d.makeString(b)
}

// str returns b as a boxed string; short strings are interned per decoder
// (method names, typeids and dict keys repeat in every request), which saves
// two allocations each.
func (d *Decoder) str(b []byte) any {
	if len(b) > internMax {
		return d.boxString(d.longString(b))
	}
	if d.intern == nil {
		d.intern = new(internCache)
	}
	slot := &d.intern[internHash(b)]
	if s, ok := (*slot).(string); ok && s == string(b) {
		return *slot
	}
	v := d.boxInterned(d.makeString(b))
	*slot = v
	return v
}

// internMax is the longest string the decoder interns.
const internMax = 24

// internCache is a direct-mapped cache of boxed short strings: a miss
// replaces the slot. The names a manager request repeats (method names,
// dict keys, idents) hit it and cost no allocation; a stream of distinct
// strings costs one hash and one comparison each, unlike a map, which would
// grow or need eviction.
type internCache [256]any

// internHash hashes up to internMax bytes into a slot number.
func internHash(b []byte) uint8 {
	const k = 0x9E3779B97F4A7C15
	h := uint64(len(b)) * k
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * k
		b = b[8:]
	}
	var t uint64
	for i, c := range b {
		t |= uint64(c) << (8 * i)
	}
	h = (h ^ t) * k
	return uint8(h >> 56)
}

// ---- the machine ----

var (
	gSet        = Global{"builtins", "set"}
	gFrozenSet  = Global{"builtins", "frozenset"}
	gByteArray  = Global{"builtins", "bytearray"}
	gBytes      = Global{"builtins", "bytes"}
	gComplex    = Global{"builtins", "complex"}
	gEncode     = Global{"_codecs", "encode"}
	gReconstruc = Global{"copyreg", "_reconstructor"}
	gObject     = Global{"builtins", "object"}
)

func (d *Decoder) step(op byte) {
	switch op {
	case opMark:
		if len(d.marks) >= d.limits.MaxDepth {
			d.fail("more than %d nested MARKs", d.limits.MaxDepth)
		}
		d.marks = append(d.marks, len(d.stack))
	case opNone:
		d.push(nil, 0)
	case opNewtrue:
		d.push(true, 0)
	case opNewfalse:
		d.push(false, 0)
	case opBinint:
		d.push(d.boxInt(int64(int32(binary.LittleEndian.Uint32(d.read(4))))), 0)
	case opBinint1:
		d.push(int64(d.readByte()), 0)
	case opBinint2:
		d.push(d.boxInt(int64(binary.LittleEndian.Uint16(d.read(2)))), 0)
	case opInt:
		line := d.readLine()
		switch string(line) {
		case "00":
			d.push(false, 0)
		case "01":
			d.push(true, 0)
		default:
			v := d.parseIntText(line, false)
			if i, ok := v.(int64); ok && (i < math.MinInt32 || i > math.MaxInt32) {
				v = Py2Int(i) // only 64-bit Python 2 writes such an int this way
			}
			d.push(v, 0)
		}
	case opLong:
		// not py2Long: Python 3.6 writes every int so at protocol 0
		d.push(d.parseIntText(d.readLine(), true), 0)
	case opLong1:
		n := d.readLength(1)
		d.push(py2Long(d.read(n)), 0)
	case opLong4:
		p := d.read(4)
		n := int32(binary.LittleEndian.Uint32(p))
		if n < 0 {
			d.fail("LONG pickle has negative byte count")
		}
		d.pos -= 4
		n2 := d.readLength(4)
		d.push(py2Long(d.read(n2)), 0)
	case opBinfloat:
		d.push(d.boxFloat(math.Float64frombits(binary.BigEndian.Uint64(d.read(8)))), 0)
	case opFloat:
		line := string(bytes.TrimSpace(d.readLine()))
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				d.fail("could not convert string to float: %q", line)
			}
		}
		d.push(f, 0)
	case opShortBinunicode:
		n := d.readLength(1)
		d.push(d.str(d.read(n)), 0)
	case opBinunicode:
		n := d.readLength(4)
		d.push(d.str(d.read(n)), 0)
	case opBinunicode8:
		n := d.readLength(8)
		d.push(d.longString(d.read(n)), 0)
	case opUnicode:
		u, err := rawUnicodeEscapeDecode(d.readLine())
		if err != nil {
			d.fail("%v", err)
		}
		d.push(u, 0)
	case opShortBinbytes:
		n := d.readLength(1)
		d.push(d.boxBytes(d.takeBytes(d.read(n))), 0)
	case opBinbytes:
		n := d.readLength(4)
		d.push(d.boxBytes(d.takeBytes(d.read(n))), 0)
	case opBinbytes8:
		n := d.readLength(8)
		d.push(d.boxBytes(d.takeBytes(d.read(n))), 0)
	case opBytearray8:
		n := d.readLength(8)
		d.push(ByteArray(d.takeBytes(d.read(n))), 0)
	case opShortBinstring:
		n := d.readLength(1)
		d.push(Py2String(d.read(n)), 0)
	case opBinstring:
		p := d.read(4)
		if int32(binary.LittleEndian.Uint32(p)) < 0 {
			d.fail("BINSTRING pickle has negative byte count")
		}
		d.pos -= 4
		n := d.readLength(4)
		d.push(Py2String(d.read(n)), 0)
	case opString:
		line := d.readLine()
		if len(line) < 2 || line[0] != line[len(line)-1] || (line[0] != '\'' && line[0] != '"') {
			d.fail("the STRING opcode argument must be quoted")
		}
		b, err := escapeDecode(line[1 : len(line)-1])
		if err != nil {
			d.fail("%v", err)
		}
		d.push(Py2String(b), 0)
	case opNextBuffer, opReadonlyBuffer:
		d.fail("out-of-band buffers are not supported")
	case opEmptyTuple:
		d.push(emptyTuple, 0)
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(d.stack)-d.markBase() < n {
			d.fail("stack underflow")
		}
		base := len(d.stack) - n
		t := d.newTuple(d.stack[base:])
		var dp int32
		for _, x := range d.depth[base:] {
			dp = max(dp, x)
		}
		d.dropTo(base)
		d.account(int64(n) * 16)
		d.push(d.boxTuple(t), d.checkDepth(dp+1))
	case opTuple:
		items, dp := d.popMark()
		t := d.newTuple(items)
		d.push(d.boxTuple(t), d.checkDepth(dp+1))
	case opEmptyList:
		d.push(d.newList(), 1)
	case opList:
		items, dp := d.popMark()
		d.push(&List{Items: copyItems(items)}, d.checkDepth(dp+1))
	case opEmptyDict:
		d.push(d.newDict(), 1)
	case opDict:
		items, dp := d.popMark()
		if len(items)%2 != 0 {
			d.fail("odd number of items for DICT")
		}
		dict := &Dict{}
		for i := 0; i < len(items); i += 2 {
			if err := dict.Set(items[i], items[i+1]); err != nil {
				d.fail("%v", err)
			}
		}
		d.push(dict, d.checkDepth(dp+1))
	case opEmptySet:
		d.push(&Set{}, 1)
	case opFrozenset:
		items, dp := d.popMark()
		s := &Set{}
		for _, x := range items {
			if err := s.Add(x); err != nil {
				d.fail("%v", err)
			}
		}
		d.push(FrozenSet{t: &s.t}, d.checkDepth(dp+1))
	case opAppend:
		v, dp := d.pop()
		one := [1]any{v}
		d.appendItems(d.top(), one[:], dp)
	case opAppends:
		items, dp := d.popMark()
		d.appendItems(d.top(), items, dp)
	case opSetitem:
		v, dv := d.pop()
		k, dk := d.pop()
		kv := [2]any{k, v}
		d.setItems(d.top(), kv[:], max(dv, dk))
	case opSetitems:
		items, dp := d.popMark()
		if len(items)%2 != 0 {
			d.fail("odd number of items for SETITEMS")
		}
		d.setItems(d.top(), items, dp)
	case opAdditems:
		items, dp := d.popMark()
		n := d.top()
		s, ok := d.stack[n].(*Set)
		if !ok {
			d.fail("ADDITEMS on a %s", TypeName(d.stack[n]))
		}
		for _, x := range items {
			if err := s.Add(x); err != nil {
				d.fail("%v", err)
			}
		}
		d.depth[n] = d.checkDepth(max(d.depth[n], dp+1))
	case opPop:
		if len(d.stack) > d.markBase() {
			d.pop()
		} else if len(d.marks) > 0 {
			d.popMark()
		} else {
			d.fail("stack underflow")
		}
	case opPopMark:
		d.popMark()
	case opDup:
		n := d.top()
		d.push(d.stack[n], d.depth[n])
	case opPut:
		line := d.readLine()
		i, err := strconv.Atoi(string(line))
		if err != nil || i < 0 {
			d.fail("invalid PUT argument %q", line)
		}
		d.memoTop(i)
	case opBinput:
		d.memoTop(int(d.readByte()))
	case opLongBinput:
		d.memoTop(int(binary.LittleEndian.Uint32(d.read(4))))
	case opMemoize:
		d.memoTop(d.nmemo)
	case opGet:
		line := d.readLine()
		i, err := strconv.Atoi(string(line))
		if err != nil {
			d.fail("invalid GET argument %q", line)
		}
		d.memoGet(i)
	case opBinget:
		d.memoGet(int(d.readByte()))
	case opLongBinget:
		d.memoGet(int(binary.LittleEndian.Uint32(d.read(4))))
	case opGlobal:
		mod := string(d.readLine())
		name := string(d.readLine())
		m, n := toPy3Name(mod, name)
		d.push(Global{m, n}, 0)
	case opStackGlobal:
		nv, _ := d.pop()
		mv, _ := d.pop()
		name, ok1 := nv.(string)
		mod, ok2 := mv.(string)
		if !ok1 || !ok2 {
			d.fail("STACK_GLOBAL requires str")
		}
		m, n := toPy3Name(mod, name)
		d.push(Global{m, n}, 0)
	case opExt1, opExt2, opExt4:
		var code int32
		switch op {
		case opExt1:
			code = int32(d.readByte())
		case opExt2:
			code = int32(binary.LittleEndian.Uint16(d.read(2)))
		default:
			code = int32(binary.LittleEndian.Uint32(d.read(4)))
		}
		if code <= 0 {
			d.fail("EXT specifies code <= 0")
		}
		g, ok := d.ext[code]
		if !ok {
			d.fail("unregistered extension code %d", code)
		}
		d.push(g, 0)
	case opReduce:
		av, da := d.pop()
		cv, _ := d.pop()
		args, ok := av.(Tuple)
		if !ok {
			d.fail("REDUCE arguments must be a tuple, not %s", TypeName(av))
		}
		cls, ok := cv.(Global)
		if !ok {
			switch cv.(type) {
			case *Object, Tuple, *List, *Dict, *Set, FrozenSet:
				d.push(&Object{Kind: BuildReduce, Args: args, Callable: cv}, d.checkDepth(da+1))
				return
			}
			d.fail("REDUCE callable must be a global or an object, not %s", TypeName(cv))
		}
		d.push(d.reduce(cls, args), d.checkDepth(da+1))
	case opNewobj:
		av, da := d.pop()
		cv, _ := d.pop()
		args, ok := av.(Tuple)
		if !ok {
			d.fail("NEWOBJ arguments must be a tuple, not %s", TypeName(av))
		}
		cls, ok := cv.(Global)
		if !ok {
			d.fail("NEWOBJ class must be a global, not %s", TypeName(cv))
		}
		d.push(&Object{Class: cls, Kind: BuildNewObj, Args: args}, d.checkDepth(da+1))
	case opNewobjEx:
		kv, dk := d.pop()
		av, da := d.pop()
		cv, _ := d.pop()
		args, ok := av.(Tuple)
		if !ok {
			d.fail("NEWOBJ_EX arguments must be a tuple, not %s", TypeName(av))
		}
		kw, ok := kv.(*Dict)
		if !ok {
			d.fail("NEWOBJ_EX keyword arguments must be a dict, not %s", TypeName(kv))
		}
		cls, ok := cv.(Global)
		if !ok {
			d.fail("NEWOBJ_EX class must be a global, not %s", TypeName(cv))
		}
		d.push(&Object{Class: cls, Kind: BuildNewObjEx, Args: args, Kwargs: kw}, d.checkDepth(max(da, dk)+1))
	case opInst:
		mod := string(d.readLine())
		name := string(d.readLine())
		m, n := toPy3Name(mod, name)
		items, dp := d.popMark()
		d.push(&Object{Class: Global{m, n}, Kind: BuildInst, Args: Tuple(copyItems(items))}, d.checkDepth(dp+1))
	case opObj:
		items, dp := d.popMark()
		if len(items) == 0 {
			d.fail("OBJ without a class")
		}
		cls, ok := items[0].(Global)
		if !ok {
			d.fail("OBJ class must be a global, not %s", TypeName(items[0]))
		}
		d.push(&Object{Class: cls, Kind: BuildInst, Args: Tuple(copyItems(items[1:]))}, d.checkDepth(dp+1))
	case opBuild:
		st, ds := d.pop()
		n := d.top()
		o, ok := d.stack[n].(*Object)
		if !ok {
			d.fail("BUILD on a %s", TypeName(d.stack[n]))
		}
		o.State = st
		d.depth[n] = d.checkDepth(max(d.depth[n], ds+1))
	case opProto:
		p := d.readByte()
		if p > 5 {
			d.fail("unsupported pickle protocol: %d", p)
		}
		d.proto = int(p)
	case opFrame:
		n := binary.LittleEndian.Uint64(d.read(8))
		if n > uint64(d.limits.MaxAlloc) || d.r == nil && n > uint64(len(d.buf)-d.pos) {
			d.fail("frame exceeds the input (length %d)", n)
		}
		if d.r != nil && !d.fill(int(n)) {
			d.truncated()
		}
	case opPersid:
		pid := d.readLine()
		d.push(d.persistent(string(pid)), 0)
	case opBinpersid:
		pid, _ := d.pop()
		d.push(d.persistent(pid), 0)
	default:
		d.fail("invalid load key, %q", op)
	}
}

func (d *Decoder) persistent(pid any) any {
	if d.persistentLoad == nil {
		d.fail("a load persistent id instruction was encountered, but no persistent_load function was specified")
	}
	v, err := d.persistentLoad(pid)
	if err != nil {
		panic(decodeError{err})
	}
	return v
}

func (d *Decoder) appendItems(n int, items []any, dp int32) {
	switch t := d.stack[n].(type) {
	case *List:
		if cap(t.Items) == 0 && len(items) <= slabMaxTuple {
			// a short list's first items: slab slots, capacity cut (an
			// append reallocates)
			t.Items = []any(d.newTuple(items))
			break
		}
		t.Items = appendBatch(t.Items, items)
	case *Object:
		t.ListItems = appendBatch(t.ListItems, items)
	default:
		d.fail("APPEND on a %s", TypeName(t))
	}
	d.account(int64(len(items)) * 16)
	d.depth[n] = d.checkDepth(max(d.depth[n], dp+1))
}

// appendBatch appends the items of one APPENDS. Picklers write long lists
// in batches of 1000 (CPython's _BATCHSIZE, ours too), so a full batch means
// more are likely to follow: the list then grows to twice what it needs.
// append's 1.25x steps would allocate about five times the final size of a
// 10,000-item list on the way, all of it garbage but the last.
func appendBatch(s, items []any) []any {
	if need := len(s) + len(items); need > cap(s) && len(items) >= batchSize {
		grown := make([]any, len(s), 2*need)
		copy(grown, s)
		s = grown
	}
	return append(s, items...)
}

func (d *Decoder) setItems(n int, kv []any, dp int32) {
	switch t := d.stack[n].(type) {
	case *Dict:
		if t.t.entries == nil && len(kv)/2 <= slabMaxDict {
			t.t.entries = d.dictEntries(len(kv) / 2)
			if distinctStringKeys(kv) {
				// The usual SETITEMS of a new dict: string keys need no
				// hashability check and, distinct, no lookup. At most
				// slabMaxDict <= smallTable entries: no index either.
				m := len(kv) / 2
				t.t.entries = fillEntries(t.t.entries[:m], kv)
				t.t.live = m
				break
			}
		} else if free := cap(t.t.entries) - len(t.t.entries); free < len(kv)/2 {
			t.t.entries = append(make([]tableEntry, 0, len(t.t.entries)+len(kv)/2), t.t.entries...)
		}
		for i := 0; i < len(kv); i += 2 {
			if err := t.Set(kv[i], kv[i+1]); err != nil {
				d.fail("%v", err)
			}
		}
	case *Object:
		for i := 0; i < len(kv); i += 2 {
			t.DictItems = append(t.DictItems, DictItem{kv[i], kv[i+1]})
		}
	default:
		d.fail("SETITEM on a %s", TypeName(t))
	}
	d.account(int64(len(kv)) * 16)
	d.depth[n] = d.checkDepth(max(d.depth[n], dp+1))
}

// fillEntries stores the pairs of kv (key, value, key, value...) in e,
// which has room for exactly them, and returns e. One store per field, not
// a copy: a copy of interfaces runs the bulk write barrier over the type
// words as well as the data words while the collector marks (twice the
// work, and 11% of decoding a list of small dicts).
func fillEntries(e []tableEntry, kv []any) []tableEntry {
	for i := range e {
		e[i] = tableEntry{kv[2*i], kv[2*i+1]}
	}
	return e
}

// distinctStringKeys reports whether kv's keys (its even items) are all
// strings and no two are equal.
func distinctStringKeys(kv []any) bool {
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return false
		}
		for j := 0; j < i; j += 2 {
			if kv[j].(string) == k {
				return false
			}
		}
	}
	return true
}

// latin1 encodes WTF-8 text as latin-1; ok is false when a code point is
// above U+00FF.
func latin1(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := decodeWTF8(s[i:])
		if r > 0xFF {
			return nil, false
		}
		out = append(out, byte(r))
		i += n
	}
	return out, true
}

func isLatin1Name(v any) bool {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case Py2String:
		s = string(x)
	default:
		return false
	}
	switch s {
	case "latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "l1":
		return true
	}
	return false
}

// iterItems returns the items of an iterable argument of set() and friends.
func iterItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case *List:
		return x.Items, true
	case Tuple:
		return x, true
	case *Set:
		return x.Items(), true
	case FrozenSet:
		return x.Items(), true
	}
	return nil, false
}

// reduce builds the result of REDUCE: a few well-known calls map to value
// types, everything else becomes an *Object. Nothing is ever called.
func (d *Decoder) reduce(cls Global, args Tuple) any {
	switch cls {
	case gSet, gFrozenSet:
		var items []any
		if len(args) == 1 {
			it, ok := iterItems(args[0])
			if !ok {
				break
			}
			items = it
		} else if len(args) != 0 {
			break
		}
		s := &Set{}
		for _, x := range items {
			if err := s.Add(x); err != nil {
				d.fail("%v", err)
			}
		}
		if cls == gSet {
			return s
		}
		return FrozenSet{t: &s.t}
	case gByteArray, gBytes:
		var p []byte
		switch {
		case len(args) == 0:
			p = []byte{}
		case len(args) == 1:
			b, ok := args[0].([]byte)
			if !ok {
				return &Object{Class: cls, Args: args}
			}
			p = bytes.Clone(b)
		case len(args) == 2 && isLatin1Name(args[1]):
			s, ok := strOf(args[0])
			if !ok {
				return &Object{Class: cls, Args: args}
			}
			b, ok := latin1(s)
			if !ok {
				return &Object{Class: cls, Args: args}
			}
			p = b
		default:
			return &Object{Class: cls, Args: args}
		}
		if cls == gBytes {
			return p
		}
		return ByteArray(p)
	case gEncode:
		if len(args) == 2 && isLatin1Name(args[1]) {
			if s, ok := args[0].(string); ok {
				if b, ok := latin1(s); ok {
					return b
				}
			}
		}
	case gComplex:
		var parts [2]float64
		if len(args) > 2 {
			break
		}
		ok := true
		for i, a := range args {
			n, isNum := asNumber(a)
			if !isNum || n.kind == numComplex {
				ok = false
				break
			}
			switch n.kind {
			case numFloat:
				parts[i] = n.f
			case numInt:
				parts[i] = float64(n.i)
			default:
				f, _ := new(big.Float).SetInt(n.b).Float64()
				if math.IsInf(f, 0) {
					ok = false
				}
				parts[i] = f
			}
		}
		if ok {
			return complex(parts[0], parts[1])
		}
	case gNewObj:
		// copyreg.__newobj__(cls, *args) is cls.__new__(cls, *args): NEWOBJ
		if len(args) >= 1 {
			if c, ok := args[0].(Global); ok {
				return &Object{Class: c, Kind: BuildNewObj, Args: append(Tuple{}, args[1:]...)}
			}
		}
	case gNewObjEx:
		if len(args) == 3 {
			c, ok1 := args[0].(Global)
			a, ok2 := args[1].(Tuple)
			kw, ok3 := args[2].(*Dict)
			if ok1 && ok2 && ok3 {
				return &Object{Class: c, Kind: BuildNewObjEx, Args: a, Kwargs: kw}
			}
		}
	case gReconstruc:
		if len(args) == 3 {
			if c, ok := args[0].(Global); ok {
				return &Object{Class: c, Kind: BuildReconstructor, Args: Tuple{args[1], args[2]}}
			}
		}
	}
	return &Object{Class: cls, Kind: BuildReduce, Args: args}
}
