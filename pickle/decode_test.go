package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"
)

func decodeRepr(t *testing.T, data string) string {
	t.Helper()
	var v any
	if err := Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	return Repr(v)
}

func TestDecodeTextForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"I00\n.", "False"},
		{"I01\n.", "True"},
		{"I-12\n.", "-12"},
		{"I123456789012345678901234567890\n.", "123456789012345678901234567890"},
		{"L5L\n.", "5"},
		{"L-18446744073709551616L\n.", "-18446744073709551616"},
		{"F1.5\n.", "1.5"},
		{"Finf\n.", "inf"},
		{"F-0.0\n.", "-0.0"},
		{"F1e+16\n.", "1e+16"},
		{"S'a\\'b\\x00\\n\\\\'\n.", `"a'b\x00\n\\"`},
		{"S\"q\"\n.", "'q'"},
		{"S'\\101\\7'\n.", `'A\x07'`},
		{"Vcaf\xe9\\u20ac\\U0001f600\\ud800\n.", `'café€😀\ud800'`},
		{"V\\\\u0041\n.", `'\\\\u0041'`},
		{"(I1\nI2\nt.", "(1, 2)"},
		{"(lp0\nI1\nag0\na.", "[1, [...]]"},
		{"(dp0\nS'k'\np1\nNs.", "{'k': None}"},
		{"c__builtin__\nset\n((lI1\natR.", "{1}"},
		{"cexceptions\nKeyError\n(S'x'\ntR.", "KeyError('x')"},
		{"(i__main__\nC\n(dS'a'\nI1\nsb.", "__main__.C(a=1)"},
		{"ccopy_reg\n_reconstructor\n(c__main__\nC\nc__builtin__\nobject\nNtR.", "__main__.C()"},
	}
	for _, tc := range tests {
		if got := decodeRepr(t, tc.in); got != tc.want {
			t.Errorf("%q: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBinaryForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x80\x02\x8a\x00.", "0"},
		{"\x80\x02\x8a\x01\xff.", "-1"},
		{"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.", "9223372036854775808"},
		{"\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", "-9223372036854775808"},
		{"\x80\x02\x8b\x01\x00\x00\x00\x80.", "-128"},
		{"\x80\x04\x96\x02\x00\x00\x00\x00\x00\x00\x00ab.", "bytearray(b'ab')"},
		{"\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00a.", "b'a'"},
		{"\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.", "'a'"},
		{"\x80\x04\x8f(K\x01K\x02\x90.", "{1, 2}"},
		{"\x80\x04(K\x01\x91.", "frozenset({1})"},
		{"\x80\x04\x8c\x01m\x8c\x01C\x93)}\x8c\x01k\x88s\x92.", "m.C(k=True)"},
		{"\x80\x02c__builtin__\ncomplex\nG?\xf0\x00\x00\x00\x00\x00\x00G\x00\x00\x00\x00\x00\x00\x00\x00\x86R.", "(1+0j)"},
		{"\x80\x02c__builtin__\nbytearray\n)R.", "bytearray(b'')"},
		{"\x80\x02c__builtin__\nslice\nK\x01K\x02N\x87R.", "slice(1, 2, None)"},
		{"\x80\x02]q\x00(K\x01h\x00e2.", "[1, [...]]"},
		{"\x80\x02K\x01K\x020.", "1"},
		{"\x80\x02(K\x011K\x02.", "2"},
		{"\x80\x02N(N1.", "None"}, // POP with an empty stack above the mark pops the mark
		// SETITEMS into a new dict: distinct string keys (copied as they
		// are), a repeated key (the first key stays, the last value wins),
		// other keys, a second batch, more keys than the small table holds
		{"\x80\x04}(\x8c\x01bK\x01\x8c\x01aK\x02u.", "{'b': 1, 'a': 2}"},
		{"\x80\x04}(\x8c\x01aK\x01\x8c\x01bK\x02\x8c\x01aK\x03u.", "{'a': 3, 'b': 2}"},
		{"\x80\x04}(\x8c\x01aK\x01K\x01K\x02\x88K\x03u.", "{'a': 1, 1: 3}"},
		{"\x80\x04}(\x8c\x01aK\x01u(\x8c\x01bK\x02\x8c\x01aK\x05u.", "{'a': 5, 'b': 2}"},
		{"\x80\x04}(\x8c\x01aK\x01\x8c\x01bK\x02\x8c\x01cK\x03\x8c\x01dK\x04\x8c\x01eK\x05\x8c\x01fK\x06\x8c\x01gK\x07\x8c\x01hK\x08\x8c\x01iK\x09\x8c\x01aK\x0au.",
			"{'a': 10, 'b': 2, 'c': 3, 'd': 4, 'e': 5, 'f': 6, 'g': 7, 'h': 8, 'i': 9}"},
	}
	for _, tc := range tests {
		if got := decodeRepr(t, tc.in); got != tc.want {
			t.Errorf("%q: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeSharing(t *testing.T) {
	// [l, l] where l = []  (protocol 2)
	var v any
	if err := Unmarshal([]byte("\x80\x02]q\x00(]q\x01h\x01e."), &v); err != nil {
		t.Fatal(err)
	}
	l := v.(*List)
	if l.Items[0] != l.Items[1] {
		t.Fatal("not shared")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "truncated"},
		{"\x80\x06N.", "unsupported pickle protocol: 6"},
		{"K", "truncated"},
		{"N", "truncated"},
		{"\xff", "invalid load key"},
		{".", "empty stack"},
		{"a.", "stack underflow"},
		{"t.", "could not find MARK"},
		{"h\x05.", "memo value not found at index 5"},
		{"\x80\x05\x97.", "out-of-band"},
		{"\x80\x05\x98.", "out-of-band"},
		{"P1\n.", "persistent"},
		{"\x82\x01.", "unregistered extension code 1"},
		{"\x82\x00.", "EXT specifies code <= 0"},
		{"X\xff\xff\xff\x7fabc.", "truncated"},
		{"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.", "truncated"},
		{"\x95\xff\xff\xff\xff\xff\xff\xff\x7fN.", "frame exceeds"},
		{"S'abc\n.", "must be quoted"},
		{"Iabc\n.", "invalid literal"},
		{"Fx\n.", "could not convert"},
		{"(]K\x01K\x02d.", "odd number"},
		{"}]K\x01s.", "unhashable type: 'list'"},
		{"\x80\x04}(\x8c\x01aK\x01]K\x02u.", "unhashable type: 'list'"},
		{"NK\x01R.", "REDUCE arguments must be a tuple"},
		{"K\x01)R.", "REDUCE callable must be"},
		{"])b.", "BUILD on a list"},
		{"K\x01\x8c\x01b\x93.", "STACK_GLOBAL"},
		{"V\\u12\n.", "truncated \\uXXXX"},
		{"T\xff\xff\xff\xff.", "negative byte count"},
	}
	for _, tc := range tests {
		var v any
		err := Unmarshal([]byte(tc.in), &v)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: got %q, want %q", tc.in, err, tc.msg)
		}
	}
}

func TestSyntaxErrorOffset(t *testing.T) {
	var v any
	err := Unmarshal([]byte("\x80\x02K\x01K\x02\xff."), &v)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 6 || se.Op != 0xff {
		t.Fatalf("got %#v", err)
	}
	err = Unmarshal([]byte("\x80\x02K\x01a."), &v)
	if !errors.As(err, &se) || se.Offset != 4 || se.Op != 'a' || !strings.Contains(se.Error(), "APPEND") {
		t.Fatalf("got %v", err)
	}
}

func TestPersistentAndExtensions(t *testing.T) {
	dec := NewDecoder(strings.NewReader("(P42\nK\x07Q\x82\x01\x83\x00\x01\x84\x00\x00\x01\x00t."))
	dec.SetPersistentLoad(func(pid any) (any, error) { return Tuple{"pid", pid}, nil })
	dec.SetExtension(1, Global{"m", "one"})
	dec.SetExtension(256, Global{"m", "two"})
	dec.SetExtension(65536, Global{"m", "three"})
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	want := "(('pid', '42'), ('pid', 7), <class 'm.one'>, <class 'm.two'>, <class 'm.three'>)"
	if got := Repr(v); got != want {
		t.Errorf("got %s want %s", got, want)
	}
	dec = NewDecoder(strings.NewReader("P1\n."))
	dec.SetPersistentLoad(func(pid any) (any, error) { return nil, io.ErrClosedPipe })
	if err := dec.Decode(&v); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("got %v", err)
	}
}

func TestLimits(t *testing.T) {
	var v any
	deep := strings.Repeat("(", 20000) + "."
	if err := Unmarshal([]byte(deep), &v); err == nil || !strings.Contains(err.Error(), "MARK") {
		t.Errorf("marks: %v", err)
	}
	chain := "N" + strings.Repeat("\x85", 20000) + "."
	if err := Unmarshal([]byte(chain), &v); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("tuple chain: %v", err)
	}
	lists := strings.Repeat("]", 20000) + strings.Repeat("a", 19999) + "."
	if err := Unmarshal([]byte(lists), &v); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("list chain: %v", err)
	}
	dec := NewDecoder(strings.NewReader("(" + strings.Repeat("N\x94", 100) + "t."))
	dec.SetLimits(Limits{MaxMemo: 10})
	if err := dec.Decode(&v); err == nil || !strings.Contains(err.Error(), "memo") {
		t.Errorf("memo: %v", err)
	}
	dec = NewDecoder(strings.NewReader("\x8e\x00\x00\x00\x00\x01\x00\x00\x00"))
	dec.SetLimits(Limits{MaxAlloc: 1 << 20})
	if err := dec.Decode(&v); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("alloc: %v", err)
	}
	long := "I" + strings.Repeat("9", 200000) + "\n."
	if err := Unmarshal([]byte(long), &v); err == nil || !strings.Contains(err.Error(), "digits") {
		t.Errorf("digits: %v", err)
	}
	// a sparse PUT index does not allocate a huge memo
	if err := Unmarshal([]byte("Nr\xff\xff\xff\x7fj\xff\xff\xff\x7f."), &v); err != nil || v != nil {
		t.Errorf("sparse memo: %v %v", v, err)
	}
}

// TestStreamDecoderHugeDeclaredLength: a stream that declares 4 GiB but ends
// early fails without allocating the declared size.
func TestStreamDecoderHugeDeclaredLength(t *testing.T) {
	r := io.MultiReader(strings.NewReader("\x80\x04\x8e\x00\x00\x00\x20\x00\x00\x00\x00"), strings.NewReader(strings.Repeat("x", 1000)))
	dec := NewDecoder(r)
	var v any
	err := dec.Decode(&v)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v", err)
	}
	if cap(dec.buf) > 1<<16 {
		t.Errorf("buffer grew to %d", cap(dec.buf))
	}
}

func TestStreamDecoder(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	vals := []any{Tuple{"a", int64(1)}, NewList(bytes.Repeat([]byte("z"), 70000)), "tail"}
	for _, v := range vals {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	buf.WriteString("extra")
	dec := NewDecoder(iotest.OneByteReader(bytes.NewReader(buf.Bytes())))
	for _, want := range vals {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if !sameValue(v, want) {
			t.Errorf("got %s", Repr(v))
		}
	}
	rest, _ := io.ReadAll(io.MultiReader(dec.Buffered(), iotest.OneByteReader(bytes.NewReader(nil))))
	if string(rest) != "" && string(rest) != "extra"[:len(rest)] {
		t.Errorf("buffered %q", rest)
	}
	dec = NewDecoder(strings.NewReader(""))
	var v any
	if err := dec.Decode(&v); err != io.EOF {
		t.Errorf("empty stream: %v", err)
	}
	dec = NewDecoder(strings.NewReader("\x80\x02K"))
	if err := dec.Decode(&v); err == nil || err == io.EOF {
		t.Errorf("truncated stream: %v", err)
	}
}

// TestTruncatedGolden: every proper prefix of every golden pickle is an
// error, never a panic or a hang.
func TestTruncatedGolden(t *testing.T) {
	entries := loadGolden(t)
	if testing.Short() {
		entries = entries[:200]
	}
	for _, e := range entries {
		if len(e.Data) > 3000 {
			continue
		}
		for i := 0; i < len(e.Data)-1; i++ {
			var v any
			if err := Unmarshal(e.Data[:i], &v); err == nil {
				// a prefix that ends just after a STOP-free... can only succeed if it ends in STOP
				if e.Data[i-1] != opStop {
					t.Fatalf("%s/p%d: prefix %d decoded", e.Name, e.Proto, i)
				}
			}
		}
	}
}

func TestCorruptedGolden(t *testing.T) {
	entries := loadGolden(t)
	seed := uint32(1)
	rnd := func() uint32 { seed = seed*1664525 + 1013904223; return seed >> 8 }
	for k, e := range entries {
		if k%3 != 0 || len(e.Data) > 2000 {
			continue
		}
		for j := 0; j < 20; j++ {
			b := bytes.Clone(e.Data)
			for n := 0; n < 1+int(rnd()%3); n++ {
				b[rnd()%uint32(len(b))] = byte(rnd())
			}
			var v any
			if Unmarshal(b, &v) == nil {
				// whatever decodes must re-encode
				if _, err := Marshal(v); err != nil {
					t.Errorf("%s: decoded but does not encode: %v", e.Name, err)
				}
			}
		}
	}
}

func TestDecodeNumbers(t *testing.T) {
	var v any
	_ = Unmarshal([]byte("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."), &v)
	want := new(big.Int).Lsh(big.NewInt(1), 64)
	if b, ok := v.(*big.Int); !ok || b.Cmp(want) != 0 {
		t.Errorf("got %T %v", v, v)
	}
	_ = Unmarshal([]byte("G\x7f\xf8\x00\x00\x00\x00\x00\x00."), &v)
	if f, ok := v.(float64); !ok || !math.IsNaN(f) {
		t.Errorf("nan: %v", v)
	}
	// LONG1 that fits in int64 is normalised
	_ = Unmarshal([]byte("\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff."), &v)
	if v != int64(-1) {
		t.Errorf("got %T %v", v, v)
	}
}

func TestUnmarshalInvalid(t *testing.T) {
	var x int
	if err := Unmarshal([]byte("N."), x); err == nil {
		t.Error("non-pointer accepted")
	}
	if err := Unmarshal([]byte("N."), nil); err == nil {
		t.Error("nil accepted")
	}
}

// TestSharedDAGIsLinear: hashing, comparing and printing a value with
// exponentially many paths stays fast (a dict key built this way would
// otherwise hang the decoder).
func TestSharedDAGIsLinear(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x80\x02)q\x00")
	for i := 1; i <= 100; i++ {
		b.WriteByte('h')
		b.WriteByte(byte(i - 1))
		b.WriteByte('h')
		b.WriteByte(byte(i - 1))
		b.WriteString("\x86q")
		b.WriteByte(byte(i))
	}
	key := b.String()
	data := []byte(key + "}q\x65h\x64K\x01s.") // {t_100: 1}
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var w any
	if err := Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	if !Equal(v, w) {
		t.Error("equal DAGs differ")
	}
	if _, err := Compare(v.(*Dict).Keys()[0], w.(*Dict).Keys()[0]); err != nil {
		t.Error(err)
	}
	if r := Repr(v); len(r) > 2*maxReprLen {
		t.Errorf("repr of %d bytes", len(r))
	}
	if _, err := Marshal(v); err != nil {
		t.Error(err)
	}
}

// TestSlabValuesStable checks that values boxed from the decoder's slabs
// keep their contents while the pooled decoder decodes other pickles.
func TestSlabValuesStable(t *testing.T) {
	mk := func(i int) any {
		d := NewDict()
		d.Set("id", int64(1000+i))
		d.Set("name", fmt.Sprintf("item%d", i))
		d.Set("score", float64(i)+0.5)
		return NewList(d, int64(-i-300), "a longer string that does not fit the intern limit "+fmt.Sprint(i))
	}
	var kept []any
	for i := range 200 {
		data, err := Marshal(mk(i))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, v)
	}
	for i, v := range kept {
		if !Equal(v, mk(i)) {
			t.Fatalf("%d: %s != %s", i, Repr(v), Repr(mk(i)))
		}
		// growing a slab-made dict must not touch its neighbours
		d := v.(*List).Items[0].(*Dict)
		d.Set("extra", int64(i))
	}
	for i, v := range kept {
		d := v.(*List).Items[0].(*Dict)
		if x, _ := d.Get("extra"); x != any(int64(i)) || d.Len() != 4 {
			t.Fatalf("%d: %s", i, Repr(v))
		}
	}
}

// TestSlabDroppedAfterLargePickle checks that a decoder keeps its leaf
// slabs after a small pickle, never its pointer-holding ones, and nothing
// after a large pickle (whose values it would keep reachable).
func TestSlabDroppedAfterLargePickle(t *testing.T) {
	small, _ := Marshal(Tuple{"get", Tuple{int64(1000)}})
	big, _ := Marshal(Tuple{bytes.Repeat([]byte("x"), 100<<10), int64(1000)})
	d := NewDecoder(bytes.NewReader(append(append([]byte{}, small...), big...)))
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if cap(d.slab.ints) == 0 || cap(d.slab.tuples) != 0 || cap(d.slab.items) != 0 {
		t.Fatal("small pickle: leaf slabs not kept, or pointer-holding ones kept")
	}
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if cap(d.slab.byteHdrs) != 0 || cap(d.slab.tuples) != 0 || cap(d.slab.ints) != 0 {
		t.Fatal("large pickle: slabs kept")
	}
}

// TestUnmarshalOwned: every golden pickle decodes to the same value with
// UnmarshalOwned as with Unmarshal, and bytes values share the input.
func TestUnmarshalOwned(t *testing.T) {
	for _, e := range loadGolden(t) {
		var v, w any
		err1 := Unmarshal(e.Data, &v)
		err2 := UnmarshalOwned(bytes.Clone(e.Data), &w)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s/p%d: Unmarshal: %v, UnmarshalOwned: %v", e.Name, e.Proto, err1, err2)
		}
		if err1 == nil && !sameValue(v, w) {
			t.Fatalf("%s/p%d: differ: %s vs %s", e.Name, e.Proto, Repr(v), Repr(w))
		}
	}
	for _, proto := range []int{3, 4, 5} {
		payload := bytes.Repeat([]byte{0xab}, 1<<20)
		enc := NewEncoder(nil)
		enc.SetProtocol(proto)
		text := strings.Repeat("é", 300) // 600 bytes: shared
		data, err := enc.AppendEncode(nil, Tuple{payload, ByteArray(bytes.Repeat([]byte("ba"), 300)), []byte("x"), text, strings.Repeat("s", OwnedShareMin-1)})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := UnmarshalOwned(data, &v); err != nil {
			t.Fatal(err)
		}
		tup := v.(Tuple)
		got, ba := tup[0].([]byte), tup[1].(ByteArray)
		str, short := tup[3].(string), tup[4].(string)
		if !bytes.Equal(got, payload) || string(ba) != strings.Repeat("ba", 300) || string(tup[2].([]byte)) != "x" || str != text || len(short) != OwnedShareMin-1 {
			t.Fatalf("protocol %d: wrong value %s", proto, Repr(v))
		}
		inside := func(b []byte) bool {
			p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
			return p >= lo && p < lo+uintptr(len(data))
		}
		// (below protocol 5 a bytearray is bytearray(b'...'), a copy of a
		// bytes value that may be shared, so only BYTEARRAY8 can share)
		if !inside(got) || proto >= 5 && !inside(ba) || !inside([]byte(unsafe.Slice(unsafe.StringData(str), len(str)))) {
			t.Errorf("protocol %d: large values were copied", proto)
		}
		if inside(tup[2].([]byte)) || inside(unsafe.Slice(unsafe.StringData(short), len(short))) {
			t.Errorf("protocol %d: values under OwnedShareMin share the input", proto)
		}
		// appending to a shared value never writes into the input after it
		before := bytes.Clone(data)
		_ = append(got, 1, 2, 3)
		_ = append(ba, 'x')
		if !bytes.Equal(before, data) {
			t.Errorf("protocol %d: appending to a decoded value changed the input", proto)
		}
		// and plain Unmarshal never shares
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if inside(v.(Tuple)[0].([]byte)) {
			t.Errorf("protocol %d: Unmarshal shares the input", proto)
		}
	}
}

// TestFastPathFallbacks: the opcodes the decoder's fast loop runs hand every
// unusual case to the general path, which gives the same errors and values
// as for a stream read one byte at a time (where arguments are rarely
// buffered, so the general path runs nearly everything).
func TestFastPathFallbacks(t *testing.T) {
	nested := strings.Repeat("}(\x8c\x01k", DefaultLimits.MaxDepth) + "}" + strings.Repeat("u", DefaultLimits.MaxDepth) + "."
	for _, c := range []struct{ in, err, repr string }{
		{in: "\x94.", err: "stack underflow"},
		{in: "N(\x94.", err: "stack underflow"},
		{in: "h\x05.", err: "memo value not found"},
		{in: "Nr\x05\x00\x00\x00h\x05.", repr: "None"},
		{in: "N\x94Nr\x05\x00\x00\x00\x94h\x02.", repr: "None"},
		{in: "}(K\x01u.", err: "odd number"},
		{in: "](K\x01K\x02u.", err: "SETITEM on a list"},
		{in: "(\x8c\x01aK\x01u.", err: "stack underflow"},
		{in: "}(\x8c\x01aK\x01\x8c\x01aK\x02u.", repr: "{'a': 2}"},
		{in: "}(\x8c\x01aK\x01\x8c\x01bK\x02u(\x8c\x01cK\x03u.", repr: "{'a': 1, 'b': 2, 'c': 3}"},
		{in: "}(K\x01K\x02\x8c\x01aK\x03u.", repr: "{1: 2, 'a': 3}"},
		{in: "}(\x8c", err: "truncated"},
		{in: "\x8c\x05ab", err: "truncated"},
		{in: "G\x00\x00", err: "truncated"},
		{in: "M\x01", err: "truncated"},
		{in: "J\x01\x00\x00", err: "truncated"},
		{in: "K", err: "truncated"},
		{in: nested, err: "nesting deeper"},
	} {
		var v, w any
		err := Unmarshal([]byte(c.in), &v)
		err2 := NewDecoder(iotest.OneByteReader(strings.NewReader(c.in))).Decode(&w)
		short := c.in[:min(len(c.in), 24)]
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: got %v, want an error with %q", short, err, c.err)
			}
			if err2 == nil || !strings.Contains(err2.Error(), c.err) {
				t.Errorf("%q, one byte at a time: got %v, want an error with %q", short, err2, c.err)
			}
			continue
		}
		if err != nil || err2 != nil {
			t.Errorf("%q: %v / %v", short, err, err2)
			continue
		}
		if Repr(v) != c.repr || Repr(w) != c.repr {
			t.Errorf("%q: got %s / %s, want %s", short, Repr(v), Repr(w), c.repr)
		}
	}
	// the allocation limit, reached by short strings
	dec := NewDecoder(bytes.NewReader([]byte("(" + strings.Repeat("\x8c\x0aabcdefghij", 20) + ".")))
	dec.SetLimits(Limits{MaxAlloc: 100})
	var v any
	if err := dec.Decode(&v); err == nil || !strings.Contains(err.Error(), "allocation limit") {
		t.Errorf("alloc: %v", err)
	}
}
