package pyjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/mpgo/mpgo/pickle"
)

// maxDepth bounds the nesting of values in both directions.
const maxDepth = 10000

// Marshal returns the JSON form of the value-model value v.
func Marshal(v any) ([]byte, error) {
	return MarshalIndent(v, "", "")
}

// MarshalIndent is like [Marshal] but formats the output as
// encoding/json.MarshalIndent does.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	e := encoder{seen: map[any]string{}}
	if err := e.value(v, "", 0); err != nil {
		return nil, err
	}
	if prefix == "" && indent == "" {
		return e.buf.Bytes(), nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, e.buf.Bytes(), prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type encoder struct {
	buf  bytes.Buffer
	seen map[any]string // container identity -> JSON pointer of its first occurrence
}

// identity returns the identity key of a container, or nil.
func identity(v any) any {
	switch x := v.(type) {
	case *pickle.List, *pickle.Dict, *pickle.Set, *pickle.Object:
		return x
	case pickle.FrozenSet:
		if x.Len() == 0 {
			return nil
		}
		return x
	case pickle.Tuple:
		if len(x) == 0 {
			return nil
		}
		return unsafe.SliceData(x)
	}
	return nil
}

// escapePointer escapes a JSON pointer reference token.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (e *encoder) value(v any, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("pyjson: value nested deeper than %d levels", maxDepth)
	}
	depth++
	if id := identity(v); id != nil {
		if p, ok := e.seen[id]; ok {
			e.buf.WriteString(`{"$ref":`)
			e.str(p)
			e.buf.WriteByte('}')
			return nil
		}
		e.seen[id] = path
	}
	switch x := v.(type) {
	case nil:
		e.buf.WriteString("null")
	case bool:
		if x {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case int64:
		e.buf.WriteString(strconv.FormatInt(x, 10))
	case pickle.Py2Int:
		e.buf.WriteString(strconv.FormatInt(int64(x), 10))
	case pickle.Py2Long:
		e.buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int:
		e.buf.WriteString(strconv.Itoa(x))
	case *big.Int:
		if x == nil {
			e.buf.WriteString("null")
		} else {
			e.buf.WriteString(x.String())
		}
	case float64:
		e.float(x)
	case complex128:
		e.buf.WriteString(`{"$complex":[`)
		e.float(real(x))
		e.buf.WriteByte(',')
		e.float(imag(x))
		e.buf.WriteString("]}")
	case string:
		e.str(x)
	case pickle.Py2String:
		if utf8.ValidString(string(x)) {
			e.str(string(x))
		} else {
			e.tagged("$bytes", base64.StdEncoding.EncodeToString([]byte(x)))
		}
	case []byte:
		e.tagged("$bytes", base64.StdEncoding.EncodeToString(x))
	case pickle.ByteArray:
		e.tagged("$bytearray", base64.StdEncoding.EncodeToString(x))
	case pickle.Tuple:
		return e.array(x, path, depth)
	case *pickle.List:
		return e.array(x.Items, path, depth)
	case *pickle.Dict:
		return e.dict(x.Items(), path, depth)
	case *pickle.Set:
		e.buf.WriteString(`{"$set":`)
		if err := e.array(x.Items(), path+"/$set", depth); err != nil {
			return err
		}
		e.buf.WriteByte('}')
	case pickle.FrozenSet:
		e.buf.WriteString(`{"$frozenset":`)
		if err := e.array(x.Items(), path+"/$frozenset", depth); err != nil {
			return err
		}
		e.buf.WriteByte('}')
	case pickle.Global:
		e.tagged("$global", x.Module+"."+x.Name)
	case *pickle.Object:
		return e.object(x, path, depth)
	case pickle.Marshaler:
		m, err := x.MarshalPickle()
		if err != nil {
			return fmt.Errorf("pyjson: %T: %w", v, err)
		}
		return e.value(m, path, depth)
	case int32, int16, int8, uint8, uint16, uint32:
		fmt.Fprint(&e.buf, x)
	case uint, uint64:
		fmt.Fprint(&e.buf, x)
	case float32:
		e.float(float64(x))
	default:
		return fmt.Errorf("pyjson: unsupported type %T", v)
	}
	return nil
}

func (e *encoder) tagged(tag, s string) {
	e.buf.WriteString(`{"`)
	e.buf.WriteString(tag)
	e.buf.WriteString(`":`)
	e.str(s)
	e.buf.WriteByte('}')
}

// float writes a float as Python's repr does, which is valid JSON for finite
// values; NaN and the infinities get the $float form.
func (e *encoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.tagged("$float", "nan")
	case math.IsInf(f, 1):
		e.tagged("$float", "inf")
	case math.IsInf(f, -1):
		e.tagged("$float", "-inf")
	default:
		e.buf.WriteString(pickle.FloatRepr(f))
	}
}

func (e *encoder) array(items []any, path string, depth int) error {
	e.buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.value(it, path+"/"+strconv.Itoa(i), depth); err != nil {
			return err
		}
	}
	e.buf.WriteByte(']')
	return nil
}

func (e *encoder) pairs(items []pickle.DictItem, path string, depth int) error {
	e.buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		p := path + "/" + strconv.Itoa(i)
		e.buf.WriteByte('[')
		if err := e.value(it.Key, p+"/0", depth); err != nil {
			return err
		}
		e.buf.WriteByte(',')
		if err := e.value(it.Value, p+"/1", depth); err != nil {
			return err
		}
		e.buf.WriteByte(']')
	}
	e.buf.WriteByte(']')
	return nil
}

func (e *encoder) dict(items []pickle.DictItem, path string, depth int) error {
	for _, it := range items {
		switch it.Key.(type) {
		case string, pickle.Py2String:
			continue
		}
		e.buf.WriteString(`{"$dict":`)
		if err := e.pairs(items, path+"/$dict", depth); err != nil {
			return err
		}
		e.buf.WriteByte('}')
		return nil
	}
	e.buf.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		var k string
		switch x := it.Key.(type) {
		case string:
			k = x
		case pickle.Py2String:
			k = string(x)
		}
		e.str(k)
		e.buf.WriteByte(':')
		if err := e.value(it.Value, path+"/"+escapePointer(k), depth); err != nil {
			return err
		}
	}
	e.buf.WriteByte('}')
	return nil
}

var buildNames = map[pickle.BuildKind]string{
	pickle.BuildReduce:        "reduce",
	pickle.BuildNewObj:        "newobj",
	pickle.BuildNewObjEx:      "newobj_ex",
	pickle.BuildInst:          "inst",
	pickle.BuildReconstructor: "reconstructor",
}

func (e *encoder) object(o *pickle.Object, path string, depth int) error {
	e.buf.WriteString(`{"$class":`)
	if o.Class == (pickle.Global{}) && o.Callable != nil {
		e.buf.WriteString(`null,"callable":`)
		if err := e.value(o.Callable, path+"/callable", depth); err != nil {
			return err
		}
	} else {
		e.str(o.Class.Module + "." + o.Class.Name)
	}
	e.buf.WriteString(`,"build":`)
	b, ok := buildNames[o.Kind]
	if !ok {
		b = strconv.Itoa(int(o.Kind))
	}
	e.str(b)
	e.buf.WriteString(`,"args":`)
	args := o.Args
	if args == nil {
		args = pickle.Tuple{}
	}
	if err := e.array(args, path+"/args", depth); err != nil {
		return err
	}
	if o.Kwargs != nil {
		e.buf.WriteString(`,"kwargs":`)
		if err := e.value(o.Kwargs, path+"/kwargs", depth); err != nil {
			return err
		}
	}
	if o.State != nil {
		e.buf.WriteString(`,"state":`)
		if err := e.value(o.State, path+"/state", depth); err != nil {
			return err
		}
	}
	if len(o.ListItems) > 0 {
		e.buf.WriteString(`,"listitems":`)
		if err := e.array(o.ListItems, path+"/listitems", depth); err != nil {
			return err
		}
	}
	if len(o.DictItems) > 0 {
		e.buf.WriteString(`,"dictitems":`)
		if err := e.pairs(o.DictItems, path+"/dictitems", depth); err != nil {
			return err
		}
	}
	e.buf.WriteByte('}')
	return nil
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string. s is WTF-8: an encoded surrogate is written
// as its \udXXX escape, and any other invalid byte b as the
// surrogate-escape \udcXX (b + 0xdc00), as Python's surrogateescape does.
func (e *encoder) str(s string) {
	e.buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf.WriteByte('\\')
				e.buf.WriteByte(c)
			case c == '\n':
				e.buf.WriteString(`\n`)
			case c == '\r':
				e.buf.WriteString(`\r`)
			case c == '\t':
				e.buf.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				e.buf.WriteString(`\u00`)
				e.buf.WriteByte(hexDigits[c>>4])
				e.buf.WriteByte(hexDigits[c&15])
			default:
				e.buf.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			if len(s) >= i+3 && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
				sur := 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
				fmt.Fprintf(&e.buf, `\u%04x`, sur)
				i += 3
				continue
			}
			fmt.Fprintf(&e.buf, `\u%04x`, 0xDC00+int(c))
			i++
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			fmt.Fprintf(&e.buf, `\u%04x`, r)
		} else {
			e.buf.WriteString(s[i : i+n])
		}
		i += n
	}
	e.buf.WriteByte('"')
}

// Unmarshal reads one JSON value from data into the value model (see the
// package documentation). Trailing data other than white space is an error.
func Unmarshal(data []byte) (any, error) {
	p := parser{data: data}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos < len(p.data) {
		return nil, p.errorf("trailing data after the JSON value")
	}
	return v, nil
}

// parser is a small JSON reader. Unlike encoding/json it keeps lone
// surrogate escapes (\ud800) as the WTF-8 the value model uses, keeps the
// text of numbers, and reads objects in document order.
type parser struct {
	data []byte
	pos  int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("pyjson: %s at offset %d", fmt.Sprintf(format, args...), p.pos)
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("JSON nested deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of JSON input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		p.pos++
		var items []pickle.DictItem
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return object(items)
		}
		for {
			p.skipWS()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, p.errorf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipWS()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, p.errorf("expected ':'")
			}
			p.pos++
			p.skipWS()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, pickle.DictItem{Key: k, Value: v})
			p.skipWS()
			if p.pos >= len(p.data) {
				return nil, p.errorf("unexpected end of JSON input")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				return object(items)
			}
			return nil, p.errorf("expected ',' or '}'")
		}
	case c == '[':
		p.pos++
		items := []any{}
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return pickle.NewList(items...), nil
		}
		for {
			p.skipWS()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			p.skipWS()
			if p.pos >= len(p.data) {
				return nil, p.errorf("unexpected end of JSON input")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return pickle.NewList(items...), nil
			}
			return nil, p.errorf("expected ',' or ']'")
		}
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		if c == '-' {
			p.pos++
		}
		digits := func() int {
			n := 0
			for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
				p.pos++
				n++
			}
			return n
		}
		if p.pos < len(p.data) && p.data[p.pos] == '0' {
			p.pos++
		} else if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
		if p.pos < len(p.data) && p.data[p.pos] == '.' {
			p.pos++
			if digits() == 0 {
				return nil, p.errorf("invalid number")
			}
		}
		if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
			p.pos++
			if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
				p.pos++
			}
			if digits() == 0 {
				return nil, p.errorf("invalid number")
			}
		}
		return number(string(p.data[start:p.pos]))
	}
	for _, lit := range []struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if bytes.HasPrefix(p.data[p.pos:], []byte(lit.text)) {
			p.pos += len(lit.text)
			return lit.v, nil
		}
	}
	return nil, p.errorf("invalid character %q", p.data[p.pos])
}

// hex4 reads the 4 hex digits of a \u escape at p.pos.
func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(v), true
}

// str reads a JSON string at p.pos (the opening quote) into WTF-8.
func (p *parser) str() (string, error) {
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c == '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.errorf("unterminated string")
			}
			e := p.data[p.pos]
			p.pos++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if r >= 0xD800 && r < 0xDC00 && p.pos+6 <= len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					if r2, ok := p.hex4(); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
						r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
					} else {
						p.pos = save
					}
				}
				writeWTF8(&b, r)
			default:
				return "", p.errorf("invalid escape '\\%c'", e)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && n == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.Write(p.data[p.pos : p.pos+n])
			}
			p.pos += n
		}
	}
}

// writeWTF8 writes r, encoding a lone surrogate as its 3-byte form (the
// value model's representation of Python's lone surrogates).
func writeWTF8(b *strings.Builder, r rune) {
	if r >= 0xD800 && r <= 0xDFFF {
		b.WriteByte(0xED)
		b.WriteByte(byte(0x80 | (r>>6)&0x3F))
		b.WriteByte(byte(0x80 | r&0x3F))
		return
	}
	b.WriteRune(r)
}

// number converts a JSON number: integers to int64 or *big.Int, others to
// float64.
func number(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("pyjson: bad number %q", s)
	}
	return f, nil
}

// object builds a *Dict, or the value of a "$" form.
func object(items []pickle.DictItem) (any, error) {
	if len(items) >= 1 {
		if k := items[0].Key.(string); strings.HasPrefix(k, "$") {
			if v, ok, err := special(items); ok || err != nil {
				return v, err
			}
		}
	}
	d := pickle.NewDict()
	for _, it := range items {
		if err := d.Set(it.Key, it.Value); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func listItems(v any) ([]any, bool) {
	l, ok := v.(*pickle.List)
	if !ok {
		return nil, false
	}
	return l.Items, true
}

func pairItems(v any) ([]pickle.DictItem, error) {
	items, ok := listItems(v)
	if !ok {
		return nil, errors.New("pyjson: $dict/dictitems must be a list of pairs")
	}
	out := make([]pickle.DictItem, len(items))
	for i, it := range items {
		p, ok := listItems(it)
		if !ok || len(p) != 2 {
			return nil, errors.New("pyjson: $dict/dictitems must be a list of pairs")
		}
		out[i] = pickle.DictItem{Key: hashable(p[0]), Value: p[1]}
	}
	return out, nil
}

// hashable turns decoded JSON lists (tuples in the original) into tuples so
// that they can be dict keys and set members again.
func hashable(v any) any {
	if l, ok := v.(*pickle.List); ok {
		t := make(pickle.Tuple, len(l.Items))
		for i, it := range l.Items {
			t[i] = hashable(it)
		}
		return t
	}
	return v
}

func splitClass(s string) pickle.Global {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return pickle.Global{Module: "builtins", Name: s}
	}
	return pickle.Global{Module: s[:i], Name: s[i+1:]}
}

// special decodes the "$" forms; ok is false for an ordinary object whose
// first key merely starts with "$".
func special(items []pickle.DictItem) (any, bool, error) {
	key := items[0].Key.(string)
	val := items[0].Value
	if key == "$class" {
		o := &pickle.Object{Args: pickle.Tuple{}}
		if cls, ok := val.(string); ok {
			o.Class = splitClass(cls)
		}
		for _, it := range items[1:] {
			switch it.Key.(string) {
			case "callable":
				o.Callable = it.Value
			case "build":
				s, _ := it.Value.(string)
				for k, name := range buildNames {
					if name == s {
						o.Kind = k
					}
				}
			case "args":
				a, _ := listItems(it.Value)
				o.Args = pickle.Tuple(a)
			case "kwargs":
				o.Kwargs, _ = it.Value.(*pickle.Dict)
			case "state":
				o.State = it.Value
			case "listitems":
				o.ListItems, _ = listItems(it.Value)
			case "dictitems":
				p, err := pairItems(it.Value)
				if err != nil {
					return nil, true, err
				}
				o.DictItems = p
			}
		}
		return o, true, nil
	}
	if len(items) != 1 {
		return nil, false, nil
	}
	s, isStr := val.(string)
	switch key {
	case "$bytes", "$bytearray":
		if !isStr {
			return nil, true, fmt.Errorf("pyjson: %s must be a base64 string", key)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, true, fmt.Errorf("pyjson: %s: %w", key, err)
		}
		if key == "$bytearray" {
			return pickle.ByteArray(b), true, nil
		}
		return b, true, nil
	case "$float":
		switch s {
		case "nan":
			return math.NaN(), true, nil
		case "inf":
			return math.Inf(1), true, nil
		case "-inf":
			return math.Inf(-1), true, nil
		}
		return nil, true, fmt.Errorf("pyjson: bad $float %q", s)
	case "$complex":
		p, ok := listItems(val)
		if !ok || len(p) != 2 {
			return nil, true, errors.New("pyjson: $complex must be [real, imag]")
		}
		re, ok1 := toFloat(p[0])
		im, ok2 := toFloat(p[1])
		if !ok1 || !ok2 {
			return nil, true, errors.New("pyjson: $complex must be [real, imag]")
		}
		return complex(re, im), true, nil
	case "$set", "$frozenset":
		p, ok := listItems(val)
		if !ok {
			return nil, true, fmt.Errorf("pyjson: %s must be a list", key)
		}
		for i := range p {
			p[i] = hashable(p[i])
		}
		if key == "$set" {
			set, err := pickle.NewSet(p...)
			return set, true, err
		}
		fs, err := pickle.NewFrozenSet(p...)
		return fs, true, err
	case "$global":
		return splitClass(s), true, nil
	case "$dict":
		p, err := pairItems(val)
		if err != nil {
			return nil, true, err
		}
		d := pickle.NewDict()
		for _, it := range p {
			if err := d.Set(it.Key, it.Value); err != nil {
				return nil, true, err
			}
		}
		return d, true, nil
	case "$ref":
		return nil, true, errors.New("pyjson: $ref cannot be read back")
	}
	return nil, false, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	}
	return 0, false
}
