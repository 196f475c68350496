package pickle_test

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

func mustSet(t testing.TB, items ...any) *pickle.Set {
	t.Helper()
	s, err := pickle.NewSet(items...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustFrozen(t testing.TB, items ...any) pickle.FrozenSet {
	t.Helper()
	s, err := pickle.NewFrozenSet(items...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustDict(t testing.TB, kv ...any) *pickle.Dict {
	t.Helper()
	d := pickle.NewDict()
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func encodeProto(t testing.TB, v any, proto int) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := pickle.NewEncoder(&buf)
	enc.SetProtocol(proto)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("Encode(%#v) at protocol %d: %v", v, proto, err)
	}
	return buf.Bytes()
}

// TestRoundTripValueModel checks Unmarshal(Marshal(v)) == v for every type of
// the value model, at every protocol.
func TestRoundTripValueModel(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 100)
	cases := []struct {
		name string
		v    any
	}{
		{"None", nil},
		{"True", true},
		{"False", false},
		{"int", int64(-12345)},
		{"int64max", int64(math.MaxInt64)},
		{"bigint", big1},
		{"negbigint", new(big.Int).Neg(big1)},
		{"float", 1.5},
		{"inf", math.Inf(-1)},
		{"complex", complex(1, -2)},
		{"str", "héllo ☃"},
		{"bytes", []byte{0, 1, 0xff}},
		{"bytearray", pickle.ByteArray("ab")},
		{"py2str", pickle.Py2String("raw")},
		{"tuple", pickle.Tuple{int64(1), "a", pickle.Tuple{}}},
		{"list", pickle.NewList(int64(1), "b", nil)},
		{"dict", mustDict(t, "a", int64(1), int64(2), "b", pickle.Tuple{int64(1)}, 3.5)},
		{"set", mustSet(t, int64(1), "x")},
		{"frozenset", mustFrozen(t, int64(3))},
		{"global", pickle.Global{Module: "builtins", Name: "float"}},
		{"object", &pickle.Object{Class: pickle.Global{Module: "m", Name: "C"}, Kind: pickle.BuildNewObj, Args: pickle.Tuple{}, State: mustDict(t, "a", int64(1))}},
		{"reduce", pickle.NewObject(pickle.Global{Module: "builtins", Name: "ValueError"}, "x")},
	}
	for _, c := range cases {
		for proto := 0; proto <= 5; proto++ {
			if proto < 2 && c.name == "py2str" {
				// protocols 0 and 1 write a Python 2 str only for Python 2
				continue
			}
			t.Run(c.name+"/"+string(rune('0'+proto)), func(t *testing.T) {
				data := encodeProto(t, c.v, proto)
				var got any
				if err := pickle.Unmarshal(data, &got); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				switch want := c.v.(type) {
				case *pickle.Object:
					o, ok := got.(*pickle.Object)
					if !ok || o.Class != want.Class || !pickle.Equal(o.Args, want.Args) || !pickle.Equal(o.State, want.State) {
						t.Fatalf("got %s, want %s", pickle.Repr(got), pickle.Repr(c.v))
					}
					return
				}
				if !pickle.Equal(got, c.v) {
					t.Fatalf("got %s, want %s", pickle.Repr(got), pickle.Repr(c.v))
				}
				if c.v != nil && reflect.TypeOf(got) != reflect.TypeOf(c.v) && c.name != "py2str" {
					t.Fatalf("got type %T, want %T", got, c.v)
				}
			})
		}
	}
}

type Inner struct {
	Name string `pickle:"name"`
	Tags []string
}

type Embedded struct {
	Level int `pickle:"level"`
}

type Record struct {
	Embedded
	ID         int64             `pickle:"id"`
	Payload    []byte            `pickle:"payload"`
	Skip       string            `pickle:"-"`
	Dash       string            `pickle:"-,"`
	Empty      string            `pickle:"empty,omitempty"`
	Zero       time.Time         `pickle:"zero,omitzero"`
	Ratio      float32           `pickle:"ratio"`
	Small      uint8             `pickle:"small"`
	Big        uint64            `pickle:"big"`
	Huge       big.Int           `pickle:"huge"`
	When       time.Time         `pickle:"when"`
	Inner      Inner             `pickle:"inner"`
	PInner     *Inner            `pickle:"pinner"`
	NilPtr     *Inner            `pickle:"nilptr"`
	Items      []Inner           `pickle:"items"`
	Counts     map[string]int    `pickle:"counts"`
	ByID       map[int]string    `pickle:"by_id"`
	Pair       [2]int            `pickle:"pair"`
	Digest     [4]byte           `pickle:"digest"`
	Any        any               `pickle:"any"`
	Tuple      pickle.Tuple      `pickle:"tuple"`
	Dict       *pickle.Dict      `pickle:"dict"`
	Decimal    pickle.Decimal    `pickle:"decimal"`
	Wait       pickle.TimeDelta  `pickle:"wait"`
	C          complex64         `pickle:"c"`
	Flags      map[string]bool   `pickle:"flags"`
	Nested     map[string][]int8 `pickle:"nested"`
	unexported int
}

func sampleRecord(t testing.TB) Record {
	r := Record{
		Embedded: Embedded{Level: 3},
		ID:       7, Payload: []byte("xyz"), Skip: "not sent", Dash: "dash",
		Ratio: 0.5, Small: 200, Big: math.MaxUint64,
		When:    time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC),
		Inner:   Inner{Name: "in", Tags: []string{"a", "b"}},
		PInner:  &Inner{Name: "p"},
		Items:   []Inner{{Name: "i0"}, {Name: "i1", Tags: []string{}}},
		Counts:  map[string]int{"x": 1, "y": -2},
		ByID:    map[int]string{1: "one", 2: "two"},
		Pair:    [2]int{4, 5},
		Digest:  [4]byte{1, 2, 3, 4},
		Any:     pickle.NewList(int64(1), "two"),
		Tuple:   pickle.Tuple{int64(1), "t"},
		Dict:    mustDict(t, "k", "v"),
		Decimal: "3.14",
		Wait:    pickle.TimeDelta{Days: 1, Seconds: 2, Microseconds: 3},
		C:       complex(1, 2),
		Flags:   map[string]bool{"on": true},
		Nested:  map[string][]int8{"n": {-1, 2}},
	}
	r.Huge.Lsh(big.NewInt(3), 80)
	return r
}

func TestMarshalStructRoundTrip(t *testing.T) {
	in := sampleRecord(t)
	for proto := 0; proto <= 5; proto++ {
		data := encodeProto(t, in, proto)
		var out Record
		if err := pickle.Unmarshal(data, &out); err != nil {
			t.Fatalf("protocol %d: Unmarshal: %v", proto, err)
		}
		want := in
		want.Skip = ""
		if out.Dict == nil || !pickle.Equal(out.Dict, want.Dict) {
			t.Fatalf("protocol %d: Dict = %s", proto, pickle.Repr(out.Dict))
		}
		if !pickle.Equal(out.Any, want.Any) || !pickle.Equal(out.Tuple, want.Tuple) {
			t.Fatalf("protocol %d: Any/Tuple = %s %s", proto, pickle.Repr(out.Any), pickle.Repr(out.Tuple))
		}
		out.Dict, want.Dict, out.Any, want.Any = nil, nil, nil, nil
		if !out.When.Equal(want.When) {
			t.Fatalf("protocol %d: When = %v, want %v", proto, out.When, want.When)
		}
		out.When, want.When = time.Time{}, time.Time{}
		if out.Huge.Cmp(&want.Huge) != 0 {
			t.Fatalf("protocol %d: Huge = %v", proto, &out.Huge)
		}
		out.Huge, want.Huge = big.Int{}, big.Int{}
		if !reflect.DeepEqual(out, want) {
			t.Fatalf("protocol %d:\n got %+v\nwant %+v", proto, out, want)
		}
	}
}

func TestMarshalStructShape(t *testing.T) {
	data, err := pickle.Marshal(sampleRecord(t))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		t.Fatalf("struct decoded as %T, want *pickle.Dict", v)
	}
	keys := d.Keys()
	var names []string
	for _, k := range keys {
		names = append(names, k.(string))
	}
	got := strings.Join(names, ",")
	want := "level,id,payload,-,ratio,small,big,huge,when,inner,pinner,nilptr,items,counts,by_id,pair,digest,any,tuple,dict,decimal,wait,c,flags,nested"
	if got != want {
		t.Fatalf("keys\n got %s\nwant %s", got, want)
	}
	check := func(key string, want string) {
		t.Helper()
		v, _ := d.Get(key)
		if r := pickle.Repr(v); r != want {
			t.Errorf("%s = %s, want %s", key, r, want)
		}
	}
	check("payload", "b'xyz'")
	check("big", "18446744073709551615")
	check("pair", "(4, 5)")
	check("digest", `b'\x01\x02\x03\x04'`)
	check("nilptr", "None")
	check("counts", "{'x': 1, 'y': -2}")
	check("by_id", "{1: 'one', 2: 'two'}")
	w, _ := d.Get("when")
	if o, ok := w.(*pickle.Object); !ok || o.Class != (pickle.Global{Module: "datetime", Name: "datetime"}) {
		t.Errorf("when = %s, want a datetime.datetime object", pickle.Repr(w))
	}
}

func TestUnmarshalTypeError(t *testing.T) {
	type Item struct {
		Name string `pickle:"name"`
		N    int8   `pickle:"n"`
	}
	type Doc struct {
		Items []Item `pickle:"items"`
		Other string `pickle:"other"`
	}
	src := mustDict(t,
		"items", pickle.NewList(mustDict(t, "name", "a", "n", int64(1)), mustDict(t, "name", int64(5), "n", int64(2))),
		"other", "kept")
	data, err := pickle.Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	var d Doc
	err = pickle.Unmarshal(data, &d)
	var ute *pickle.UnmarshalTypeError
	if !errors.As(err, &ute) {
		t.Fatalf("err = %v, want *UnmarshalTypeError", err)
	}
	if ute.Field != "items[1].name" || ute.Value != "int 5" || ute.Type != reflect.TypeFor[string]() {
		t.Fatalf("err = %+v", ute)
	}
	if d.Other != "kept" || len(d.Items) != 2 || d.Items[1].N != 2 {
		t.Fatalf("decoding did not go on after the mismatch: %+v", d)
	}

	// Overflow is a type error too.
	data, _ = pickle.Marshal(mustDict(t, "items", pickle.NewList(mustDict(t, "n", int64(300)))))
	err = pickle.Unmarshal(data, &d)
	if !errors.As(err, &ute) || ute.Field != "items[0].n" || ute.Value != "int 300" {
		t.Fatalf("overflow: err = %v", err)
	}
}

func TestUnmarshalForms(t *testing.T) {
	type Req struct {
		ID     string
		Method string
		Args   pickle.Tuple
		Kwargs *pickle.Dict
	}
	// A manager request tuple fills a struct positionally.
	data, _ := pickle.Marshal(pickle.Tuple{"7f3a", "put", pickle.Tuple{int64(1)}, pickle.NewDict()})
	var r Req
	if err := pickle.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "7f3a" || r.Method != "put" || len(r.Args) != 1 || r.Kwargs == nil {
		t.Fatalf("got %+v", r)
	}

	// An instance's state dict fills a struct; (dict, slots) too.
	type Point struct{ X, Y int }
	obj := &pickle.Object{Class: pickle.Global{Module: "m", Name: "P"}, Kind: pickle.BuildNewObj, Args: pickle.Tuple{},
		State: pickle.Tuple{mustDict(t, "x", int64(1)), mustDict(t, "Y", int64(2))}}
	data, _ = pickle.Marshal(obj)
	var p Point
	if err := pickle.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p != (Point{1, 2}) {
		t.Fatalf("got %+v", p)
	}

	// Sets into map[T]bool and map[T]struct{} and slices.
	data, _ = pickle.Marshal(mustSet(t, "a", "b"))
	var m map[string]struct{}
	var mb map[string]bool
	var sl []string
	for _, target := range []any{&m, &mb, &sl} {
		if err := pickle.Unmarshal(data, target); err != nil {
			t.Fatal(err)
		}
	}
	if len(m) != 2 || !mb["a"] || len(sl) != 2 {
		t.Fatalf("got %v %v %v", m, mb, sl)
	}

	// None clears pointers, maps and slices, and leaves scalars alone.
	data, _ = pickle.Marshal(nil)
	n := 5
	pn := &n
	sl = []string{"x"}
	if err := pickle.Unmarshal(data, &pn); err != nil || pn != nil {
		t.Fatalf("pointer: %v %v", pn, err)
	}
	if err := pickle.Unmarshal(data, &sl); err != nil || sl != nil {
		t.Fatalf("slice: %v %v", sl, err)
	}
	if err := pickle.Unmarshal(data, &n); err != nil || n != 5 {
		t.Fatalf("int: %v %v", n, err)
	}

	// Identity of *List is kept when the target is *List.
	l := pickle.NewList()
	l.Append(l)
	data, _ = pickle.Marshal(pickle.Tuple{l, l})
	var two [2]*pickle.List
	if err := pickle.Unmarshal(data, &two); err != nil {
		t.Fatal(err)
	}
	if two[0] != two[1] || two[0].Items[0] != any(two[0]) {
		t.Fatal("shared and recursive list lost identity")
	}

	// Python 2 str into string and []byte; big ints into uint64 and floats.
	data = encodeProto(t, pickle.Tuple{pickle.Py2String("s"), pickle.Py2String("b"), new(big.Int).SetUint64(math.MaxUint64), int64(3)}, 2)
	var mixed struct {
		S string
		B []byte
		U uint64
		F float64
	}
	if err := pickle.Unmarshal(data, &mixed); err != nil {
		t.Fatal(err)
	}
	if mixed.S != "s" || string(mixed.B) != "b" || mixed.U != math.MaxUint64 || mixed.F != 3 {
		t.Fatalf("got %+v", mixed)
	}
}

// celsius implements Marshaler and Unmarshaler (value and pointer receiver).
type celsius float64

func (c celsius) MarshalPickle() (any, error) {
	return pickle.NewObject(pickle.Global{Module: "units", Name: "Celsius"}, float64(c)), nil
}

func (c *celsius) UnmarshalPickle(v any) error {
	o, ok := v.(*pickle.Object)
	if !ok || len(o.Args) != 1 {
		return errors.New("not a Celsius")
	}
	f, ok := o.Args[0].(float64)
	if !ok {
		return errors.New("bad Celsius")
	}
	*c = celsius(f)
	return nil
}

func TestMarshalerUnmarshaler(t *testing.T) {
	type Weather struct {
		Temp  celsius   `pickle:"temp"`
		Temps []celsius `pickle:"temps"`
		PTemp *celsius  `pickle:"ptemp"`
	}
	c := celsius(-3.5)
	in := Weather{Temp: 21.5, Temps: []celsius{1, 2}, PTemp: &c}
	data, err := pickle.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if r := pickle.Repr(v); !strings.Contains(r, "Celsius") {
		t.Fatalf("Marshaler not used: %s", r)
	}
	var out Weather
	if err := pickle.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	// An error of an Unmarshaler stops decoding and names the field.
	data, _ = pickle.Marshal(mustDict(t, "temp", "hot"))
	if err := pickle.Unmarshal(data, &out); err == nil || !strings.Contains(err.Error(), "temp") {
		t.Fatalf("err = %v", err)
	}
}

func TestMarshalCycle(t *testing.T) {
	type Node struct {
		Next *Node
	}
	n := &Node{}
	n.Next = n
	if _, err := pickle.Marshal(n); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("err = %v, want a cycle error", err)
	}
	if _, err := pickle.Marshal(struct{ F func() }{}); err == nil {
		t.Fatal("func field: no error")
	}
}

func TestFieldCacheConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				data, err := pickle.Marshal(sampleRecord(t))
				if err != nil {
					t.Error(err)
					return
				}
				var r Record
				if err := pickle.Unmarshal(data, &r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestEmbeddedConflicts(t *testing.T) {
	type A struct{ X, Y int }
	type B struct {
		X int
		Z int `pickle:"Y"`
	}
	type S struct {
		A
		B
		Y2 int `pickle:"y2"`
	}
	data, err := pickle.Marshal(S{A: A{X: 1, Y: 2}, B: B{X: 3, Z: 4}, Y2: 5})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = pickle.Unmarshal(data, &v)
	// X is ambiguous (dropped); Y: the tagged B.Z wins over A.Y.
	if r := pickle.Repr(v); r != "{'Y': 4, 'y2': 5}" {
		t.Fatalf("got %s", r)
	}
}

// FuzzUnmarshalTyped decodes arbitrary pickles into a typed struct: it must
// never panic, whatever the shapes.
func FuzzUnmarshalTyped(f *testing.F) {
	for _, v := range []any{sampleRecord(f), pickle.Tuple{"a", int64(1)}, nil, mustDict(f, "items", pickle.NewList(int64(1)))} {
		data, err := pickle.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		_ = pickle.Unmarshal(data, &r)
		var p *Inner
		_ = pickle.Unmarshal(data, &p)
		var m map[string][]int
		_ = pickle.Unmarshal(data, &m)
		reg := pickle.StdRegistry()
		dec := pickle.NewDecoder(bytesReader(data))
		dec.SetRegistry(reg)
		var v any
		_ = dec.Decode(&v)
	})
}

// tree is a recursive Go type for the sharing tests.
type tree struct {
	Kids []*tree `pickle:"kids"`
}

func TestUnmarshalSharedAndRecursive(t *testing.T) {
	// 64 levels of a list holding the level below twice: 2^64 paths, 64
	// containers. Typed decoding converts each container once.
	var lvl any = pickle.NewDict()
	for range 64 {
		lvl = mustDict(t, "kids", pickle.NewList(lvl, lvl))
	}
	data, err := pickle.Marshal(lvl)
	if err != nil {
		t.Fatal(err)
	}
	var tr *tree
	if err := pickle.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Kids[0] != tr.Kids[1] {
		t.Fatal("shared dict did not give a shared pointer")
	}
	// A list that contains itself cannot fill a Go slice type.
	l := pickle.NewList()
	l.Append(l)
	data, _ = pickle.Marshal(l)
	type rec []rec
	var r rec
	if err := pickle.Unmarshal(data, &r); err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Fatalf("err = %v, want a recursion error", err)
	}
	// ... but any and *pickle.List take it as is.
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
}
