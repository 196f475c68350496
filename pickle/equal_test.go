package pickle

import (
	"math"
	"math/big"
	"testing"
)

func mustSet(items ...any) *Set {
	s, err := NewSet(items...)
	if err != nil {
		panic(err)
	}
	return s
}

func mustFrozen(items ...any) FrozenSet {
	s, err := NewFrozenSet(items...)
	if err != nil {
		panic(err)
	}
	return s
}

func TestEqual(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 64)
	big2 := new(big.Int).Lsh(big.NewInt(1), 64)
	l := NewList()
	l.Append(l)
	o1, o2 := NewObject(Global{"m", "C"}), NewObject(Global{"m", "C"})
	d1, d2 := NewDict(), NewDict()
	_ = d1.Set("a", int64(1))
	_ = d1.Set("b", int64(2))
	_ = d2.Set("b", 2.0)
	_ = d2.Set("a", true)
	eq := [][2]any{
		{int64(1), 1.0}, {int64(1), true}, {1.0, true}, {0.0, math.Copysign(0, -1)}, {int64(0), false},
		{big1, big2}, {big1, math.Ldexp(1, 64)}, {complex(1, 0), int64(1)}, {complex(2, 0), 2.0},
		{"a", "a"}, {Py2String("a"), "a"}, {[]byte("a"), ByteArray("a")},
		{Tuple{int64(1), "x"}, Tuple{1.0, "x"}}, {NewList(int64(1)), NewList(true)}, {d1, d2},
		{mustSet(int64(1), "a"), mustFrozen("a", 1.0)}, {Global{"m", "n"}, Global{"m", "n"}},
		{nil, nil}, {l, l}, {o1, o1}, {o1, o2}, {int(3), int64(3)}, {uint8(3), 3.0}, {[]any{int64(1)}, NewList(int64(1))},
		{FrozenSet{}, mustFrozen()},
	}
	for _, p := range eq {
		if !Equal(p[0], p[1]) || !Equal(p[1], p[0]) {
			t.Errorf("want %s == %s", Repr(p[0]), Repr(p[1]))
		}
		h0, err0 := Hash(p[0])
		h1, err1 := Hash(p[1])
		if err0 == nil && err1 == nil && h0 != h1 {
			t.Errorf("hash(%s) != hash(%s)", Repr(p[0]), Repr(p[1]))
		}
	}
	ne := [][2]any{
		{math.NaN(), math.NaN()}, {"a", []byte("a")}, {Tuple{}, NewList()}, {int64(1), "1"}, {nil, false},
		{o1, NewObject(Global{"m", "C"}, int64(1))}, {o1, NewObject(Global{"m", "D"})}, {big1, math.Ldexp(1, 64) + 1e5}, {complex(1, 1), int64(1)}, {Py2String("a"), []byte("a")},
		{NewList(int64(1)), NewList(int64(2))}, {Global{"m", "n"}, Global{"m", "o"}}, {mustSet(int64(1)), mustSet(int64(2))},
		{int64(math.MaxInt64), float64(math.MaxInt64)}, // 2**63-1 != 2**63
	}
	for _, p := range ne {
		if Equal(p[0], p[1]) || Equal(p[1], p[0]) {
			t.Errorf("want %s != %s", Repr(p[0]), Repr(p[1]))
		}
	}
}

func TestHashErrors(t *testing.T) {
	for _, v := range []any{NewList(), NewDict(), mustSet(), ByteArray("x"), Tuple{NewList()}} {
		_, err := Hash(v)
		te, ok := err.(*TypeError)
		if !ok {
			t.Errorf("%s: got %v", Repr(v), err)
			continue
		}
		if want := "unhashable type: '" + map[bool]string{true: "list", false: TypeName(v)}[isTupleOfList(v)] + "'"; te.Msg != want {
			t.Errorf("got %q want %q", te.Msg, want)
		}
	}
}

// TestHashNoChosenCollisions: keys whose CPython hashes all collide
// (i * (2**61 - 1) hash to 0 there) hash apart here, so a peer cannot make a
// table's index one long chain; numbers equal across types still hash alike.
func TestHashNoChosenCollisions(t *testing.T) {
	seen := map[uint64]int64{}
	for i := int64(-2000); i < 2000; i++ {
		k := i * (1<<61 - 1)
		h, _ := Hash(k)
		if j, dup := seen[h]; dup {
			t.Fatalf("hash(%d) == hash(%d)", k, j)
		}
		seen[h] = k
	}
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, p := range [][2]any{{math.Ldexp(1, 70), big70}, {math.Ldexp(-1, 63), int64(math.MinInt64)}, {complex(2, 0), int64(2)},
		{true, 1.0}, {-0.0, int64(0)}, {complex(1.5, 0), 1.5}} {
		h0, _ := Hash(p[0])
		h1, _ := Hash(p[1])
		if !Equal(p[0], p[1]) || h0 != h1 {
			t.Errorf("%s and %s: equal %v, hashes %x %x", Repr(p[0]), Repr(p[1]), Equal(p[0], p[1]), h0, h1)
		}
	}
	// A dict of such keys builds with chains of length 1.
	d := NewDict()
	for i := int64(0); i < 5000; i++ {
		if err := d.Set(i*(1<<61-1), nil); err != nil {
			t.Fatal(err)
		}
	}
	if d.Len() != 5000 {
		t.Fatalf("len %d", d.Len())
	}
	x := d.t.idx
	if x == nil || len(x.heads) != 5000 {
		t.Fatalf("index has %d chains for 5000 keys", len(x.heads))
	}
}

func isTupleOfList(v any) bool { _, ok := v.(Tuple); return ok }

func TestCompare(t *testing.T) {
	lt := [][2]any{
		{int64(1), 2.5}, {false, int64(1)}, {"a", "b"}, {"a", "ab"}, {[]byte("a"), ByteArray("b")},
		{Tuple{int64(1), "a"}, Tuple{int64(1), "b"}}, {Tuple{int64(1)}, Tuple{int64(1), int64(0)}},
		{NewList(int64(1)), NewList(int64(2))}, {new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 70)), 0.5},
		{"é", "€"}, {math.Inf(-1), int64(0)},
	}
	for _, p := range lt {
		c, err := Compare(p[0], p[1])
		if err != nil || c != -1 {
			t.Errorf("Compare(%s, %s) = %d, %v", Repr(p[0]), Repr(p[1]), c, err)
		}
		c, err = Compare(p[1], p[0])
		if err != nil || c != 1 {
			t.Errorf("Compare(%s, %s) = %d, %v", Repr(p[1]), Repr(p[0]), c, err)
		}
	}
	errs := []struct {
		a, b any
		msg  string
	}{
		{"a", int64(1), "'<' not supported between instances of 'str' and 'int'"},
		{nil, nil, "'<' not supported between instances of 'NoneType' and 'NoneType'"},
		{NewDict(), NewDict(), "'<' not supported between instances of 'dict' and 'dict'"},
		{NewList(int64(1)), Tuple{int64(1)}, "'<' not supported between instances of 'list' and 'tuple'"},
		{Tuple{int64(1), "a"}, Tuple{int64(1), int64(2)}, "'<' not supported between instances of 'str' and 'int'"},
		{complex(1, 1), int64(1), "'<' not supported between instances of 'complex' and 'int'"},
		{"a", []byte("a"), "'<' not supported between instances of 'str' and 'bytes'"},
	}
	for _, e := range errs {
		_, err := Compare(e.a, e.b)
		if te, ok := err.(*TypeError); !ok || te.Msg != e.msg {
			t.Errorf("Compare(%s, %s): got %v want %q", Repr(e.a), Repr(e.b), err, e.msg)
		}
	}
	if c, err := Compare(math.NaN(), int64(1)); err != nil || c != 0 {
		t.Errorf("nan: %d %v", c, err)
	}
}

func TestRepr(t *testing.T) {
	l := NewList(int64(1))
	l.Append(l)
	d := NewDict()
	_ = d.Set("self", d)
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {int64(-5), "-5"}, {new(big.Int).Lsh(big.NewInt(1), 70), "1180591620717411303424"},
		{1.0, "1.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {1e-5, "1e-05"}, {0.0001, "0.0001"},
		{5e-324, "5e-324"}, {1e308, "1e+308"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
		{math.Copysign(0, -1), "-0.0"}, {123456789.125, "123456789.125"}, {-2.5e-7, "-2.5e-07"},
		{complex(1, 2), "(1+2j)"}, {complex(0, 1), "1j"}, {complex(0, -1.5), "-1.5j"}, {complex(math.Copysign(0, -1), 1), "(-0+1j)"},
		{complex(math.Inf(1), math.NaN()), "(inf+nanj)"},
		{"it's", `"it's"`}, {`a"b'c`, `'a"b\'c'`}, {"\t\n\x00\x7f\u00a0é\u20ac\U0001F600\u200b", `'\t\n\x00\x7f\xa0é€😀\u200b'`},
		{"\xed\xa0\x80", `'\ud800'`}, {Py2String("x"), "'x'"},
		{[]byte("a'\x00\xff"), `b"a'\x00\xff"`}, {ByteArray("a"), "bytearray(b'a')"},
		{Tuple{}, "()"}, {Tuple{int64(1)}, "(1,)"}, {Tuple{int64(1), "a"}, "(1, 'a')"},
		{l, "[1, [...]]"}, {d, "{'self': {...}}"}, {mustSet(), "set()"}, {mustSet(int64(1), int64(2)), "{1, 2}"},
		{mustFrozen(), "frozenset()"}, {mustFrozen("a"), "frozenset({'a'})"},
		{Global{"builtins", "float"}, "<class 'float'>"}, {Global{"m", "C"}, "<class 'm.C'>"},
		{NewObject(Global{"builtins", "KeyError"}, "x"), "KeyError('x')"},
		{NewObject(Global{"queue", "Empty"}), "Empty()"},
		{&Object{Class: Global{"collections", "OrderedDict"}, DictItems: []DictItem{{"a", int64(1)}}}, "collections.OrderedDict(('a', 1))"},
	}
	for _, tc := range tests {
		if got := Repr(tc.v); got != tc.want {
			t.Errorf("Repr(%#v) = %s want %s", tc.v, got, tc.want)
		}
	}
}

func TestStrAndTypeName(t *testing.T) {
	tests := []struct {
		v    any
		str  string
		name string
	}{
		{"x", "x", "str"}, {Py2String("y"), "y", "str"}, {int64(1), "1", "int"}, {1.5, "1.5", "float"},
		{nil, "None", "NoneType"}, {NewObject(Global{"builtins", "KeyError"}, "k"), "'k'", "KeyError"},
		{NewObject(Global{"builtins", "ValueError"}, "bad"), "bad", "ValueError"},
		{NewObject(Global{"builtins", "ValueError"}, "a", int64(1)), "('a', 1)", "ValueError"},
		{NewObject(Global{"builtins", "StopIteration"}), "", "StopIteration"},
		{[]byte("b"), "b'b'", "bytes"}, {NewList(), "[]", "list"}, {NewDict(), "{}", "dict"}, {mustSet(), "set()", "set"},
		{mustFrozen(), "frozenset()", "frozenset"}, {Tuple{}, "()", "tuple"}, {true, "True", "bool"}, {complex(1, 1), "(1+1j)", "complex"},
		{ByteArray{}, "bytearray(b'')", "bytearray"}, {Global{"builtins", "int"}, "<class 'int'>", "type"},
	}
	for _, tc := range tests {
		if got := Str(tc.v); got != tc.str {
			t.Errorf("Str(%s) = %q want %q", Repr(tc.v), got, tc.str)
		}
		if got := TypeName(tc.v); got != tc.name {
			t.Errorf("TypeName(%s) = %q want %q", Repr(tc.v), got, tc.name)
		}
	}
}
