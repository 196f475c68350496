package xmlrpc_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/internal/xmlrpc"
	"github.com/mpgo/mpgo/pickle"
)

func dict(kv ...any) *pickle.Dict {
	d := pickle.NewDict()
	for i := 0; i < len(kv); i += 2 {
		_ = d.Set(kv[i], kv[i+1])
	}
	return d
}

func doc(v string) string { return "<params>\n<param>\n" + v + "</param>\n</params>\n" }

// golden holds CPython's xmlrpclib.dumps((v,), None, None, None, 1) output (identical on 2.7
// and 3.6-3.13 for these values; bytes are 3.x only), and the value Unmarshal returns for it.
var golden = []struct {
	name string
	in   any    // encoded
	xml  string // CPython's document
	out  any    // decoded (nil: same as in)
}{
	{"None", nil, doc("<value><nil/></value>"), nil},
	{"True", true, doc("<value><boolean>1</boolean></value>\n"), nil},
	{"False", false, doc("<value><boolean>0</boolean></value>\n"), nil},
	{"int", int64(-5), doc("<value><int>-5</int></value>\n"), nil},
	{"int32max", int64(math.MaxInt32), doc("<value><int>2147483647</int></value>\n"), nil},
	{"float", 2.5, doc("<value><double>2.5</double></value>\n"), nil},
	{"inf", math.Inf(1), doc("<value><double>inf</double></value>\n"), nil},
	{"1e300", 1e300, doc("<value><double>1e+300</double></value>\n"), nil},
	{"0.1", 0.1, doc("<value><double>0.1</double></value>\n"), nil},
	{"escapes", "abc<&>", doc("<value><string>abc&lt;&amp;&gt;</string></value>\n"), nil},
	{"unicode", "h\u00e5\u043f\U0001F600", doc("<value><string>h\u00e5\u043f\U0001F600</string></value>\n"), nil},
	{"empty", "", doc("<value><string></string></value>\n"), nil},
	{"bytes", []byte("hi\x00\xff"), doc("<value><base64>\naGkA/w==\n</base64></value>\n"), nil},
	{"tuple", pickle.Tuple{int64(1), "a"}, doc("<value><array><data>\n<value><int>1</int></value>\n<value><string>a</string></value>\n</data></array></value>\n"), pickle.NewList(int64(1), "a")},
	{"nested", pickle.NewList(int64(1), pickle.NewList(int64(2))), doc("<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n<value><int>2</int></value>\n</data></array></value>\n</data></array></value>\n"), nil},
	{"dict", dict("a", int64(1), "b", pickle.NewList(nil)), doc("<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><nil/></value></data></array></value>\n</member>\n</struct></value>\n"), nil},
	{"emptydict", pickle.NewDict(), doc("<value><struct>\n</struct></value>\n"), nil},
	{"emptylist", pickle.NewList(), doc("<value><array><data>\n</data></array></value>\n"), nil},
	{"datetime", xmlrpc.DateTime{Value: "20260102T15:04:05"}, doc("<value><dateTime.iso8601>20260102T15:04:05</dateTime.iso8601></value>\n"), nil},
	// Python 3: b'x' * 60: encodebytes breaks lines at 76 characters.
	{"longbytes", []byte(strings.Repeat("x", 60)), doc("<value><base64>\neHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\neHh4\n</base64></value>\n"), nil},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			got, err := xmlrpc.Marshal(g.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != g.xml {
				t.Errorf("Marshal:\n got %q\nwant %q", got, g.xml)
			}
			v, err := xmlrpc.Unmarshal([]byte(g.xml))
			if err != nil {
				t.Fatal(err)
			}
			want := g.out
			if want == nil {
				want = g.in
			}
			if !pickle.Equal(v, want) {
				t.Errorf("Unmarshal: got %s, want %s", pickle.Repr(v), pickle.Repr(want))
			}
		})
	}
}

func TestEncodeMore(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string // a substring of the document
	}{
		{"i8", int64(1) << 40, "<value><i8>1099511627776</i8></value>\n"},
		{"i8neg", int64(math.MinInt64), "<i8>-9223372036854775808</i8>"},
		{"bigint64", big.NewInt(7), "<int>7</int>"},
		{"cr", "a\r\nb", "<string>a&#13;\nb</string>"},
		{"tab", "a\tb\n", "<string>a\tb\n</string>"},
		{"py2str", pickle.Py2String("abc"), "<string>abc</string>"},
		{"bytearray", pickle.ByteArray("hi"), "<base64>\naGk=\n</base64>"},
		{"slice", []any{"x"}, "<array><data>\n<value><string>x</string></value>\n</data></array>"},
		{"strings", []string{"x"}, "<array><data>\n<value><string>x</string></value>\n</data></array>"},
		{"map", map[string]any{"b": 1, "a": 2}, "<name>a</name>\n<value><int>2</int></value>\n</member>\n<member>\n<name>b</name>"},
		{"uint8", uint8(3), "<int>3</int>"},
		{"float32", float32(0.5), "<double>0.5</double>"},
		{"emptybytes", []byte{}, "<value><base64>\n</base64></value>\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := xmlrpc.Marshal(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), c.want) {
				t.Errorf("got %q, want it to contain %q", got, c.want)
			}
			if _, err := xmlrpc.Unmarshal(got); err != nil {
				t.Errorf("Unmarshal of the output: %v", err)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	cyc := pickle.NewList()
	cyc.Append(cyc)
	cycd := pickle.NewDict()
	_ = cycd.Set("self", cycd)
	deep := any(nil)
	for range xmlrpc.MaxDepth + 1 {
		deep = pickle.NewList(deep)
	}
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, c := range []struct {
		name string
		in   any
		want string
		typ  bool // an *UnsupportedTypeError (else *UnsupportedValueError)
	}{
		{"set", emptySet(), "cannot marshal <class 'set'> objects", true},
		{"complex", complex(1, 2), "cannot marshal <class 'complex'> objects", true},
		{"object", pickle.NewObject(pickle.Global{Module: "m", Name: "C"}), "cannot marshal", true},
		{"bigint", huge, "int exceeds XML-RPC limits", false},
		{"uint64", uint64(math.MaxUint64), "int exceeds XML-RPC limits", false},
		{"intkey", dict(int64(1), "x"), "dictionary key must be string", false},
		{"control", "a\x01b", "U+0001", false},
		{"nul", "a\x00", "U+0000", false},
		{"badutf8", "a\xffb", "invalid UTF-8", false},
		{"fffe", "\ufffe", "U+FFFE", false},
		{"cycle", cyc, "cannot marshal recursive sequences", false},
		{"cycledict", cycd, "cannot marshal recursive dictionaries", false},
		{"deep", deep, "nested deeper than", false},
		{"nested-set", pickle.NewList(int64(1), emptySet()), "<class 'set'>", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := xmlrpc.Marshal(c.in)
			if err == nil {
				t.Fatalf("no error; got %q", out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			var te *xmlrpc.UnsupportedTypeError
			var ve *xmlrpc.UnsupportedValueError
			if c.typ && !errors.As(err, &te) || !c.typ && !errors.As(err, &ve) {
				t.Errorf("error %T", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want any
	}{
		{"methodResponse", "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>3</int></value>\n</param>\n</params>\n</methodResponse>\n", int64(3)},
		{"untyped", "<params><param><value> a b </value></param></params>", " a b "},
		{"i4", "<params><param><value><i4> +7 </i4></value></param></params>", int64(7)},
		{"biginteger", "<params><param><value><biginteger>123456789012345678901234567890</biginteger></value></param></params>", func() any { b, _ := new(big.Int).SetString("123456789012345678901234567890", 10); return b }()},
		{"underscore", "<params><param><value><int>1_000</int></value></param></params>", int64(1000)},
		{"crlf", "<params><param><value><string>a\r\nb\rc&#13;</string></value></param></params>", "a\nb\nc\r"},
		{"charref", "<params><param><value><string>&#x43f;&#65;&quot;&apos;</string></value></param></params>", "\u043fA\"'"},
		{"cdata", "<params><param><value><string><![CDATA[<x>]]></string></value></param></params>", "<x>"},
		{"comment", "<!-- c --><params><param><value><nil/></value></param></params><!-- d -->\n", nil},
		{"prefixed-nil", "<params><param><value><ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/></value></param></params>", nil},
		{"float", "<params><param><value><float>-0.0</float></value></param></params>", math.Copysign(0, -1)},
		{"nan", "<params><param><value><double>nan</double></value></param></params>", math.NaN()},
		{"dupkey", "<params><param><value><struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct></value></param></params>", dict("a", "2")},
		{"base64-nolines", "<params><param><value><base64>aGk=</base64></value></param></params>", []byte("hi")},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := xmlrpc.Unmarshal([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := c.want.(float64); ok && math.IsNaN(f) {
				if g, ok := v.(float64); !ok || !math.IsNaN(g) {
					t.Errorf("got %s", pickle.Repr(v))
				}
				return
			}
			if !pickle.Equal(v, c.want) || pickle.TypeName(v) != pickle.TypeName(c.want) {
				t.Errorf("got %s, want %s", pickle.Repr(v), pickle.Repr(c.want))
			}
			if f, ok := c.want.(float64); ok && math.Signbit(f) != math.Signbit(v.(float64)) {
				t.Errorf("sign lost")
			}
		})
	}
}

func TestDecodeFault(t *testing.T) {
	in := "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>KeyError: 'x'</string></value></member></struct></value></fault></methodResponse>"
	_, err := xmlrpc.Unmarshal([]byte(in))
	var f *xmlrpc.Fault
	if !errors.As(err, &f) || f.Code != 1 || f.String != "KeyError: 'x'" {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := doc(strings.Repeat("<value><array><data>", xmlrpc.MaxDepth+1) + strings.Repeat("</data></array></value>", xmlrpc.MaxDepth+1))
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "unexpected end"},
		{"pickle", "\x80\x04N.", "invalid"},
		{"notxml", "<params><param>", "unexpected EOF"},
		{"mismatch", "<params><param><value><int>1</i4></value></param></params>", "closed by"},
		{"two-params", "<params><param><value>a</value></param><param><value>b</value></param></params>", "exactly one"},
		{"no-params", "<params></params>", "expected <param>"},
		{"methodCall", "<methodCall><methodName>x</methodName></methodCall>", "expected <params>"},
		{"doctype", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]><params><param><value>&a;</value></param></params>", "DOCTYPE"},
		{"entity", "<params><param><value>&a;</value></param></params>", "entity"},
		{"badbool", "<params><param><value><boolean>2</boolean></value></param></params>", "bad boolean"},
		{"badint", "<params><param><value><int>1x</int></value></param></params>", "bad integer"},
		{"hugeint", doc("<value><int>" + strings.Repeat("9", 5000) + "</int></value>"), "too long"},
		{"badfloat", "<params><param><value><double>0x1p3</double></value></param></params>", "bad double"},
		{"badbase64", "<params><param><value><base64>!!</base64></value></param></params>", "base64"},
		{"unknown", "<params><param><value><bigdecimal>1</bigdecimal></value></param></params>", "unknown XML-RPC type"},
		{"child-in-int", "<params><param><value><int><i4>1</i4></int></value></param></params>", "unexpected <i4>"},
		{"text-in-array", "<params><param><value><array>x<data></data></array></value></param></params>", "unexpected text"},
		{"member-order", "<params><param><value><struct><member><value>1</value><name>a</name></member></struct></value></param></params>", "expected <name>"},
		{"trailing", doc("<value>x</value>") + "<x/>", "after the document"},
		{"ctrl-charref", "<params><param><value>&#1;</value></param></params>", "illegal character"},
		{"ctrl-raw", "<params><param><value>a\x01</value></param></params>", "illegal character"},
		{"badutf8", "<params><param><value>\xff</value></param></params>", "UTF-8"},
		{"deep", deep, "nested deeper than"},
		{"nil-text", "<params><param><value><nil>x</nil></value></param></params>", "text in <nil/>"},
		{"fault-shape", "<fault><value><int>1</int></value></fault>", "faultCode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := xmlrpc.Unmarshal([]byte(c.in))
			var se *xmlrpc.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %s, %v; want a *SyntaxError", pickle.Repr(v), err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func ExampleMarshal() {
	out, _ := xmlrpc.Marshal(pickle.Tuple{"#RETURN", int64(42)})
	v, _ := xmlrpc.Unmarshal(out)
	fmt.Print(string(out))
	fmt.Println(pickle.Repr(v))
	// Output:
	// <params>
	// <param>
	// <value><array><data>
	// <value><string>#RETURN</string></value>
	// <value><int>42</int></value>
	// </data></array></value>
	// </param>
	// </params>
	// ['#RETURN', 42]
}

func emptySet() *pickle.Set {
	s, _ := pickle.NewSet()
	return s
}
