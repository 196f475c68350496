package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unsafe"
)

// Pickled is one value already pickled: the opcodes that build it, without
// the PROTO header, FRAME opcodes or the final STOP, and the dialect they
// were written in (the protocol, and whether for a Python 2 peer). It is what
// a queue stores instead of the decoded value: a few dozen bytes for a small
// tuple, against a tree of Go values.
//
// An Encoder whose dialect is the same writes a Pickled by copying its
// opcodes into the pickle it writes (renumbering their memo references when
// the pickle already has memo entries): the value is not decoded and encoded
// again. An Encoder of another dialect decodes it and writes the value. A
// Pickled is immutable and safe for concurrent use; the zero value is not a
// valid one (use [NewPickled], [Encoder.EncodePickled] or [ParsePickled]).
type Pickled struct {
	data  string // the opcodes
	nmemo uint32 // memo entries they create, numbered 0..nmemo-1 in the order they are created
	proto uint8
	py2   bool
	gets  bool // the opcodes read the memo (GET, BINGET, LONG_BINGET)
}

// NewPickled pickles v at protocol (0: DefaultProtocol; a Python 2 peer's at
// most 2) into a Pickled. v is converted as by [Marshal].
func NewPickled(v any, protocol int, python2 bool) (Pickled, error) {
	e := encPool.Get().(*Encoder)
	if protocol == 0 {
		protocol = DefaultProtocol
	}
	e.SetProtocol(protocol)
	e.py2 = false
	e.SetPython2(python2)
	p, err := e.EncodePickled(v)
	e.py2, e.valueOnly = false, false
	encPool.Put(e)
	return p, err
}

// EncodePickled pickles v into a Pickled with e's protocol and Python 2 mode.
// Nothing is written to e's stream.
func (e *Encoder) EncodePickled(v any) (Pickled, error) {
	buf, nmemo, gets, err := e.appendFragment(e.scratch[:0], v)
	var p Pickled
	if err == nil {
		p = Pickled{data: string(buf), nmemo: uint32(nmemo), proto: uint8(e.fragProto()), py2: e.py2, gets: gets}
	}
	e.scratch = buf[:0]
	if cap(e.scratch) > 4<<20 {
		e.scratch = nil
	}
	return p, err
}

// AppendPickled appends to dst what [Pickled.AppendBinary] appends for the
// Pickled EncodePickled(v) makes, without making it: a queue that stores
// items in that form saves a copy. Nothing is written to e's stream.
func (e *Encoder) AppendPickled(dst []byte, v any) ([]byte, error) {
	b := e.fragProto()
	if e.py2 {
		b |= 0x80
	}
	out, _, _, err := e.appendFragment(append(dst, pickledFormat, byte(b)), v)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// fragProto is the protocol of the fragments e writes.
func (e *Encoder) fragProto() int {
	if e.py2 && e.proto > 2 {
		return 2
	}
	return e.proto
}

// appendFragment appends the opcodes of v (no PROTO, FRAME or STOP; the memo
// numbered from 0) to dst.
func (e *Encoder) appendFragment(dst []byte, v any) (out []byte, nmemo int, gets bool, err error) {
	proto := e.fragProto()
	e.resetMemo()
	e.nmemo = 0 // a fragment numbers its memo from 0, also in Python 2 mode
	e.ngets = 0
	e.buf = dst
	e.frameStart = -1
	e.framing = false
	e.depth = 0
	savedProto := e.proto
	e.proto = proto
	defer func() {
		e.proto = savedProto
		out, e.buf = e.buf, nil
		if r := recover(); r != nil {
			ee, ok := r.(encodeError)
			if !ok {
				panic(r)
			}
			err = ee.err
		}
	}()
	e.save(v)
	if e.nmemo > maxPickledMemo {
		e.fail(&UnsupportedValueError{Str: "too many memo entries for a Pickled"})
	}
	return nil, e.nmemo, e.ngets > 0, nil
}

// maxPickledMemo bounds the memo entries of a Pickled (the decoder's default
// MaxMemo).
const maxPickledMemo = 1 << 22

// SetValueModelOnly restricts what the encoder accepts to the values of the
// value model (see the package documentation) and the Go bool, integer,
// float, complex, string, []byte, []any and map[string]any kinds: any other
// Go value, a [Marshaler] included, is an *UnsupportedTypeError. A Pickled
// made so decodes back to an equal value, so that a caller can tell values
// that would not survive the trip (a handle to a live object, say) from the
// ones that do.
func (e *Encoder) SetValueModelOnly(on bool) { e.valueOnly = on }

// IsZero reports whether p is the zero Pickled (no value).
func (p Pickled) IsZero() bool { return len(p.data) == 0 }

// Protocol returns the protocol p was written at.
func (p Pickled) Protocol() int { return int(p.proto) }

// Python2 reports whether p was written for a Python 2 peer.
func (p Pickled) Python2() bool { return p.py2 }

// Len returns the length of p's opcodes in bytes.
func (p Pickled) Len() int { return len(p.data) }

// MemoLen returns the number of memo entries p's opcodes create.
func (p Pickled) MemoLen() int { return int(p.nmemo) }

// String describes p (not its value: see Value).
func (p Pickled) String() string {
	py := ""
	if p.py2 {
		py = ", Python 2"
	}
	return fmt.Sprintf("pickle.Pickled(protocol %d%s, %d bytes)", p.proto, py, len(p.data))
}

// AppendPickle appends a complete pickle of p's value (PROTO, the opcodes,
// STOP) to dst. Its protocol is p's; it has no frames, which every
// unpickler accepts.
func (p Pickled) AppendPickle(dst []byte) []byte {
	if p.proto >= 2 {
		dst = append(dst, opProto, p.proto)
	}
	dst = append(dst, p.data...)
	return append(dst, opStop)
}

// Value decodes p into a value of the value model, as [Unmarshal] into an
// any does.
func (p Pickled) Value() (any, error) {
	var v any
	err := p.Unmarshal(&v)
	return v, err
}

// Unmarshal decodes p into v with [Unmarshal]'s rules.
func (p Pickled) Unmarshal(v any) error {
	if p.IsZero() {
		return errors.New("pickle: Unmarshal of a zero Pickled")
	}
	// the buffer is ours: large str and bytes values may share it
	return unmarshal(p.AppendPickle(make([]byte, 0, len(p.data)+3)), v, true)
}

// pickledFormat is the first byte of AppendBinary's form.
const pickledFormat = 1

// AppendBinary appends p in a self-describing form that [ParsePickled] reads
// back (for storing it: a message of a durable queue, say): a format byte,
// a byte with the protocol and the Python 2 mode, then the opcodes.
func (p Pickled) AppendBinary(dst []byte) ([]byte, error) {
	if p.IsZero() {
		return dst, errors.New("pickle: AppendBinary of a zero Pickled")
	}
	b := p.proto
	if p.py2 {
		b |= 0x80
	}
	dst = append(dst, pickledFormat, b)
	return append(dst, p.data...), nil
}

// ParsePickled reads what [Pickled.AppendBinary] wrote. It checks the opcodes
// (every one known to the protocol, their arguments complete, memo
// references within the value, the stack holding exactly one value at the
// end, no PROTO, FRAME, STOP, persistent ids, extension codes or out-of-band
// buffers), so that a Pickled it returns can be spliced into any pickle of
// its dialect; it does not build the value. b is not retained.
func ParsePickled(b []byte) (Pickled, error) {
	if len(b) < 3 {
		return Pickled{}, errors.New("pickle: Pickled too short")
	}
	if b[0] != pickledFormat {
		return Pickled{}, fmt.Errorf("pickle: unknown Pickled format %d", b[0])
	}
	proto, py2 := int(b[1]&0x7f), b[1]&0x80 != 0
	if proto > HighestProtocol || py2 && proto > 2 {
		return Pickled{}, fmt.Errorf("pickle: bad Pickled dialect byte %#x", b[1])
	}
	data := b[2:]
	n, gets, err := scanFragment(data, proto)
	if err != nil {
		return Pickled{}, err
	}
	return Pickled{data: string(data), nmemo: uint32(n), proto: uint8(proto), py2: py2, gets: gets}, nil
}

// fragEffect is the stack effect of an opcode inside a fragment (see
// disStackEffect), indexed by opcode byte.
var fragEffect = func() (t [256]disStackEffect) {
	for c, op := range opcodes {
		if op != nil {
			t[c] = disEffectOf(op.Name)
		}
	}
	return t
}()

// scanFragment checks the opcodes of a Pickled written at proto and returns
// the number of memo entries they create and whether they read the memo.
func scanFragment(data []byte, proto int) (nmemo int, gets bool, err error) {
	var stackBuf [16]int
	counts := append(stackBuf[:0], 0) // items above each open MARK; [0]: the bottom
	for pos := 0; pos < len(data); {
		c := data[pos]
		op := opcodes[c]
		if op == nil {
			return 0, false, fmt.Errorf("pickle: Pickled at position %d: opcode %#x unknown", pos, c)
		}
		bad := func(msg string) error { return fmt.Errorf("pickle: Pickled at position %d: %s %s", pos, op.Name, msg) }
		if op.Proto > proto {
			return 0, false, bad("is not a protocol " + strconv.Itoa(proto) + " opcode")
		}
		switch c {
		case opProto, opFrame, opStop, opPersid, opBinpersid, opExt1, opExt2, opExt4, opNextBuffer, opReadonlyBuffer:
			return 0, false, bad("not allowed in a Pickled")
		}
		n, arg, ok := fragOpLen(data, pos)
		if !ok {
			return 0, false, bad("argument truncated or malformed")
		}
		top := len(counts) - 1
		switch c {
		case opMemoize, opPut, opBinput, opLongBinput:
			if counts[top] < 1 {
				return 0, false, bad("with an empty stack")
			}
			if c != opMemoize && proto >= 4 {
				return 0, false, bad("in a protocol " + strconv.Itoa(proto) + " Pickled (which uses MEMOIZE)")
			}
			if c != opMemoize && arg != nmemo {
				return 0, false, bad("index " + strconv.Itoa(arg) + " out of sequence")
			}
			nmemo++
			if nmemo > maxPickledMemo {
				return 0, false, bad("makes too many memo entries")
			}
		case opGet, opBinget, opLongBinget:
			if arg < 0 || arg >= nmemo {
				return 0, false, bad("of " + strconv.Itoa(arg) + ": no such memo entry")
			}
			gets = true
		}
		eff := fragEffect[c]
		switch {
		case eff.pushesMark:
			counts = append(counts, 0)
		case eff.markAt >= 0:
			if top == 0 {
				return 0, false, bad("without a MARK")
			}
			counts = counts[:top]
			top--
			if counts[top] < eff.markAt {
				return 0, false, bad("stack underflow")
			}
			counts[top] += eff.after - eff.markAt
		case c == opPop && counts[top] == 0 && top > 0:
			counts = counts[:top] // pops the MARK
		default:
			if counts[top] < eff.before {
				return 0, false, bad("stack underflow")
			}
			counts[top] += eff.after - eff.before
		}
		pos += n
	}
	if len(counts) != 1 || counts[0] != 1 {
		return 0, false, errors.New("pickle: Pickled does not leave exactly one value")
	}
	return nmemo, gets, nil
}

// fragOpLen returns the length of the opcode at data[pos] with its argument,
// and the argument of a memo opcode (PUT, GET and their binary forms).
func fragOpLen(data []byte, pos int) (n, memoArg int, ok bool) {
	c := data[pos]
	p := data[pos+1:]
	counted := func(lenBytes int, signed bool) (int, bool) {
		if len(p) < lenBytes {
			return 0, false
		}
		var l uint64
		switch lenBytes {
		case 1:
			l = uint64(p[0])
		case 4:
			l = uint64(binary.LittleEndian.Uint32(p))
			if signed && l > 1<<31-1 {
				return 0, false
			}
		default:
			l = binary.LittleEndian.Uint64(p)
		}
		if l > uint64(len(p)-lenBytes) {
			return 0, false
		}
		return 1 + lenBytes + int(l), true
	}
	line := func(start int) (int, bool) {
		for i := start; i < len(p); i++ {
			if p[i] == '\n' {
				return i + 1, true
			}
		}
		return 0, false
	}
	fixed := func(k int) (int, bool) { return 1 + k, len(p) >= k }
	switch opcodes[c].Arg {
	case argNone:
		return 1, 0, true
	case argUint1:
		n, ok = fixed(1)
		if ok {
			memoArg = int(p[0])
		}
		return n, memoArg, ok
	case argUint2:
		n, ok = fixed(2)
		return n, 0, ok
	case argInt4, argUint4:
		n, ok = fixed(4)
		if ok {
			memoArg = int(binary.LittleEndian.Uint32(p))
		}
		return n, memoArg, ok
	case argUint8, argFloat8:
		n, ok = fixed(8)
		return n, 0, ok
	case argLong1, argString1, argBytes1, argUnicodestring1:
		n, ok = counted(1, false)
		return n, 0, ok
	case argLong4, argString4:
		n, ok = counted(4, true)
		return n, 0, ok
	case argBytes4, argUnicodestring4:
		n, ok = counted(4, false)
		return n, 0, ok
	case argBytes8, argUnicodestring8, argBytearray8:
		n, ok = counted(8, false)
		return n, 0, ok
	case argStringnlNoescapePair:
		l1, ok := line(0)
		if !ok {
			return 0, 0, false
		}
		l2, ok := line(l1)
		return 1 + l2, 0, ok
	default: // the newline-terminated forms
		l, ok := line(0)
		if !ok {
			return 0, 0, false
		}
		if c == opGet || c == opPut {
			v, err := strconv.Atoi(string(p[:l-1]))
			if err != nil || v < 0 {
				return 0, 0, false
			}
			memoArg = v
		}
		return 1 + l, memoArg, true
	}
}

// savePickled writes p: its opcodes as they are when its dialect is the
// encoder's, else its decoded value.
func (e *Encoder) savePickled(p Pickled) {
	if p.IsZero() {
		e.fail(&UnsupportedValueError{Str: "zero pickle.Pickled"})
	}
	if int(p.proto) != e.proto || p.py2 != e.py2 {
		v, err := p.Value()
		if err != nil {
			e.fail(err)
		}
		e.save(v)
		return
	}
	if e.framing && len(p.data) >= frameSizeTarget {
		// a large value goes outside any frame, as CPython writes large
		// payloads; what follows opens a new frame
		e.commitFrame()
	} else {
		e.ensureFrame()
	}
	base := e.nmemo
	if p.nmemo == 0 || base == 0 || p.proto >= 4 && !p.gets { // (MEMOIZE takes the next index)
		e.buf = append(e.buf, p.data...)
	} else {
		e.buf = relinkFragment(e.buf, p.data, base)
	}
	e.nmemo += int(p.nmemo)
}

// relinkFragment appends the opcodes of a (checked) fragment to dst with
// every memo index moved up by base: the fragment's memo entries follow the
// base entries the pickle already has. At protocol 4 and above MEMOIZE is
// implicit (the next index), so only the references change.
func relinkFragment(dst []byte, data string, base int) []byte {
	raw := 0 // start of the opcodes not yet copied
	for pos := 0; pos < len(data); {
		c := data[pos]
		n, arg, _ := fragOpLen(unsafeBytes(data), pos)
		switch c {
		case opGet, opBinget, opLongBinget, opPut, opBinput, opLongBinput:
			dst = append(dst, data[raw:pos]...)
			dst = appendMemoOp(dst, c, arg+base)
			raw = pos + n
		}
		pos += n
	}
	return append(dst, data[raw:]...)
}

// appendMemoOp appends a memo opcode of the kind of c (GET or PUT, text or
// binary) with index idx.
func appendMemoOp(dst []byte, c byte, idx int) []byte {
	get := c == opGet || c == opBinget || c == opLongBinget
	switch {
	case c == opGet || c == opPut:
		dst = append(dst, c)
		dst = strconv.AppendInt(dst, int64(idx), 10)
		return append(dst, '\n')
	case idx < 256:
		if get {
			return append(dst, opBinget, byte(idx))
		}
		return append(dst, opBinput, byte(idx))
	default:
		op := opLongBinput
		if get {
			op = opLongBinget
		}
		return binary.LittleEndian.AppendUint32(append(dst, op), uint32(idx))
	}
}

// unsafeBytes views s as a byte slice, which must not be modified.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
