package pickle_test

import (
	"errors"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

type strOnly struct{ s string }

func (s strOnly) PyStr() string { return s.s }

func TestGoValuesAsKeysAndRepr(t *testing.T) {
	a := pickle.DateTime{Year: 2024, Month: 1, Day: 2, Hour: 3}
	b := pickle.DateTime{Year: 2024, Month: 1, Day: 2, Hour: 3}
	ha, err := pickle.Hash(a)
	if err != nil {
		t.Fatal(err)
	}
	if hb, _ := pickle.Hash(b); ha != hb || !pickle.Equal(a, b) {
		t.Fatal("equal DateTimes hash differently")
	}
	d := pickle.NewDict()
	if err := d.Set(a, "x"); err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Get(b); !ok || v != "x" {
		t.Fatalf("lookup by an equal DateTime: %v %v", v, ok)
	}
	if _, ok := d.Get(pickle.DateTime{Year: 2024, Month: 1, Day: 2}); ok {
		t.Fatal("found a different DateTime")
	}
	if r := pickle.Repr(d); r != "{datetime.datetime(2024, 1, 2, 3, 0): 'x'}" {
		t.Fatalf("Repr = %s", r)
	}
	// Not comparable, or holding something that is not: unhashable.
	var te *pickle.TypeError
	if _, err := pickle.Hash(map[int]int{}); !errors.As(err, &te) {
		t.Fatalf("map: %v", err)
	}
	if _, err := pickle.Hash(pickle.DateTime{TZInfo: []int{1}}); !errors.As(err, &te) {
		t.Fatalf("slice inside: %v", err)
	}
	if s := pickle.Str(strOnly{"hi"}); s != "hi" {
		t.Fatalf("Str = %q", s)
	}
	var nilDT *pickle.DateTime
	if r := pickle.Repr(nilDT); r != "None" {
		t.Fatalf("nil PyReprer: %q", r)
	}
	if s := pickle.Str(a); s != pickle.Repr(a) {
		t.Fatalf("Str falls back to repr: %q", s)
	}
}

func TestUnmarshalTypeErrorOffset(t *testing.T) {
	data, err := pickle.Marshal(pickle.Tuple{"a", int64(300)})
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "trailing"...)
	var out struct {
		A string
		B int8
	}
	err = pickle.Unmarshal(data, &out)
	var te *pickle.UnmarshalTypeError
	if !errors.As(err, &te) || te.Offset != int64(len(data)-len("trailing")) {
		t.Fatalf("err = %#v", err)
	}
}
