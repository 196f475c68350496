package pickle

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// ToJSON returns the JSON form of the value-model value v, as `mpgo pickle
// json` writes it and as the MarshalJSON methods of the value-model types
// give it to encoding/json:
//
//	Python (value model)          JSON
//	None (nil)                    null
//	bool                          true / false
//	int (int64, *big.Int, ...)    a number, exactly (big ints too)
//	float (float64)               a number with a '.' or an exponent (1.0, 1e+20)
//	float nan, inf, -inf          {"$float": "nan"} / {"$float": "inf"} / {"$float": "-inf"}
//	complex (complex128)          {"$complex": [real, imag]}
//	str (string)                  a string; a lone surrogate is written as a \udXXX escape
//	Python 2 str (Py2String)      a string when it is valid UTF-8, else {"$bytes": base64}
//	bytes ([]byte)                {"$bytes": "<standard base64>"}
//	bytearray (ByteArray)         {"$bytearray": "<standard base64>"}
//	tuple (Tuple)                 an array
//	list (*List)                  an array
//	dict (*Dict), all keys str    an object, in insertion order
//	dict with other keys          {"$dict": [[key, value], ...]}
//	set (*Set)                    {"$set": [...]}
//	frozenset (FrozenSet)         {"$frozenset": [...]}
//	a global (Global)             {"$global": "module.Name"}
//	an object (*Object)           {"$class": "module.Name", "build": "reduce", "args": [...],
//	                               "kwargs": {...}, "state": ..., "listitems": [...],
//	                               "dictitems": [[key, value], ...]}
//	                               (build is reduce, newobj, newobj_ex, inst or
//	                               reconstructor; kwargs, state, listitems and
//	                               dictitems only when present; "$class": null and
//	                               "callable": ... when the callable of a REDUCE is
//	                               not a global)
//	a container seen before       {"$ref": "<JSON pointer of its first occurrence>"}
//
// A dict with keys other than strings is not an object, since JSON keys are
// strings and turning 1 and '1' both into "1" would lose a key. Containers
// are tracked by identity: the second and later occurrences of the same
// container, which include every cycle, are written as a $ref to the JSON
// pointer (RFC 6901) of the first one. Go values that are not of the value
// model are written through their Marshaler form when they have one (the
// std types do), Go integer kinds as numbers; anything else is an error.
func ToJSON(v any) ([]byte, error) {
	e := jsonEncoder{seen: map[any]string{}}
	if err := e.value(v, "", 0); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// MarshalJSON implements json.Marshaler: see ToJSON.
func (l *List) MarshalJSON() ([]byte, error) { return ToJSON(l) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (d *Dict) MarshalJSON() ([]byte, error) { return ToJSON(d) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (s *Set) MarshalJSON() ([]byte, error) { return ToJSON(s) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (f FrozenSet) MarshalJSON() ([]byte, error) { return ToJSON(f) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (t Tuple) MarshalJSON() ([]byte, error) { return ToJSON(t) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (o *Object) MarshalJSON() ([]byte, error) { return ToJSON(o) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (b ByteArray) MarshalJSON() ([]byte, error) { return ToJSON(b) }

// MarshalJSON implements json.Marshaler: see ToJSON.
func (g Global) MarshalJSON() ([]byte, error) { return ToJSON(g) }

type jsonEncoder struct {
	buf  bytes.Buffer
	seen map[any]string // container identity -> JSON pointer of its first occurrence
}

// identity returns the identity key of a container, or nil.
func jsonIdentity(v any) any {
	switch x := v.(type) {
	case *List, *Dict, *Set, *Object:
		return x
	case FrozenSet:
		if x.Len() == 0 {
			return nil
		}
		return x
	case Tuple:
		if len(x) == 0 {
			return nil
		}
		return unsafe.SliceData(x)
	}
	return nil
}

// escapePointer escapes a JSON pointer reference token.
func jsonEscapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (e *jsonEncoder) value(v any, path string, depth int) error {
	if depth > maxCompareDepth {
		return fmt.Errorf("pickle: value nested deeper than %d levels", maxCompareDepth)
	}
	depth++
	if id := jsonIdentity(v); id != nil {
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
	case Py2Int:
		e.buf.WriteString(strconv.FormatInt(int64(x), 10))
	case Py2Long:
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
	case Py2String:
		if utf8.ValidString(string(x)) {
			e.str(string(x))
		} else {
			e.tagged("$bytes", base64.StdEncoding.EncodeToString([]byte(x)))
		}
	case []byte:
		e.tagged("$bytes", base64.StdEncoding.EncodeToString(x))
	case ByteArray:
		e.tagged("$bytearray", base64.StdEncoding.EncodeToString(x))
	case Tuple:
		return e.array(x, path, depth)
	case *List:
		return e.array(x.Items, path, depth)
	case *Dict:
		return e.dict(x.Items(), path, depth)
	case *Set:
		e.buf.WriteString(`{"$set":`)
		if err := e.array(x.Items(), path+"/$set", depth); err != nil {
			return err
		}
		e.buf.WriteByte('}')
	case FrozenSet:
		e.buf.WriteString(`{"$frozenset":`)
		if err := e.array(x.Items(), path+"/$frozenset", depth); err != nil {
			return err
		}
		e.buf.WriteByte('}')
	case Global:
		e.tagged("$global", x.Module+"."+x.Name)
	case *Object:
		return e.object(x, path, depth)
	case Marshaler:
		m, err := x.MarshalPickle()
		if err != nil {
			return fmt.Errorf("pickle: %T: %w", v, err)
		}
		return e.value(m, path, depth)
	case int32, int16, int8, uint8, uint16, uint32:
		fmt.Fprint(&e.buf, x)
	case uint, uint64:
		fmt.Fprint(&e.buf, x)
	case float32:
		e.float(float64(x))
	default:
		return fmt.Errorf("pickle: unsupported type %T", v)
	}
	return nil
}

func (e *jsonEncoder) tagged(tag, s string) {
	e.buf.WriteString(`{"`)
	e.buf.WriteString(tag)
	e.buf.WriteString(`":`)
	e.str(s)
	e.buf.WriteByte('}')
}

// float writes a float as Python's repr does, which is valid JSON for finite
// values; NaN and the infinities get the $float form.
func (e *jsonEncoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.tagged("$float", "nan")
	case math.IsInf(f, 1):
		e.tagged("$float", "inf")
	case math.IsInf(f, -1):
		e.tagged("$float", "-inf")
	default:
		e.buf.WriteString(FloatRepr(f))
	}
}

func (e *jsonEncoder) array(items []any, path string, depth int) error {
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

func (e *jsonEncoder) pairs(items []DictItem, path string, depth int) error {
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

func (e *jsonEncoder) dict(items []DictItem, path string, depth int) error {
	for _, it := range items {
		switch it.Key.(type) {
		case string, Py2String:
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
		case Py2String:
			k = string(x)
		}
		e.str(k)
		e.buf.WriteByte(':')
		if err := e.value(it.Value, path+"/"+jsonEscapePointer(k), depth); err != nil {
			return err
		}
	}
	e.buf.WriteByte('}')
	return nil
}

var jsonBuildNames = map[BuildKind]string{
	BuildReduce:        "reduce",
	BuildNewObj:        "newobj",
	BuildNewObjEx:      "newobj_ex",
	BuildInst:          "inst",
	BuildReconstructor: "reconstructor",
}

func (e *jsonEncoder) object(o *Object, path string, depth int) error {
	e.buf.WriteString(`{"$class":`)
	if o.Class == (Global{}) && o.Callable != nil {
		e.buf.WriteString(`null,"callable":`)
		if err := e.value(o.Callable, path+"/callable", depth); err != nil {
			return err
		}
	} else {
		e.str(o.Class.Module + "." + o.Class.Name)
	}
	e.buf.WriteString(`,"build":`)
	b, ok := jsonBuildNames[o.Kind]
	if !ok {
		b = strconv.Itoa(int(o.Kind))
	}
	e.str(b)
	e.buf.WriteString(`,"args":`)
	args := o.Args
	if args == nil {
		args = Tuple{}
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

// str writes s as a JSON string. s is WTF-8: an encoded surrogate is written
// as its \udXXX escape, and any other invalid byte b as the
// surrogate-escape \udcXX (b + 0xdc00), as Python's surrogateescape does.
func (e *jsonEncoder) str(s string) {
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
