package pyjson_test

import (
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/internal/pyjson"
	"github.com/mpgo/mpgo/pickle"
)

func dict(t *testing.T, kv ...any) *pickle.Dict {
	t.Helper()
	d := pickle.NewDict()
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestMarshal(t *testing.T) {
	set, _ := pickle.NewSet(int64(1))
	fs, _ := pickle.NewFrozenSet("a")
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	obj := &pickle.Object{Class: pickle.Global{Module: "m", Name: "C"}, Kind: pickle.BuildNewObj, Args: pickle.Tuple{int64(1)}, State: dict(t, "a", nil)}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"none", nil, `null`},
		{"bools", pickle.Tuple{true, false}, `[true,false]`},
		{"ints", pickle.NewList(int64(-5), huge), `[-5,123456789012345678901234567890]`},
		{"floats", pickle.NewList(1.0, 1e20, math.Copysign(0, -1), 0.1), `[1.0,1e+20,-0.0,0.1]`},
		{"nonfinite", pickle.NewList(math.NaN(), math.Inf(1), math.Inf(-1)), `[{"$float":"nan"},{"$float":"inf"},{"$float":"-inf"}]`},
		{"complex", complex(1, -2), `{"$complex":[1.0,-2.0]}`},
		{"str", "a\"\\\n<é>\u2028", `"a\"\\\n<é>\u2028"`},
		{"surrogate", "x\xed\xa0\x80", `"x\ud800"`},
		{"py2str", pickle.NewList(pickle.Py2String("ok"), pickle.Py2String("\xff")), `["ok",{"$bytes":"/w=="}]`},
		{"bytes", []byte("hi"), `{"$bytes":"aGk="}`},
		{"bytearray", pickle.ByteArray("hi"), `{"$bytearray":"aGk="}`},
		{"dict", dict(t, "b", int64(1), "a", pickle.NewList()), `{"b":1,"a":[]}`},
		{"dict pairs", dict(t, int64(1), "x", pickle.Tuple{int64(2)}, "y"), `{"$dict":[[1,"x"],[[2],"y"]]}`},
		{"set", set, `{"$set":[1]}`},
		{"frozenset", fs, `{"$frozenset":["a"]}`},
		{"global", pickle.Global{Module: "builtins", Name: "float"}, `{"$global":"builtins.float"}`},
		{"object", obj, `{"$class":"m.C","build":"newobj","args":[1],"state":{"a":null}}`},
		{"std type", pickle.Decimal("1.5"), `{"$class":"decimal.Decimal","build":"reduce","args":["1.5"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := pyjson.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

func TestMarshalRefs(t *testing.T) {
	l := pickle.NewList(int64(1))
	l.Append(l)
	inner := pickle.NewList()
	d := dict(t, "x/y", inner, "z", inner)
	got, err := pyjson.Marshal(pickle.Tuple{l, d})
	if err != nil {
		t.Fatal(err)
	}
	want := `[[1,{"$ref":"/0"}],{"x/y":[],"z":{"$ref":"/1/x~1y"}}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := pyjson.Marshal(struct{}{}); err == nil {
		t.Fatal("unsupported type: no error")
	}
}

func TestUnmarshalRoundTrip(t *testing.T) {
	set, _ := pickle.NewSet(int64(1), pickle.Tuple{int64(2), "x"})
	fs, _ := pickle.NewFrozenSet("a")
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	v := pickle.NewList(nil, true, int64(3), huge, 2.5, 1e300, math.Inf(-1), complex(0, 1), "s\u00e9\xed\xa0\x80", []byte{0, 255},
		pickle.ByteArray("b"), dict(t, "k", int64(1)), dict(t, pickle.Tuple{int64(1), int64(2)}, "t", int64(3), nil), set, fs,
		pickle.Global{Module: "os.path", Name: "join"},
		&pickle.Object{Class: pickle.Global{Module: "m", Name: "C"}, Kind: pickle.BuildReduce, Args: pickle.Tuple{}, ListItems: []any{int64(1)},
			DictItems: []pickle.DictItem{{Key: "a", Value: int64(2)}}, Kwargs: dict(t, "kw", int64(3)), State: "st"})
	data, err := pyjson.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := pyjson.Unmarshal(data)
	if err != nil {
		t.Fatalf("Unmarshal: %v\n%s", err, data)
	}
	again, err := pyjson.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := pyjson.Marshal(v)
	if string(again) != string(compact) {
		t.Fatalf("round trip differs:\n got %s\nwant %s", again, compact)
	}
	l := back.(*pickle.List)
	if _, ok := l.Items[3].(*big.Int); !ok {
		t.Errorf("big int decoded as %T", l.Items[3])
	}
	if f, ok := l.Items[4].(float64); !ok || f != 2.5 {
		t.Errorf("float decoded as %T %v", l.Items[4], l.Items[4])
	}
	if _, ok := l.Items[2].(int64); !ok {
		t.Errorf("int decoded as %T", l.Items[2])
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, in := range []string{``, `[1,`, `{"a":1} x`, `{"$ref":"/0"}`, `{"$bytes":"!!"}`, `{"$float":"x"}`, `{"$set":[[1],[1]]} `, strings.Repeat("[", 20000) + strings.Repeat("]", 20000)} {
		if v, err := pyjson.Unmarshal([]byte(in)); err == nil && in != `{"$set":[[1],[1]]} ` {
			t.Errorf("Unmarshal(%.30q) = %v, want an error", in, v)
		}
	}
	// An ordinary object whose key starts with "$" stays a dict.
	v, err := pyjson.Unmarshal([]byte(`{"$other": 1, "b": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := v.(*pickle.Dict); !ok || d.Len() != 2 {
		t.Fatalf("got %#v", v)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"$set":[1,2]}`))
	f.Add([]byte(`[{"$class":"m.C","args":[1],"dictitems":[[1,2]]}]`))
	f.Add([]byte(`{"a": [1.5e3, -0, "\ud800\udc00\u00e9", true, null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := pyjson.Unmarshal(data)
		valid := json.Valid(data)
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if err != nil {
			msg := err.Error()
			if valid && !strings.Contains(msg, "$") && !strings.Contains(msg, "deeper") && !strings.Contains(msg, "unhashable") {
				t.Fatalf("rejected valid JSON %q: %v", data, err)
			}
			return
		}
		if _, err := pyjson.Marshal(v); err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
	})
}

func TestCallableObject(t *testing.T) {
	partial := pickle.NewObject(pickle.Global{Module: "functools", Name: "partial"}, pickle.Global{Module: "m", Name: "f"})
	o := &pickle.Object{Callable: partial, Args: pickle.Tuple{int64(1)}}
	out, err := pyjson.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$class":null,"callable":{"$class":"functools.partial","build":"reduce","args":[{"$global":"m.f"}]},"build":"reduce","args":[1]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	back, err := pyjson.Unmarshal(out)
	if err != nil {
		t.Fatal(err)
	}
	bo := back.(*pickle.Object)
	if bo.Class != (pickle.Global{}) || bo.Callable == nil {
		t.Fatalf("got %#v", bo)
	}
}
