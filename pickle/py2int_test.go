package pickle

import (
	"bytes"
	"testing"
)

// Python 2 keeps int and long apart; the bytes are what CPython 2.7 and
// 3.13 write (pickle.dumps(x, protocol)).
func TestPython2IntAndLong(t *testing.T) {
	tests := []struct {
		name  string
		in    string // a pickle
		want  any    // the decoded value
		proto int    // re-encoded at this protocol
		out   string // gives this pickle
	}{
		{"py2 int 2**40, protocol 2", "\x80\x02I1099511627776\n.", Py2Int(1 << 40), 2, "\x80\x02I1099511627776\n."},
		{"py2 int -2**40, protocol 2", "\x80\x02I-1099511627776\n.", Py2Int(-1 << 40), 2, "\x80\x02I-1099511627776\n."},
		{"py2 int 2**40, protocol 0", "I1099511627776\n.", Py2Int(1 << 40), 0, "I1099511627776\n."},
		{"py2 long 5L, protocol 2", "\x80\x02\x8a\x01\x05.", Py2Long(5), 2, "\x80\x02\x8a\x01\x05."},
		{"py2 long 0L, protocol 2", "\x80\x02\x8a\x00.", Py2Long(0), 2, "\x80\x02\x8a\x00."},
		{"py2 long 5L, protocol 0 (and py3.6 int 5)", "L5L\n.", int64(5), 0, "I5\n."},
		{"py2 long 2**40L, protocol 2", "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01.", int64(1 << 40), 2, "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01."},
		{"py2 long 2**40L, protocol 0", "L1099511627776L\n.", int64(1 << 40), 0, "L1099511627776L\n."},
		{"py3 int 2**40, protocol 2", "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01.", int64(1 << 40), 2, "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01."},
		{"int 5, protocol 0", "I5\n.", int64(5), 0, "I5\n."},
	}
	for _, tc := range tests {
		var v any
		if err := Unmarshal([]byte(tc.in), &v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v != tc.want {
			t.Errorf("%s: decoded %#v want %#v", tc.name, v, tc.want)
		}
		var buf bytes.Buffer
		e := NewEncoder(&buf)
		e.SetProtocol(tc.proto)
		if err := e.Encode(v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if out := buf.Bytes(); !bytes.Equal(out, []byte(tc.out)) {
			t.Errorf("%s: encoded %q want %q", tc.name, out, tc.out)
		}
	}
	// they are numbers like any int
	for _, v := range []any{Py2Int(1 << 40), Py2Long(5)} {
		n, _ := asNumber(v)
		h1, err1 := Hash(v)
		h2, err2 := Hash(n.i)
		if !Equal(v, n.i) || !Equal(float64(n.i), v) || err1 != nil || err2 != nil || h1 != h2 || TypeName(v) != "int" || Repr(v) != Repr(n.i) {
			t.Errorf("%#v is not the int %d", v, n.i)
		}
		var i int64
		if err := Unmarshal(mustMarshal(t, v), &i); err != nil || i != n.i {
			t.Errorf("Unmarshal %#v into int64: %d, %v", v, i, err)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
