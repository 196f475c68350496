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

	"github.com/mpgo/mpgo/pickle"
)

// buildNames are the "build" names of ToJSON's object form.
var buildNames = map[pickle.BuildKind]string{
	pickle.BuildReduce:        "reduce",
	pickle.BuildNewObj:        "newobj",
	pickle.BuildNewObjEx:      "newobj_ex",
	pickle.BuildInst:          "inst",
	pickle.BuildReconstructor: "reconstructor",
}

// maxDepth bounds the nesting of values in both directions.
const maxDepth = 10000

// Marshal returns the JSON form of the value-model value v.
func Marshal(v any) ([]byte, error) {
	return MarshalIndent(v, "", "")
}

// MarshalIndent is like [Marshal] but formats the output as
// encoding/json.MarshalIndent does.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := pickle.ToJSON(v)
	if err != nil {
		return nil, err
	}
	if prefix == "" && indent == "" {
		return b, nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
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
