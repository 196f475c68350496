package pickle

import (
	"bytes"
	"strings"
	"testing"
)

// pickledDialects are the dialects a Pickled is written in: every protocol,
// and the Python 2 protocols.
var pickledDialects = []struct {
	proto int
	py2   bool
}{{0, false}, {1, false}, {2, false}, {3, false}, {4, false}, {5, false}, {0, true}, {1, true}, {2, true}}

func encodeIn(t testing.TB, v any, proto int, py2 bool) []byte {
	t.Helper()
	e := NewEncoder(nil)
	e.SetProtocol(proto)
	e.SetPython2(py2)
	out, err := e.AppendEncode(nil, v)
	if err != nil {
		t.Fatalf("encode %s at %d/%v: %v", Repr(v), proto, py2, err)
	}
	return out
}

func mustPickled(t testing.TB, v any, proto int, py2 bool) Pickled {
	t.Helper()
	if proto == 0 {
		// NewPickled's 0 means DefaultProtocol: use an Encoder for protocol 0
		e := NewEncoder(nil)
		e.SetProtocol(0)
		e.SetPython2(py2)
		p, err := e.EncodePickled(v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := NewPickled(v, proto, py2)
	if err != nil {
		t.Fatalf("NewPickled(%s, %d, %v): %v", Repr(v), proto, py2, err)
	}
	return p
}

func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := Unmarshal(b, &v); err != nil {
		t.Fatalf("decode: %v\n%x", err, b)
	}
	return v
}

// pickledSamples are values with the memo cases of a splice: shared and
// recursive containers, repeated strings, globals, objects.
func pickledSamples() []any {
	rec := NewList(int64(1))
	rec.Append(rec)
	shared := NewList("x")
	d := NewDict()
	_ = d.Set("k", shared)
	_ = d.Set("j", shared)
	s := "repeated"
	obj := &Object{Class: Global{"collections", "OrderedDict"}, Kind: BuildReduce, Args: Tuple{}, DictItems: []DictItem{{"a", int64(1)}}}
	set1, _ := NewSet(int64(1), "a")
	fs, _ := NewFrozenSet(int64(2))
	return []any{
		Tuple{int64(7), "task-7", 1.5},
		nil, true, int64(-3), int64(1) << 40, 2.25, "é", "", []byte("raw"), []byte{},
		Tuple{s, s, s},
		rec, d, Tuple{shared, shared, obj, obj},
		set1, fs,
		Global{"builtins", "float"}, complex(1, 2), ByteArray("ba"),
		Py2String("py2"), Py2Int(1 << 40), Py2Long(5),
		NewList(makeStrings(300)...), // memo indices past 255
	}
}

func makeStrings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = strings.Repeat("s", i%7) + string(rune('a'+i%26)) + string(rune('A'+i/26))
	}
	return out
}

// TestPickledSpliceReply: ('#RETURN', Pickled) is byte for byte the pickle
// of ('#RETURN', value) in every dialect: the fragment's memo is renumbered
// after '#RETURN”s entry.
func TestPickledSpliceReply(t *testing.T) {
	for _, d := range pickledDialects {
		for _, v := range pickledSamples() {
			p := mustPickled(t, v, d.proto, d.py2)
			want := encodeIn(t, Tuple{"#RETURN", v}, d.proto, d.py2)
			got := encodeIn(t, Tuple{"#RETURN", p}, d.proto, d.py2)
			if !bytes.Equal(got, want) {
				t.Errorf("protocol %d py2 %v %s:\n got %x\nwant %x", d.proto, d.py2, Repr(v), got, want)
			}
		}
	}
}

// TestPickledSpliceMemo splices fragments where the outer pickle has memo
// entries before, between and after them: shared outer containers stay
// shared, each splice is a value of its own, and sharing inside a fragment
// is kept.
func TestPickledSpliceMemo(t *testing.T) {
	for _, d := range pickledDialects {
		shared := NewList("outer")
		inner := NewList("in")
		v := Tuple{inner, inner, "text"}
		p := mustPickled(t, v, d.proto, d.py2)
		out := encodeIn(t, Tuple{shared, p, shared, p, NewList(makeStrings(300)...), p}, d.proto, d.py2)
		got := decodeAny(t, out).(Tuple)
		if got[0].(*List) != got[2].(*List) {
			t.Errorf("protocol %d py2 %v: the outer list is no longer shared", d.proto, d.py2)
		}
		for _, i := range []int{1, 3, 5} {
			tv := got[i].(Tuple)
			if tv[0].(*List) != tv[1].(*List) || !Equal(tv[0], NewList("in")) || !Equal(tv[2], "text") {
				t.Errorf("protocol %d py2 %v: item %d is %s", d.proto, d.py2, i, Repr(tv))
			}
		}
		if got[1].(Tuple)[0].(*List) == got[3].(Tuple)[0].(*List) {
			t.Errorf("protocol %d py2 %v: two splices share a list", d.proto, d.py2)
		}
		// the same with the Go value: the structure must be the one above,
		// except that the Go value is one object where the splices are two
		ref := decodeAny(t, encodeIn(t, Tuple{shared, v, shared}, d.proto, d.py2)).(Tuple)
		if !sameValue(ref[1], got[1]) {
			t.Errorf("protocol %d py2 %v: %s != %s", d.proto, d.py2, Repr(got[1]), Repr(ref[1]))
		}
	}
}

// TestPickledRecursive: a recursive fragment spliced after memo entries.
func TestPickledRecursive(t *testing.T) {
	for _, d := range pickledDialects {
		rec := NewList(int64(1))
		rec.Append(rec)
		p := mustPickled(t, rec, d.proto, d.py2)
		got := decodeAny(t, encodeIn(t, Tuple{"a", NewDict(), p}, d.proto, d.py2)).(Tuple)
		l := got[2].(*List)
		if len(l.Items) != 2 || l.Items[1].(*List) != l {
			t.Errorf("protocol %d py2 %v: %s", d.proto, d.py2, Repr(got[2]))
		}
	}
}

// TestPickledOtherDialect: an Encoder of another dialect writes the value.
func TestPickledOtherDialect(t *testing.T) {
	for _, from := range pickledDialects {
		for _, to := range pickledDialects {
			if from == to {
				continue
			}
			for _, v := range pickledSamples() {
				p := mustPickled(t, v, from.proto, from.py2)
				dv, err := p.Value()
				if err != nil {
					t.Fatal(err)
				}
				want := encodeIn(t, Tuple{"#RETURN", dv}, to.proto, to.py2)
				got := encodeIn(t, Tuple{"#RETURN", p}, to.proto, to.py2)
				if !bytes.Equal(got, want) {
					t.Errorf("%v -> %v %s:\n got %x\nwant %x", from, to, Repr(v), got, want)
				}
			}
		}
	}
}

// TestPickledLarge: a fragment past the frame size goes outside the frames;
// what follows it is framed again.
func TestPickledLarge(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	for _, proto := range []int{4, 5} {
		p := mustPickled(t, Tuple{big, []byte(big)}, proto, false)
		out := encodeIn(t, Tuple{"#RETURN", p, NewList("after", "the", "fragment")}, proto, false)
		got := decodeAny(t, out).(Tuple)
		if !Equal(got[1], Tuple{big, []byte(big)}) || !Equal(got[2], NewList("after", "the", "fragment")) {
			t.Errorf("protocol %d: bad round trip", proto)
		}
		var dis bytes.Buffer
		if err := Disassemble(&dis, out); err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		if n := strings.Count(dis.String(), "FRAME"); n != 2 {
			t.Errorf("protocol %d: %d frames, want 2 (before and after the fragment)", proto, n)
		}
	}
}

// TestPickledGolden: every value of the golden corpus makes a Pickled in
// every dialect that ParsePickled accepts back, decodes to the same value,
// and splices into a reply as it encodes.
func TestPickledGolden(t *testing.T) {
	seen := map[string]bool{}
	checked := 0
	defer func() {
		if checked < 100 {
			t.Errorf("only %d golden values checked", checked)
		}
	}()
	for _, e := range loadGolden(t) {
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		var v any
		if err := Unmarshal(e.Data, &v); err != nil {
			continue
		}
		for _, d := range pickledDialects {
			enc := NewEncoder(nil)
			enc.SetProtocol(d.proto)
			enc.SetPython2(d.py2)
			p, err := enc.EncodePickled(v)
			if err != nil {
				continue // no form in this protocol (checked by the encoder's tests)
			}
			b, err := p.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if ab, err := enc.AppendPickled([]byte("x"), v); err != nil || !bytes.Equal(ab[1:], b) || ab[0] != 'x' {
				t.Fatalf("%s at %d/%v: AppendPickled gives %x, %v; want %x", e.Name, d.proto, d.py2, ab, err, b)
			}
			q, err := ParsePickled(b)
			if err != nil {
				t.Fatalf("%s at %d/%v: ParsePickled: %v", e.Name, d.proto, d.py2, err)
			}
			checked++
			if q != p {
				t.Fatalf("%s at %d/%v: ParsePickled gives %v, want %v", e.Name, d.proto, d.py2, q, p)
			}
			dv, err := q.Value()
			if err != nil {
				t.Fatalf("%s at %d/%v: Value: %v", e.Name, d.proto, d.py2, err)
			}
			want, err := enc.AppendEncode(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if w := decodeAny(t, want); !sameValue(dv, w) {
				t.Errorf("%s at %d/%v: %s, want %s", e.Name, d.proto, d.py2, Repr(dv), Repr(w))
			}
			if len(p.data) < frameSizeTarget {
				r1, _ := enc.AppendEncode(nil, Tuple{"#RETURN", v})
				r2, _ := enc.AppendEncode(nil, Tuple{"#RETURN", q})
				if !bytes.Equal(r1, r2) {
					t.Errorf("%s at %d/%v: reply differs:\n got %x\nwant %x", e.Name, d.proto, d.py2, r2, r1)
				}
			}
		}
	}
}

func TestParsePickledRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"short", []byte{1, 4}},
		{"format", []byte{2, 4, 'N'}},
		{"protocol", []byte{1, 6, 'N'}},
		{"py2 protocol 3", []byte{1, 0x83, 'N'}},
		{"two values", []byte{1, 4, 'N', 'N'}},
		{"no value", []byte{1, 4, '('}},
		{"stop", []byte{1, 4, 'N', '.'}},
		{"proto", []byte{1, 4, 0x80, 4, 'N'}},
		{"frame", []byte{1, 4, 0x95, 1, 0, 0, 0, 0, 0, 0, 0, 'N'}},
		{"get before put", []byte{1, 4, 'h', 0}},
		{"get out of range", []byte{1, 4, 'N', 0x94, '0', 'h', 1}},
		{"put out of sequence", []byte{1, 2, 'N', 'q', 3}},
		{"memoize at protocol 2", []byte{1, 2, 'N', 0x94}},
		{"binput at protocol 4", []byte{1, 4, 'N', 'q', 0}},
		{"truncated", []byte{1, 4, 0x8c, 5, 'a'}},
		{"negative length", []byte{1, 2, 'T', 0xff, 0xff, 0xff, 0xff}},
		{"unknown opcode", []byte{1, 4, 0xff}},
		{"pop below", []byte{1, 4, 'N', '0', '0', 'N'}},
		{"tuple without mark", []byte{1, 4, 'N', 't'}},
		{"ext", []byte{1, 4, 0x82, 1}},
		{"persid", []byte{1, 4, 'N', 'Q'}},
		{"text get", []byte{1, 0, 'N', 'p', '0', '\n', 'g', '1', '\n', '0'}},
	} {
		if p, err := ParsePickled(c.b); err == nil {
			t.Errorf("%s: ParsePickled accepted %x: %v", c.name, c.b, p)
		}
	}
	// and some it accepts
	for _, b := range [][]byte{
		{1, 4, 'N'},
		{1, 4, '(', 'N', 'N', 't', 0x94, 'h', 0, '0'},
		{1, 0x82, 'U', 1, 'a', 'q', 0, 'h', 0, 0x86},
		{1, 0, '(', 'N', 'p', '0', '\n', 'g', '0', '\n', 't'},
		{1, 4, '(', '0', 'N'}, // POP of a MARK
	} {
		if _, err := ParsePickled(b); err != nil {
			t.Errorf("ParsePickled(%x): %v", b, err)
		}
	}
}

func TestPickledValueModelOnly(t *testing.T) {
	type point struct{ X int }
	e := NewEncoder(nil)
	e.SetValueModelOnly(true)
	for _, v := range []any{point{1}, Tuple{int64(1), &point{2}}, testMarshaler{}} {
		if _, err := e.EncodePickled(v); err == nil {
			t.Errorf("value-model-only encoder accepted %#v", v)
		}
	}
	if _, err := e.EncodePickled(Tuple{int64(1), NewList("a")}); err != nil {
		t.Error(err)
	}
	e.SetValueModelOnly(false)
	if _, err := e.EncodePickled(point{1}); err != nil {
		t.Error(err)
	}
}

type testMarshaler struct{}

func (testMarshaler) MarshalPickle() (any, error) { return "m", nil }

func TestPickledZero(t *testing.T) {
	var p Pickled
	if _, err := p.Value(); err == nil {
		t.Error("Value of a zero Pickled")
	}
	if _, err := Marshal(Tuple{p}); err == nil {
		t.Error("Marshal of a zero Pickled")
	}
	if _, err := p.AppendBinary(nil); err == nil {
		t.Error("AppendBinary of a zero Pickled")
	}
}

// FuzzParsePickled: no input panics; a Pickled ParsePickled accepts splices
// into pickles of its dialect, and when its value decodes, so do they, to
// the same value.
func FuzzParsePickled(f *testing.F) {
	for _, d := range pickledDialects {
		for _, v := range pickledSamples()[:14] {
			p := mustPickled(f, v, d.proto, d.py2)
			b, _ := p.AppendBinary(nil)
			f.Add(b)
		}
	}
	f.Add([]byte{1, 4, '(', '0', 'N'})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePickled(b)
		if err != nil {
			return
		}
		v, verr := p.Value()
		e := NewEncoder(nil)
		e.SetProtocol(p.Protocol())
		e.SetPython2(p.Python2())
		out, err := e.AppendEncode(nil, Tuple{"#RETURN", NewList("x"), p})
		if err != nil {
			t.Fatalf("splice of %x: %v", b, err)
		}
		if verr != nil {
			return
		}
		var got any
		if err := Unmarshal(out, &got); err != nil {
			t.Fatalf("spliced %x does not decode: %v\n%x", b, err, out)
		}
		if !sameValue(got.(Tuple)[2], v) {
			t.Fatalf("spliced %x decodes to %s, want %s", b, Repr(got.(Tuple)[2]), Repr(v))
		}
	})
}
