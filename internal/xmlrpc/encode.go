package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/mpgo/mpgo/pickle"
)

// MaxDepth is the deepest nesting of arrays and structs Marshal writes and Unmarshal reads.
// CPython's own xmlrpclib cannot write values much deeper (its marshaller recurses, and the
// recursion limit is 1000).
const MaxDepth = 1000

// Marshal encodes v as CPython's multiprocessing does (xmlrpclib.dumps((v,), None, None,
// None, 1)): a <params> document holding one <param>. See the package documentation for the
// values it can encode.
func Marshal(v any) ([]byte, error) { return AppendMarshal(nil, v) }

// AppendMarshal is Marshal appending to dst. On error dst is returned unchanged (its spare
// capacity may have been written to).
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	e.buf = append(e.buf, "<params>\n<param>\n"...)
	if err := e.value(v, 0); err != nil {
		return dst, err
	}
	e.buf = append(e.buf, "</param>\n</params>\n"...)
	return e.buf, nil
}

type encoder struct {
	buf    []byte
	active map[any]struct{} // the containers being written (cycle detection)
}

func (e *encoder) value(v any, depth int) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "<value><nil/></value>"...)
	case bool:
		if x {
			e.buf = append(e.buf, "<value><boolean>1</boolean></value>\n"...)
		} else {
			e.buf = append(e.buf, "<value><boolean>0</boolean></value>\n"...)
		}
	case int64:
		e.int(x)
	case int:
		e.int(int64(x))
	case int32:
		e.int(int64(x))
	case *big.Int:
		if x == nil || !x.IsInt64() {
			return &UnsupportedValueError{Value: v, Msg: "int exceeds XML-RPC limits"}
		}
		e.int(x.Int64())
	case float64:
		e.float(x)
	case float32:
		e.float(float64(x))
	case string:
		e.buf = append(e.buf, "<value><string>"...)
		if err := e.text(x); err != nil {
			return err
		}
		e.buf = append(e.buf, "</string></value>\n"...)
	case pickle.Py2String:
		return e.value(string(x), depth)
	case []byte:
		e.base64(x)
	case pickle.ByteArray:
		e.base64(x)
	case DateTime:
		e.buf = append(e.buf, "<value><dateTime.iso8601>"...)
		if err := e.text(x.Value); err != nil {
			return err
		}
		e.buf = append(e.buf, "</dateTime.iso8601></value>\n"...)
	case pickle.Tuple:
		return e.array(x, depth)
	case []any:
		return e.array(x, depth)
	case *pickle.List:
		if x == nil {
			return &UnsupportedTypeError{Type: "NoneType"}
		}
		if err := e.enter(x, depth); err != nil {
			return err
		}
		defer delete(e.active, x)
		return e.array(x.Items, depth)
	case *pickle.Dict:
		if x == nil {
			return &UnsupportedTypeError{Type: "NoneType"}
		}
		if err := e.enter(x, depth); err != nil {
			return err
		}
		defer delete(e.active, x)
		return e.dict(x, depth)
	case map[string]any:
		if depth >= MaxDepth {
			return &UnsupportedValueError{Value: v, Msg: fmt.Sprintf("nested deeper than %d", MaxDepth)}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.buf = append(e.buf, "<value><struct>\n"...)
		for _, k := range keys {
			if err := e.member(k, x[k], depth); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, "</struct></value>\n"...)
	case pickle.Marshaler:
		if depth >= MaxDepth {
			return &UnsupportedValueError{Value: v, Msg: fmt.Sprintf("nested deeper than %d", MaxDepth)}
		}
		pv, err := x.MarshalPickle()
		if err != nil {
			return err
		}
		return e.value(pv, depth+1)
	default:
		return e.reflectValue(v, depth)
	}
	return nil
}

// reflectValue encodes the other Go integer and float kinds, slices of any element type and
// maps with string keys.
func (e *encoder) reflectValue(v any, depth int) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return &UnsupportedValueError{Value: v, Msg: "int exceeds XML-RPC limits"}
		}
		e.int(int64(u))
		return nil
	case reflect.Float32, reflect.Float64:
		e.float(rv.Float())
		return nil
	case reflect.String:
		return e.value(rv.String(), depth)
	case reflect.Bool:
		return e.value(rv.Bool(), depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			break
		}
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		return e.array(items, depth)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String || rv.IsNil() {
			break
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return e.value(m, depth)
	}
	return &UnsupportedTypeError{Type: pickle.TypeName(v)}
}

// enter marks a container as being written: a container inside itself cannot be written.
func (e *encoder) enter(p any, depth int) error {
	if depth >= MaxDepth {
		return &UnsupportedValueError{Value: p, Msg: fmt.Sprintf("nested deeper than %d", MaxDepth)}
	}
	if e.active == nil {
		e.active = map[any]struct{}{}
	}
	if _, ok := e.active[p]; ok {
		what := "sequences"
		if _, ok := p.(*pickle.Dict); ok {
			what = "dictionaries"
		}
		return &UnsupportedValueError{Value: p, Msg: "cannot marshal recursive " + what}
	}
	e.active[p] = struct{}{}
	return nil
}

func (e *encoder) int(i int64) {
	tag := "int"
	if i < math.MinInt32 || i > math.MaxInt32 {
		tag = "i8"
	}
	e.buf = append(e.buf, "<value><"...)
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '>')
	e.buf = strconv.AppendInt(e.buf, i, 10)
	e.buf = append(e.buf, "</"...)
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, "></value>\n"...)
}

func (e *encoder) float(f float64) {
	e.buf = append(e.buf, "<value><double>"...)
	e.buf = append(e.buf, pickle.FloatRepr(f)...)
	e.buf = append(e.buf, "</double></value>\n"...)
}

// base64 writes b as CPython does: base64.encodebytes, lines of 76 characters each ending in
// a newline.
func (e *encoder) base64(b []byte) {
	e.buf = append(e.buf, "<value><base64>\n"...)
	const perLine = 57 // input bytes per 76-character line
	for len(b) > 0 {
		n := min(len(b), perLine)
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b[:n])
		e.buf = append(e.buf, '\n')
		b = b[n:]
	}
	e.buf = append(e.buf, "</base64></value>\n"...)
}

func (e *encoder) array(items []any, depth int) error {
	if depth >= MaxDepth {
		return &UnsupportedValueError{Value: pickle.Tuple(items), Msg: fmt.Sprintf("nested deeper than %d", MaxDepth)}
	}
	e.buf = append(e.buf, "<value><array><data>\n"...)
	for _, it := range items {
		if err := e.value(it, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, "</data></array></value>\n"...)
	return nil
}

func (e *encoder) dict(d *pickle.Dict, depth int) error {
	e.buf = append(e.buf, "<value><struct>\n"...)
	var err error
	d.Range(func(k, v any) bool {
		var ks string
		switch kk := k.(type) {
		case string:
			ks = kk
		case pickle.Py2String:
			ks = string(kk)
		default:
			err = &UnsupportedValueError{Value: k, Msg: "dictionary key must be string"}
			return false
		}
		err = e.member(ks, v, depth)
		return err == nil
	})
	if err != nil {
		return err
	}
	e.buf = append(e.buf, "</struct></value>\n"...)
	return nil
}

func (e *encoder) member(k string, v any, depth int) error {
	e.buf = append(e.buf, "<member>\n<name>"...)
	if err := e.text(k); err != nil {
		return err
	}
	e.buf = append(e.buf, "</name>\n"...)
	if err := e.value(v, depth+1); err != nil {
		return err
	}
	e.buf = append(e.buf, "</member>\n"...)
	return nil
}

// text appends s escaped as character data.
func (e *encoder) text(s string) error {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#13;"
			case c < 0x20 && c != '\t' && c != '\n':
				return &UnsupportedValueError{Value: s, Msg: fmt.Sprintf("character U+%04X cannot be carried by XML", c)}
			default:
				i++
				continue
			}
			e.buf = append(e.buf, s[last:i]...)
			e.buf = append(e.buf, esc...)
			i++
			last = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return &UnsupportedValueError{Value: s, Msg: fmt.Sprintf("invalid UTF-8 (or a lone surrogate) at byte %d cannot be carried by XML", i)}
		}
		if r == 0xFFFE || r == 0xFFFF {
			return &UnsupportedValueError{Value: s, Msg: fmt.Sprintf("character U+%04X cannot be carried by XML", r)}
		}
		i += n
	}
	e.buf = append(e.buf, s[last:]...)
	return nil
}
