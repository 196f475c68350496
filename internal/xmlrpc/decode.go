package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/mpgo/mpgo/pickle"
)

// Unmarshal decodes a document holding one value: <params> with exactly one <param> (what
// CPython's multiprocessing sends), optionally inside <methodResponse>. A <fault> document
// is returned as a [*Fault] error; anything else that is not a valid document is a
// [*SyntaxError]. See the package documentation for the values it returns.
func Unmarshal(data []byte) (v any, err error) {
	defer func() {
		if p := recover(); p != nil { // never expected: the parser checks what it reads
			v, err = nil, &SyntaxError{Msg: fmt.Sprintf("decoder panic: %v", p)}
		}
	}()
	d := &decoder{x: xml.NewDecoder(bytes.NewReader(data))}
	d.x.Strict = true
	return d.document()
}

type decoder struct {
	x *xml.Decoder
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: d.x.InputOffset(), Msg: fmt.Sprintf(format, args...)}
}

// token returns the next start element, end element or character data, skipping comments and
// processing instructions (the XML declaration); a DOCTYPE is an error.
func (d *decoder) token() (xml.Token, error) {
	for {
		t, err := d.x.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, d.errorf("unexpected end of document")
			}
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, d.errorf("%s", se.Msg)
			}
			return nil, d.errorf("%v", err)
		}
		switch t := t.(type) {
		case xml.StartElement, xml.EndElement, xml.CharData:
			return t, nil
		case xml.Directive:
			return nil, d.errorf("DOCTYPE and other declarations are not accepted")
		}
	}
}

// element returns the next start or end element, skipping whitespace.
func (d *decoder) element() (xml.Token, error) {
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		if cd, ok := t.(xml.CharData); ok {
			if len(bytes.TrimSpace(cd)) != 0 {
				return nil, d.errorf("unexpected text %q", truncate(string(cd), 40))
			}
			continue
		}
		return t, nil
	}
}

func (d *decoder) start(name string) error {
	t, err := d.element()
	if err != nil {
		return err
	}
	if s, ok := t.(xml.StartElement); !ok || s.Name.Local != name {
		return d.errorf("expected <%s>, found %s", name, describe(t))
	}
	return nil
}

func (d *decoder) end(name string) error {
	t, err := d.element()
	if err != nil {
		return err
	}
	if e, ok := t.(xml.EndElement); !ok || e.Name.Local != name {
		return d.errorf("expected </%s>, found %s", name, describe(t))
	}
	return nil
}

func describe(t xml.Token) string {
	switch t := t.(type) {
	case xml.StartElement:
		return "<" + t.Name.Local + ">"
	case xml.EndElement:
		return "</" + t.Name.Local + ">"
	}
	return "text"
}

// document reads the whole document.
func (d *decoder) document() (any, error) {
	t, err := d.element()
	if err != nil {
		return nil, err
	}
	s, ok := t.(xml.StartElement)
	if !ok {
		return nil, d.errorf("expected <params>, found %s", describe(t))
	}
	wrapped := false
	if s.Name.Local == "methodResponse" {
		wrapped = true
		if t, err = d.element(); err != nil {
			return nil, err
		}
		if s, ok = t.(xml.StartElement); !ok {
			return nil, d.errorf("expected <params>, found %s", describe(t))
		}
	}
	var v any
	var flt *Fault
	switch s.Name.Local {
	case "params":
		if err := d.start("param"); err != nil {
			return nil, err
		}
		if err := d.start("value"); err != nil {
			return nil, err
		}
		if v, err = d.value(0); err != nil {
			return nil, err
		}
		if err := d.end("param"); err != nil {
			return nil, err
		}
		if err := d.end("params"); err != nil {
			return nil, d.errorf("expected exactly one <param>")
		}
	case "fault":
		if err := d.start("value"); err != nil {
			return nil, err
		}
		fv, err := d.value(0)
		if err != nil {
			return nil, err
		}
		if err := d.end("fault"); err != nil {
			return nil, err
		}
		f, ok := fault(fv)
		if !ok {
			return nil, d.errorf("a fault is not a struct of faultCode and faultString")
		}
		flt = f
	default:
		return nil, d.errorf("expected <params>, found <%s>", s.Name.Local)
	}
	if wrapped {
		if err := d.end("methodResponse"); err != nil {
			return nil, err
		}
	}
	if err := d.trailer(); err != nil {
		return nil, err
	}
	if flt != nil {
		return nil, flt
	}
	return v, nil
}

// trailer checks that nothing but whitespace, comments and processing instructions follow the
// document.
func (d *decoder) trailer() error {
	for {
		t, err := d.x.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return d.errorf("after the document: %v", err)
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return d.errorf("unexpected %s after the document", describe(t))
	}
}

func fault(v any) (*Fault, bool) {
	m, ok := v.(*pickle.Dict)
	if !ok {
		return nil, false
	}
	c, ok1 := m.Get("faultCode")
	s, ok2 := m.Get("faultString")
	if !ok1 || !ok2 {
		return nil, false
	}
	f := &Fault{}
	switch c := c.(type) {
	case int64:
		f.Code = c
	case *big.Int:
		f.Code = -1
	default:
		return nil, false
	}
	f.String, ok = s.(string)
	return f, ok
}

// value reads a value whose <value> start tag has been read, through its end tag.
func (d *decoder) value(depth int) (any, error) {
	var text []byte
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.CharData:
			text = append(text, t...)
			continue
		case xml.EndElement: // untyped: a string
			return string(text), nil
		case xml.StartElement:
			if len(bytes.TrimSpace(text)) != 0 {
				return nil, d.errorf("text before <%s> in a value", t.Name.Local)
			}
			v, err := d.typed(t.Name.Local, depth)
			if err != nil {
				return nil, err
			}
			if err := d.end("value"); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
}

// typed reads the typed element tag whose start tag has been read, through its end tag.
func (d *decoder) typed(tag string, depth int) (any, error) {
	switch tag {
	case "array":
		if depth >= MaxDepth {
			return nil, d.errorf("nested deeper than %d", MaxDepth)
		}
		if err := d.start("data"); err != nil {
			return nil, err
		}
		l := &pickle.List{}
		for {
			t, err := d.element()
			if err != nil {
				return nil, err
			}
			if e, ok := t.(xml.EndElement); ok && e.Name.Local == "data" {
				break
			}
			if s, ok := t.(xml.StartElement); !ok || s.Name.Local != "value" {
				return nil, d.errorf("expected <value> in <data>, found %s", describe(t))
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, v)
		}
		return l, d.end("array")
	case "struct":
		if depth >= MaxDepth {
			return nil, d.errorf("nested deeper than %d", MaxDepth)
		}
		m := pickle.NewDict()
		for {
			t, err := d.element()
			if err != nil {
				return nil, err
			}
			if e, ok := t.(xml.EndElement); ok && e.Name.Local == "struct" {
				return m, nil
			}
			if s, ok := t.(xml.StartElement); !ok || s.Name.Local != "member" {
				return nil, d.errorf("expected <member> in <struct>, found %s", describe(t))
			}
			if err := d.start("name"); err != nil {
				return nil, err
			}
			name, err := d.text("name")
			if err != nil {
				return nil, err
			}
			if err := d.start("value"); err != nil {
				return nil, err
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := d.end("member"); err != nil {
				return nil, err
			}
			_ = m.Set(name, v) // a str key: never fails; a repeated name keeps the last value, as in Python
		}
	}
	s, err := d.text(tag)
	if err != nil {
		return nil, err
	}
	switch tag {
	case "nil":
		if s != "" {
			return nil, d.errorf("text in <nil/>")
		}
		return nil, nil
	case "string":
		return s, nil
	case "boolean":
		switch s { // exactly what CPython accepts
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, d.errorf("bad boolean value %q", truncate(s, 20))
	case "int", "i1", "i2", "i4", "i8", "biginteger":
		return parseInt(d, s)
	case "double", "float":
		f, err := parseFloat(s)
		if err != nil {
			return nil, d.errorf("bad %s value %q", tag, truncate(s, 40))
		}
		return f, nil
	case "base64":
		b, err := decodeBase64(s)
		if err != nil {
			return nil, d.errorf("bad base64 value: %v", err)
		}
		return b, nil
	case "dateTime.iso8601":
		return DateTime{Value: s}, nil
	}
	return nil, d.errorf("unknown XML-RPC type <%s>", tag)
}

// text reads the character data of the element tag through its end tag.
func (d *decoder) text(tag string) (string, error) {
	var b []byte
	for {
		t, err := d.token()
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			b = append(b, t...)
		case xml.EndElement:
			if t.Name.Local != tag {
				return "", d.errorf("expected </%s>, found </%s>", tag, t.Name.Local)
			}
			return string(b), nil
		default:
			return "", d.errorf("unexpected %s in <%s>", describe(t), tag)
		}
	}
}

// maxIntDigits bounds the integers parsed (big.Int parsing is quadratic).
const maxIntDigits = 4300 // CPython's default int max str digits

// parseInt parses an integer as Python's int() does for these texts: surrounding whitespace,
// a sign, digits, single underscores between digits.
func parseInt(d *decoder, s string) (any, error) {
	t := strings.TrimSpace(s)
	if len(t) > maxIntDigits+1 {
		return nil, d.errorf("integer of %d digits is too long", len(t))
	}
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		return i, nil
	}
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 || !validDigits(digits) {
		return nil, d.errorf("bad integer value %q", truncate(s, 40))
	}
	b, ok := new(big.Int).SetString(strings.ReplaceAll(t, "_", ""), 10)
	if !ok {
		return nil, d.errorf("bad integer value %q", truncate(s, 40))
	}
	if b.IsInt64() {
		return b.Int64(), nil
	}
	return b, nil
}

func validDigits(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '_' {
			return false
		}
	}
	return true
}

// parseFloat parses a float as Python's float() does for the texts XML-RPC peers write
// (Python's repr: 2.5, 1e+300, inf, nan; surrounding whitespace allowed).
func parseFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.ContainsAny(t, "xXpP_") { // hexadecimal floats and underscores: not Python's float()
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(t, 64)
}

// decodeBase64 decodes as Python's base64.decodebytes does: whitespace (the line breaks) is
// ignored.
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}
