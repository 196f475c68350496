package pickle_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// TestConvertMatchesUnmarshal checks that Convert of the decoded value gives
// what Unmarshal into the typed target gives, errors included.
func TestConvertMatchesUnmarshal(t *testing.T) {
	type Item struct {
		ID   int      `pickle:"id"`
		Tags []string `pickle:"tags"`
		Temp celsius  `pickle:"temp"`
	}
	type Request struct {
		Ident  string
		Method string
		Args   []Item
		Kwargs map[string]any
	}
	d := pickle.NewDict()
	d.Set("id", int64(7))
	d.Set("tags", pickle.NewList("a", "b"))
	d.Set("temp", pickle.NewObject(pickle.Global{Module: "units", Name: "Celsius"}, 21.5))
	bad := pickle.NewDict()
	bad.Set("id", "seven")
	bad.Set("tags", pickle.NewList("c"))
	for _, val := range []any{
		pickle.Tuple{"7f3a2b1c", "put", pickle.Tuple{d}, pickle.NewDict()},
		pickle.Tuple{"x", "get", pickle.Tuple{d, bad}, pickle.NewDict()},
		int64(3),
	} {
		data, err := pickle.Marshal(val)
		if err != nil {
			t.Fatal(err)
		}
		var viaU, viaC Request
		errU := pickle.Unmarshal(data, &viaU)
		var decoded any
		if err := pickle.Unmarshal(data, &decoded); err != nil {
			t.Fatal(err)
		}
		errC := pickle.Convert(decoded, &viaC)
		if !reflect.DeepEqual(viaU, viaC) {
			t.Errorf("%s: Convert %+v, Unmarshal %+v", pickle.Repr(val), viaC, viaU)
		}
		var teU, teC *pickle.UnmarshalTypeError
		if errors.As(errU, &teU) != errors.As(errC, &teC) {
			t.Fatalf("%s: errors differ: %v / %v", pickle.Repr(val), errU, errC)
		}
		if teU != nil && (teU.Field != teC.Field || teU.Value != teC.Value || teU.Type != teC.Type) {
			t.Errorf("%s: Convert error %+v, Unmarshal error %+v", pickle.Repr(val), teC, teU)
		}
	}
}

func TestConvertTargets(t *testing.T) {
	l := pickle.NewList(int64(1))
	var a any
	if err := pickle.Convert(l, &a); err != nil || a != any(l) {
		t.Fatalf("*any: %v %v", a, err)
	}
	var pl *pickle.List
	if err := pickle.Convert(l, &pl); err != nil || pl != l {
		t.Fatalf("*List identity: %v %v", pl, err)
	}
	var c celsius // Unmarshaler at the top level
	if err := pickle.Convert(pickle.NewObject(pickle.Global{Module: "units", Name: "Celsius"}, 3.0), &c); err != nil || c != 3 {
		t.Fatalf("Unmarshaler: %v %v", c, err)
	}
	// A registry-resolved value converts by the typed rules.
	var tm time.Time
	if err := pickle.Convert(pickle.DateTime{Year: 2024, Month: 2, Day: 29, Hour: 1}, &tm); err != nil ||
		!tm.Equal(time.Date(2024, 2, 29, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("DateTime -> time.Time: %v %v", tm, err)
	}
	var n int8
	err := pickle.Convert(int64(300), &n)
	var te *pickle.UnmarshalTypeError
	if !errors.As(err, &te) || te.Type != reflect.TypeFor[int8]() {
		t.Fatalf("overflow: %v", err)
	}
	var ie *pickle.InvalidUnmarshalError
	if err := pickle.Convert(int64(1), n); !errors.As(err, &ie) {
		t.Fatalf("non-pointer: %v", err)
	}
	if err := pickle.Convert(int64(1), nil); !errors.As(err, &ie) {
		t.Fatalf("nil: %v", err)
	}
	if err := pickle.Convert(int64(1), (*int)(nil)); !errors.As(err, &ie) {
		t.Fatalf("nil pointer: %v", err)
	}
	if err := pickle.Convert(int64(1), (*any)(nil)); !errors.As(err, &ie) {
		t.Fatalf("nil *any: %v", err)
	}
}

func ExampleConvert() {
	// A manager method's arguments arrive as value-model values.
	kw := pickle.NewDict()
	kw.Set("timeout", 2.5)
	kw.Set("tags", pickle.NewList("a", "b"))
	args := pickle.Tuple{"job-1", int64(3), kw}

	type Options struct {
		Timeout float64  `pickle:"timeout"`
		Tags    []string `pickle:"tags"`
	}
	var call struct {
		Name  string
		Count int
		Opts  Options
	}
	if err := pickle.Convert(args, &call); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", call)

	var small uint8
	fmt.Println(pickle.Convert(int64(300), &small))
	// Output:
	// {Name:job-1 Count:3 Opts:{Timeout:2.5 Tags:[a b]}}
	// pickle: cannot unmarshal int 300 into Go value of type uint8
}
