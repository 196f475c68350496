package pickle

import (
	"strings"
	"testing"
)

// Pickles written by CPython: collections.namedtuple('Point', 'x y')(5, 6),
// an instance A() with an empty __dict__, a frozen dataclass D(1) and an
// enum member E.a, as Python 2.7 and 3.13 write them.
var objectPickles = map[string]string{
	"point-py2-p0":   "ccopy_reg\n_reconstructor\np0\n(c__main__\nPoint\np1\nc__builtin__\ntuple\np2\n(I5\nI6\ntp3\ntp4\nRp5\n.",
	"point-py2-p2":   "\x80\x02c__main__\nPoint\nq\x00K\x05K\x06\x86q\x01\x81q\x02.",
	"point-py3-p0":   "ccopy_reg\n_reconstructor\np0\n(c__main__\nPoint\np1\nc__builtin__\ntuple\np2\n(I5\nI6\ntp3\ntp4\nRp5\n.",
	"point-py3-p2":   "\x80\x02c__main__\nPoint\nq\x00K\x05K\x06\x86q\x01\x81q\x02.",
	"a-py2-p0":       "ccopy_reg\n_reconstructor\np0\n(c__main__\nA\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n.",
	"a-py2-p2":       "\x80\x02c__main__\nA\nq\x00)\x81q\x01}q\x02b.",
	"a-py3-p2":       "\x80\x02c__main__\nA\nq\x00)\x81q\x01.",
	"dataclass-py3":  "\x80\x02c__main__\nD\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00xq\x03K\x01sb.",
	"dataclass-py3b": "\x80\x02c__main__\nD\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00xq\x03K\x01sb.",
	"enum-py3":       "\x80\x02c__main__\nE\nq\x00K\x01\x85q\x01Rq\x02.",
	"enum-py3b":      "\x80\x02c__main__\nE\nq\x00K\x01\x85q\x01Rq\x02.",
	"str-subclass":   "\x80\x02c__main__\nS\nq\x00X\x02\x00\x00\x00abq\x01\x85q\x02\x81q\x03.",
}

func decodeNamed(t *testing.T, name string) any {
	t.Helper()
	var v any
	if err := Unmarshal([]byte(objectPickles[name]), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func TestObjectEquality(t *testing.T) {
	same := [][2]string{
		{"point-py2-p0", "point-py3-p2"}, {"point-py2-p2", "point-py3-p0"}, {"a-py2-p0", "a-py3-p2"},
		{"a-py2-p2", "a-py3-p2"}, {"dataclass-py3", "dataclass-py3b"}, {"enum-py3", "enum-py3b"},
	}
	for _, p := range same {
		a, b := decodeNamed(t, p[0]), decodeNamed(t, p[1])
		if a == b {
			t.Fatalf("%s: decoded to the same value", p)
		}
		if !Equal(a, b) || !Equal(b, a) {
			t.Errorf("%s != %s", p[0], p[1])
		}
		ha, erra := Hash(a)
		hb, errb := Hash(b)
		if erra != nil || errb != nil || ha != hb {
			t.Errorf("hash %s = %x, %v; hash %s = %x, %v", p[0], ha, erra, p[1], hb, errb)
		}
	}
	differ := [][2]string{{"point-py3-p2", "a-py3-p2"}, {"dataclass-py3", "a-py3-p2"}, {"enum-py3", "dataclass-py3"}, {"str-subclass", "a-py3-p2"}}
	for _, p := range differ {
		if a, b := decodeNamed(t, p[0]), decodeNamed(t, p[1]); Equal(a, b) || Equal(b, a) {
			t.Errorf("%s == %s", p[0], p[1])
		}
	}
	// a namedtuple equals and hashes like the tuple of its fields, and orders like it
	pt := Tuple{int64(5), int64(6)}
	for _, name := range []string{"point-py2-p0", "point-py2-p2", "point-py3-p0", "point-py3-p2"} {
		v := decodeNamed(t, name)
		h, err := Hash(v)
		ht, _ := Hash(pt)
		if !Equal(v, pt) || !Equal(pt, v) || err != nil || h != ht {
			t.Errorf("%s: %s != (5, 6) or hash %x, %v != %x", name, Repr(v), h, err, ht)
		}
		if c, err := Compare(v, Tuple{int64(5), int64(7)}); c != -1 || err != nil {
			t.Errorf("%s < (5, 7): %d, %v", name, c, err)
		}
	}
	// a one-argument object is not taken for a tuple: a str subclass pickles the same way
	if s := decodeNamed(t, "str-subclass"); Equal(s, Tuple{"ab"}) {
		t.Errorf("S('ab') == ('ab',)")
	}
}

func TestObjectKeys(t *testing.T) {
	d := NewDict()
	for i := range 20 { // past smallTable: the indexed path too
		k := &Object{Class: Global{"m", "Point"}, Kind: BuildNewObj, Args: Tuple{int64(i), "y"}}
		if err := d.Set(k, int64(i)); err != nil {
			t.Fatal(err)
		}
		st := NewDict()
		_ = st.Set("x", NewList(int64(i))) // mutable state: hashable all the same
		if err := d.Set(&Object{Class: Global{"m", "D"}, Kind: BuildNewObj, State: st}, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if v, ok := d.Get(Tuple{float64(i), Py2String("y")}); !ok || v != int64(i) {
			t.Errorf("d[(%d, 'y')] = %v, %v", i, v, ok)
		}
		st := NewDict()
		_ = st.Set(Py2String("x"), NewList(int64(i)))
		if v, ok := d.Get(&Object{Class: Global{"m", "D"}, Kind: BuildNewObj, State: st}); !ok || v != int64(i) {
			t.Errorf("d[D(x=[%d])] = %v, %v", i, v, ok)
		}
	}
	if d.Len() != 40 {
		t.Errorf("len %d", d.Len())
	}
	// a namedtuple with an unhashable field is unhashable, like the tuple
	if _, err := Hash(&Object{Class: Global{"m", "P"}, Kind: BuildNewObj, Args: Tuple{NewList(), int64(1)}}); err == nil {
		t.Error("P([], 1) hashed")
	}
}

func TestObjectCycles(t *testing.T) {
	mk := func() *Object {
		o := &Object{Class: Global{"m", "Node"}, Kind: BuildNewObj}
		st := NewDict()
		l := NewList()
		l.Append(l, o)
		_ = st.Set("self", o)
		_ = st.Set("l", l)
		o.State = st
		return o
	}
	a, b := mk(), mk()
	ha, erra := Hash(a)
	hb, errb := Hash(b)
	if erra != nil || errb != nil || ha != hb {
		t.Errorf("hashes %x %v, %x %v", ha, erra, hb, errb)
	}
	_ = Equal(a, b) // terminates
	if !Equal(a, a) {
		t.Error("a != a")
	}
}

func TestObjectOrdering(t *testing.T) {
	a := &Object{Class: Global{"m", "A"}, Kind: BuildNewObj, State: NewDict()}
	for _, p := range [][2]any{{a, a}, {a, int64(1)}, {int64(1), a}} {
		_, err := Compare(p[0], p[1])
		te, ok := err.(*TypeError)
		if !ok || !strings.Contains(te.Msg, "'A'") || !strings.Contains(te.Msg, "m.A") {
			t.Errorf("Compare(%s, %s): %v", Repr(p[0]), Repr(p[1]), err)
		}
	}
}

func TestObjectOrderingMessages(t *testing.T) {
	pt := &Object{Class: Global{"m", "Point"}, Kind: BuildNewObj, Args: Tuple{int64(1), int64(2)}}
	a := &Object{Class: Global{"m", "A"}, Kind: BuildNewObj}
	for _, tc := range []struct {
		a, b any
		want string
	}{
		{pt, NewList(), "'<' not supported between instances of 'Point' and 'list'"},
		{pt, a, "'<' not supported between instances of 'Point' and 'A' (mpgo cannot run the comparison methods of m.A)"},
		{a, pt, "'<' not supported between instances of 'A' and 'Point' (mpgo cannot run the comparison methods of m.A)"},
	} {
		_, err := Compare(tc.a, tc.b)
		if te, ok := err.(*TypeError); !ok || te.Msg != tc.want {
			t.Errorf("Compare(%s, %s): %v want %q", Repr(tc.a), Repr(tc.b), err, tc.want)
		}
	}
}

// A value with much sharing (each object holding the previous one twice, in
// its arguments and in its state) hashes and compares in bounded time.
func TestObjectSharingBounded(t *testing.T) {
	mk := func() any {
		var v any = int64(1)
		for range 60 {
			st := NewDict()
			_ = st.Set("a", v)
			_ = st.Set("b", NewList(v, v))
			v = &Object{Class: Global{"m", "N"}, Kind: BuildNewObj, Args: Tuple{v, v, v}, State: st}
		}
		return v
	}
	a, b := mk(), mk()
	ha, erra := Hash(a)
	hb, errb := Hash(b)
	if erra != nil || errb != nil || ha != hb {
		t.Errorf("hashes %x %v, %x %v", ha, erra, hb, errb)
	}
	if !Equal(a, b) {
		t.Error("equal DAGs compare unequal")
	}
	if _, err := Compare(a, b); err == nil {
		t.Error("objects ordered")
	}
}
