package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Enc builds a protocol-4 pickle by hand. It covers only what the load
// generator sends (None, str, small ints, tuples, an empty dict), so the
// generator does not depend on the pickle package and costs nothing per
// request: frames are built once per connection and reused.
type Enc struct{ b []byte }

// None appends None.
func (e *Enc) None() { e.b = append(e.b, 'N') }

// Str appends a str (SHORT_BINUNICODE or BINUNICODE).
func (e *Enc) Str(s string) {
	if len(s) < 256 {
		e.b = append(e.b, 0x8c, byte(len(s)))
	} else {
		e.b = append(e.b, 'X')
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(len(s)))
	}
	e.b = append(e.b, s...)
}

// Int appends an int that fits in 32 bits.
func (e *Enc) Int(i int32) {
	switch {
	case i >= 0 && i < 256:
		e.b = append(e.b, 'K', byte(i))
	case i >= 0 && i < 65536:
		e.b = append(e.b, 'M', byte(i), byte(i>>8))
	default:
		e.b = append(e.b, 'J')
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(i))
	}
}

// Value appends v, which must be nil, a string, an int or a []any (as a tuple).
func (e *Enc) Value(v any) {
	switch v := v.(type) {
	case nil:
		e.None()
	case string:
		e.Str(v)
	case int:
		e.Int(int32(v))
	case []any:
		e.Tuple(v...)
	default:
		panic(fmt.Sprintf("loadgen: cannot encode %T", v))
	}
}

// Tuple appends a tuple of items.
func (e *Enc) Tuple(items ...any) {
	switch len(items) {
	case 0:
		e.b = append(e.b, ')')
		return
	case 1, 2, 3:
		for _, it := range items {
			e.Value(it)
		}
		e.b = append(e.b, 0x85+byte(len(items)-1))
		return
	}
	e.b = append(e.b, '(')
	for _, it := range items {
		e.Value(it)
	}
	e.b = append(e.b, 't')
}

// EmptyDict appends {}.
func (e *Enc) EmptyDict() { e.b = append(e.b, '}') }

// Pickle returns the complete protocol-4 pickle (PROTO, FRAME, body, STOP).
func (e *Enc) Pickle() []byte {
	out := make([]byte, 0, 11+len(e.b)+1)
	out = append(out, 0x80, 4, 0x95)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(e.b)+1))
	out = append(out, e.b...)
	return append(out, '.')
}

// Request returns the pickle of the manager request (ident, name, args, {});
// an empty ident encodes None (a public server function).
func Request(ident, name string, args ...any) []byte {
	var e Enc
	e.b = append(e.b, '(')
	if ident == "" {
		e.None()
	} else {
		e.Str(ident)
	}
	e.Str(name)
	e.Tuple(args...)
	e.EmptyDict()
	e.b = append(e.b, 't')
	return e.Pickle()
}

// Frame returns p with its 4-byte length header, ready for one Write.
func Frame(p []byte) []byte {
	out := make([]byte, 4, 4+len(p))
	binary.BigEndian.PutUint32(out, uint32(len(p)))
	return append(out, p...)
}

// errScan is returned by [Strings] for a pickle it cannot walk.
var errScan = errors.New("loadgen: cannot scan reply pickle")

// Strings walks a reply pickle and returns, in order, the str/bytes values
// it pushes (memo gets are ignored). It understands the opcodes CPython and
// mpgo use for replies; it does not build values. The first string of a
// reply is its kind ('#RETURN', '#TRACEBACK', ...); for a create reply the
// second is the new ident.
func Strings(p []byte, limit int) ([]string, error) {
	var out []string
	i := 0
	need := func(n int) bool { return i+n <= len(p) }
	for i < len(p) && len(out) < limit {
		op := p[i]
		i++
		var n int
		switch op {
		case '.':
			return out, nil
		case 0x80, 'q', 'h', 'K': // PROTO, BINPUT, BINGET, BININT1
			n = 1
		case 'M': // BININT2
			n = 2
		case 'r', 'j', 'J': // LONG_BINPUT, LONG_BINGET, BININT
			n = 4
		case 0x95, 'G': // FRAME, BINFLOAT
			n = 8
		case 0x94, '(', ')', 0x85, 0x86, 0x87, 't', '}', ']', 'N', 0x88, 0x89,
			'e', 'a', 's', 'u', 0x93, 'R', 0x81, 'b', 'l', 'd', 0x8f, 0x90, 0x91, 0x92, '0', '1', '2':
			n = 0
		case 0x8a: // LONG1
			if !need(1) {
				return out, errScan
			}
			n = 1 + int(p[i])
		case 0x8c, 'U', 'C': // SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES
			if !need(1) {
				return out, errScan
			}
			l := int(p[i])
			if !need(1 + l) {
				return out, errScan
			}
			out = append(out, string(p[i+1:i+1+l]))
			i += 1 + l
			continue
		case 'X', 'T', 'B': // BINUNICODE, BINSTRING, BINBYTES
			if !need(4) {
				return out, errScan
			}
			l := int(binary.LittleEndian.Uint32(p[i:]))
			if l < 0 || !need(4+l) {
				return out, errScan
			}
			out = append(out, string(p[i+4:i+4+l]))
			i += 4 + l
			continue
		case 'c': // GLOBAL: two newline-terminated lines
			for k := 0; k < 2; k++ {
				for i < len(p) && p[i] != '\n' {
					i++
				}
				i++
			}
			continue
		default:
			return out, fmt.Errorf("%w: opcode 0x%02x at %d", errScan, op, i-1)
		}
		if !need(n) {
			return out, errScan
		}
		i += n
	}
	return out, nil
}
