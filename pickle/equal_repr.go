package pickle

import (
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Repr returns Python 3's repr() of v: 'None', 'True', "'text'", "b'\\x00'",
// '1e+16', '[1, 2]', '{1: 2}', 'set()', recursive containers as '[...]'.
// A Go value implementing PyReprer (DateTime, Decimal, ...) is shown by its
// PyRepr().
// An *Object is shown as a call of its class, e.g. "KeyError('x')" or
// "collections.OrderedDict()": a best effort, since Python's repr may run any
// code.
func Repr(v any) string {
	var r reprState
	r.repr(v, 0)
	return r.b.String()
}

// PyReprer is implemented by Go values that know their Python repr(), such
// as the standard types of StdRegistry; Repr uses it.
type PyReprer interface{ PyRepr() string }

// PyStrer is implemented by Go values that know their Python str(); Str
// uses it (and Repr, hence PyRepr, when a value does not implement it, as
// Python's object.__str__ does).
type PyStrer interface{ PyStr() string }

// Str returns Python 3's str() of v: strings are returned as they are,
// exceptions show their arguments like BaseException.__str__ (KeyError shows
// the repr of its key), a PyStrer its PyStr(), anything else is Repr(v).
func Str(v any) string {
	switch x := v.(type) {
	case PyStrer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return "None"
		}
		return x.PyStr()
	case string:
		return pyText(x)
	case Py2String:
		return pyText(py2Text(x))
	case *Object:
		if x != nil && isExceptionClass(x.Class) {
			switch len(x.Args) {
			case 0:
				return ""
			case 1:
				if x.Class.Name == "KeyError" {
					return Repr(x.Args[0])
				}
				return Str(x.Args[0])
			}
			return Repr(x.Args)
		}
	}
	return Repr(v)
}

// py2Text is the text of a Python 2 str: UTF-8 when it is valid UTF-8,
// else latin-1 (as Python 3 reads it with encoding='latin1').
func py2Text(s Py2String) string {
	if utf8.ValidString(string(s)) {
		return string(s)
	}
	b := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}

// pyText turns WTF-8 lone surrogates into U+FFFD for display.
func pyText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func isExceptionClass(g Global) bool {
	if g.Module != "builtins" && g.Module != "queue" && g.Module != "_queue" && g.Module != "multiprocessing" {
		return false
	}
	n := g.Name
	return strings.HasSuffix(n, "Error") || strings.HasSuffix(n, "Exception") ||
		strings.HasSuffix(n, "Warning") || n == "StopIteration" || n == "Empty" || n == "Full" ||
		n == "KeyboardInterrupt" || n == "SystemExit" || n == "GeneratorExit" || n == "StopAsyncIteration"
}

type reprState struct {
	b       strings.Builder
	visited []any // containers being printed, for '[...]'
}

func (r *reprState) enter(v any) bool {
	for _, x := range r.visited {
		if isIdentical(x, v) {
			return false
		}
	}
	r.visited = append(r.visited, v)
	return true
}

func (r *reprState) leave() { r.visited = r.visited[:len(r.visited)-1] }

func (r *reprState) seq(items []any, open, close string, depth int) {
	r.b.WriteString(open)
	for i, it := range items {
		if i > 0 {
			r.b.WriteString(", ")
		}
		r.repr(it, depth+1)
	}
	r.b.WriteString(close)
}

// maxReprLen bounds the output of Repr: a value with much sharing can have
// an exponentially long repr.
const maxReprLen = 1 << 20

func (r *reprState) repr(v any, depth int) {
	if depth > maxCompareDepth || r.b.Len() > maxReprLen {
		r.b.WriteString("...")
		return
	}
	b := &r.b
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(strRepr(x))
	case Py2String:
		b.WriteString(strRepr(py2Text(x)))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(FloatRepr(x))
	case *big.Int:
		b.WriteString(bigRepr(x))
	case complex128:
		b.WriteString(complexRepr(x))
	case []byte:
		b.WriteString(bytesRepr(x))
	case ByteArray:
		b.WriteString("bytearray(" + bytesRepr(x) + ")")
	case Tuple:
		if len(x) == 1 {
			b.WriteString("(")
			r.repr(x[0], depth+1)
			b.WriteString(",)")
			return
		}
		r.seq(x, "(", ")", depth)
	case *List:
		if !r.enter(x) {
			b.WriteString("[...]")
			return
		}
		r.seq(x.Items, "[", "]", depth)
		r.leave()
	case []any:
		r.seq(x, "[", "]", depth)
	case *Dict:
		if !r.enter(x) {
			b.WriteString("{...}")
			return
		}
		r.dict(x.Items(), depth)
		r.leave()
	case map[string]any:
		r.dict(mapToDict(x).Items(), depth)
	case *Set:
		if x.Len() == 0 {
			b.WriteString("set()")
			return
		}
		if !r.enter(x) {
			b.WriteString("set(...)")
			return
		}
		r.seq(x.Items(), "{", "}", depth)
		r.leave()
	case FrozenSet:
		if x.Len() == 0 {
			b.WriteString("frozenset()")
			return
		}
		r.seq(x.Items(), "frozenset({", "})", depth)
	case Global:
		if x.Module == "builtins" {
			b.WriteString("<class '" + x.Name + "'>")
		} else {
			b.WriteString("<class '" + x.Module + "." + x.Name + "'>")
		}
	case *Object:
		r.object(x, depth)
	case PyReprer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			b.WriteString("None")
			return
		}
		b.WriteString(x.PyRepr())
	default:
		if n, ok := asNumber(v); ok {
			switch n.kind {
			case numInt:
				b.WriteString(strconv.FormatInt(n.i, 10))
			case numBig:
				b.WriteString(bigRepr(n.b))
			case numFloat:
				b.WriteString(FloatRepr(n.f))
			case numComplex:
				b.WriteString(complexRepr(n.c))
			}
			return
		}
		b.WriteString("<object>")
	}
}

func (r *reprState) dict(items []DictItem, depth int) {
	r.b.WriteString("{")
	for i, it := range items {
		if i > 0 {
			r.b.WriteString(", ")
		}
		r.repr(it.Key, depth+1)
		r.b.WriteString(": ")
		r.repr(it.Value, depth+1)
	}
	r.b.WriteString("}")
}

func (r *reprState) object(o *Object, depth int) {
	if o == nil {
		r.b.WriteString("None")
		return
	}
	if !r.enter(o) {
		r.b.WriteString("...")
		return
	}
	defer r.leave()
	name := o.Class.Name
	if o.Class.Module != "builtins" && !isExceptionClass(o.Class) {
		name = o.Class.Module + "." + name
	}
	r.b.WriteString(name)
	r.b.WriteString("(")
	n := 0
	sep := func() {
		if n > 0 {
			r.b.WriteString(", ")
		}
		n++
	}
	args := o.Args
	if o.Kind == BuildReconstructor {
		args = nil
	}
	for _, a := range args {
		sep()
		r.repr(a, depth+1)
	}
	if o.Kwargs != nil {
		for _, it := range o.Kwargs.Items() {
			sep()
			r.b.WriteString(Str(it.Key) + "=")
			r.repr(it.Value, depth+1)
		}
	}
	if len(o.Args) == 0 || o.Kind == BuildNewObj {
		switch st := o.State.(type) {
		case Tuple:
			if len(st) == 2 {
				if d, ok := st[1].(*Dict); ok && st[0] == nil {
					r.kw(d, sep, depth)
					break
				}
			}
			for _, a := range st {
				sep()
				r.repr(a, depth+1)
			}
		case *Dict:
			r.kw(st, sep, depth)
		}
	}
	for _, a := range o.ListItems {
		sep()
		r.repr(a, depth+1)
	}
	for _, it := range o.DictItems {
		sep()
		r.b.WriteString("(")
		r.repr(it.Key, depth+1)
		r.b.WriteString(", ")
		r.repr(it.Value, depth+1)
		r.b.WriteString(")")
	}
	r.b.WriteString(")")
}

func (r *reprState) kw(d *Dict, sep func(), depth int) {
	for _, it := range d.Items() {
		sep()
		r.b.WriteString(Str(it.Key) + "=")
		r.repr(it.Value, depth+1)
	}
}

// bigRepr is the decimal form of b, or a summary for integers too large to
// convert quickly (CPython 3.11+ raises ValueError past 4300 digits).
func bigRepr(b *big.Int) string {
	if b.BitLen() > maxTextIntBits {
		return "<int of " + strconv.Itoa(b.BitLen()) + " bits>"
	}
	return b.String()
}

// FloatRepr formats f as Python's repr(float) does: the shortest string that
// round-trips, with exponent form when the decimal exponent is < -4 or >= 16
// ('1e+16', '1e-05', '0.0001', '1.0', 'inf', '-inf', 'nan').
func FloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// floatReprNoDot is repr(float) without the forced '.0' (used by complex).
func floatReprNoDot(f float64) string {
	s := FloatRepr(f)
	return strings.TrimSuffix(s, ".0")
}

func complexRepr(c complex128) string {
	re, im := real(c), imag(c)
	if re == 0 && !math.Signbit(re) {
		return floatReprNoDot(im) + "j"
	}
	s := "(" + floatReprNoDot(re)
	ims := floatReprNoDot(im)
	if !strings.HasPrefix(ims, "-") {
		s += "+"
	}
	return s + ims + "j)"
}

// decodeWTF8 decodes one code point from s, accepting encoded surrogates
// (WTF-8). An invalid byte is returned as the surrogate-escape U+DC80+b.
func decodeWTF8(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	if r != utf8.RuneError || n != 1 {
		return r, n
	}
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return rune(0xD000 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F)), 3
	}
	return rune(0xDC00 + int(s[0])), 1
}

const hexDigits = "0123456789abcdef"

// strRepr is Python 3's repr(str).
func strRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == quote || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&15])
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, n := decodeWTF8(s[i:])
		if r >= 0xD800 && r <= 0xDFFF || !unicode.IsPrint(r) {
			writeEscape(&b, r)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte(quote)
	return b.String()
}

func writeEscape(b *strings.Builder, r rune) {
	switch {
	case r < 0x100:
		b.WriteString(`\x`)
		writeHex(b, uint32(r), 2)
	case r < 0x10000:
		b.WriteString(`\u`)
		writeHex(b, uint32(r), 4)
	default:
		b.WriteString(`\U`)
		writeHex(b, uint32(r), 8)
	}
}

func writeHex(b *strings.Builder, v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		b.WriteByte(hexDigits[(v>>(4*uint(i)))&15])
	}
}

// bytesRepr is Python 3's repr(bytes).
func bytesRepr(p []byte) string {
	quote := byte('\'')
	s := string(p)
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(p) + 3)
	b.WriteString("b")
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
