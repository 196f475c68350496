package pickle_test

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// point is registered for the Python class geometry.Point in the tests.
type point struct {
	X int `pickle:"x"`
	Y int `pickle:"y"`
}

func TestRegistryResolve(t *testing.T) {
	reg := pickle.StdRegistry()
	if err := reg.Register("geometry", "Point", point{}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("geometry", "PPoint", (*point)(nil)); err != nil {
		t.Fatal(err)
	}
	cls := pickle.Global{Module: "geometry", Name: "Point"}
	pcls := pickle.Global{Module: "geometry", Name: "PPoint"}
	mk := func(c pickle.Global, x, y int64) *pickle.Object {
		return &pickle.Object{Class: c, Kind: pickle.BuildNewObj, Args: pickle.Tuple{}, State: mustDict(t, "x", x, "y", y)}
	}
	shared := mk(pcls, 5, 6)
	dt := pickle.NewObject(pickle.Global{Module: "datetime", Name: "date"}, []byte{7, 228, 1, 2})
	nt := &pickle.Object{Class: cls, Kind: pickle.BuildNewObj, Args: pickle.Tuple{int64(9), int64(8)}} // namedtuple-like
	value := pickle.NewList(mk(cls, 1, 2), shared, shared, mustDict(t, dt, "a date key", "k", mk(cls, 3, 4)),
		mustSet(t, dt), pickle.Tuple{nt}, mk(pickle.Global{Module: "other", Name: "Thing"}, 0, 0))
	data, err := pickle.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	dec := pickle.NewDecoder(bytesReader(data))
	dec.SetRegistry(reg)
	var got any
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	l := got.(*pickle.List)
	if l.Items[0] != (point{1, 2}) {
		t.Errorf("item 0 = %#v", l.Items[0])
	}
	p1, ok1 := l.Items[1].(*point)
	p2, ok2 := l.Items[2].(*point)
	if !ok1 || !ok2 || p1 != p2 || *p1 != (point{5, 6}) {
		t.Errorf("shared pointer object: %#v %#v", l.Items[1], l.Items[2])
	}
	d := l.Items[3].(*pickle.Dict)
	if v, ok := d.Get("k"); !ok || v != (point{3, 4}) {
		t.Errorf("dict value = %#v", v)
	}
	keys := d.Keys()
	if keys[0] != (pickle.Date{Year: 2020, Month: 1, Day: 2}) && !reflect.DeepEqual(keys[0], dt) {
		t.Errorf("dict key = %#v", keys[0])
	}
	if l.Items[5].(pickle.Tuple)[0] != (point{9, 8}) {
		t.Errorf("positional args = %#v", l.Items[5])
	}
	if o, ok := l.Items[6].(*pickle.Object); !ok || o.Class.Module != "other" {
		t.Errorf("unregistered class = %#v", l.Items[6])
	}
	// Without a registry, the objects stay generic.
	var plain any
	if err := pickle.Unmarshal(data, &plain); err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.(*pickle.List).Items[0].(*pickle.Object); !ok {
		t.Errorf("no registry: %#v", plain.(*pickle.List).Items[0])
	}
}

func TestRegistryAPI(t *testing.T) {
	reg := pickle.NewRegistry()
	if err := reg.Register("", "X", point{}); err == nil {
		t.Error("empty module accepted")
	}
	if err := reg.Register("m", "X", nil); err == nil {
		t.Error("nil proto accepted")
	}
	if err := reg.Register("m", "F", func() {}); err == nil {
		t.Error("func proto accepted")
	}
	if err := reg.Register("m", "P", point{}); err != nil {
		t.Fatal(err)
	}
	if typ, ok := reg.Lookup("m", "P"); !ok || typ != reflect.TypeFor[point]() {
		t.Errorf("Lookup = %v %v", typ, ok)
	}
	if g, ok := reg.ClassOf(reflect.TypeFor[point]()); !ok || g != (pickle.Global{Module: "m", Name: "P"}) {
		t.Errorf("ClassOf = %v %v", g, ok)
	}
	// Re-registering the type under another name replaces the mapping.
	if err := reg.Register("m", "Q", point{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("m", "P"); ok {
		t.Error("old class still registered")
	}
	if len(reg.Classes()) != 1 {
		t.Errorf("Classes = %v", reg.Classes())
	}
	if len(pickle.StdRegistry().Classes()) != 8 {
		t.Errorf("StdRegistry classes = %v", pickle.StdRegistry().Classes())
	}
}

func TestRegistryConcurrent(t *testing.T) {
	reg := pickle.StdRegistry()
	data, err := pickle.Marshal(pickle.NewList(pickle.Date{Year: 2000, Month: 1, Day: 1}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 50 {
				_ = reg.Register("m", fmt.Sprintf("C%d_%d", i, j), point{})
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				dec := pickle.NewDecoder(bytesReader(data))
				dec.SetRegistry(reg)
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Error(err)
					return
				}
				if _, ok := v.(*pickle.List).Items[0].(pickle.Date); !ok {
					t.Errorf("got %#v", v)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Celsius is a user type for the Registry example. Registered, it decodes
// from instances of the Python class weather.Celsius; its MarshalPickle
// writes it back as CPython writes such an instance.
type Celsius struct {
	Degrees float64 `pickle:"degrees"`
}

// MarshalPickle implements pickle.Marshaler.
func (c Celsius) MarshalPickle() (any, error) {
	return pickle.NewInstance(pickle.Global{Module: "weather", Name: "Celsius"}, c)
}

func ExampleRegistry() {
	// A pickle of a Python object of class weather.Celsius with
	// __dict__ {'degrees': 21.5}, as CPython 3 writes it at protocol 2.
	data := []byte("\x80\x02cweather\nCelsius\nq\x00)\x81q\x01}q\x02X\x07\x00\x00\x00degreesq\x03G@5\x80\x00\x00\x00\x00\x00sb.")

	reg := pickle.StdRegistry() // datetime, Decimal, UUID ...
	if err := reg.Register("weather", "Celsius", Celsius{}); err != nil {
		panic(err)
	}
	dec := pickle.NewDecoder(bytesReader(data))
	dec.SetRegistry(reg)
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	fmt.Printf("%#v\n", v)

	// Encoding gives CPython's bytes back.
	var buf bytes.Buffer
	enc := pickle.NewEncoder(&buf)
	enc.SetProtocol(2)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	fmt.Println(bytes.Equal(buf.Bytes(), data))
	_ = pickle.Disassemble(os.Stdout, buf.Bytes())
	// Output:
	// pickle_test.Celsius{Degrees:21.5}
	// true
	//     0: \x80 PROTO      2
	//     2: c    GLOBAL     'weather Celsius'
	//    19: q    BINPUT     0
	//    21: )    EMPTY_TUPLE
	//    22: \x81 NEWOBJ
	//    23: q    BINPUT     1
	//    25: }    EMPTY_DICT
	//    26: q    BINPUT     2
	//    28: X    BINUNICODE 'degrees'
	//    40: q    BINPUT     3
	//    42: G    BINFLOAT   21.5
	//    51: s    SETITEM
	//    52: b    BUILD
	//    53: .    STOP
	// highest protocol among opcodes = 2
}

func TestNewInstance(t *testing.T) {
	cls := pickle.Global{Module: "m", Name: "C"}
	o, err := pickle.NewInstance(cls, map[string]int{"b": 2, "a": 1})
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != pickle.BuildNewObj || len(o.Args) != 0 || pickle.Repr(o.State) != "{'a': 1, 'b': 2}" {
		t.Fatalf("got %#v state %s", o, pickle.Repr(o.State))
	}
	o, err = pickle.NewInstance(cls, &point{X: 1})
	if err != nil || pickle.Repr(o.State) != "{'x': 1, 'y': 0}" {
		t.Fatalf("got %v %v", o, err)
	}
	if _, err := pickle.NewInstance(cls, 5); err == nil {
		t.Fatal("int attrs: no error")
	}
}

func TestRegistryPython2Names(t *testing.T) {
	reg := pickle.NewRegistry()
	if err := reg.Register("exceptions", "ValueError", point{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("builtins", "ValueError"); !ok {
		t.Fatal("exceptions.ValueError not registered as builtins.ValueError")
	}
	if _, ok := reg.Lookup("exceptions", "ValueError"); !ok {
		t.Fatal("Lookup does not normalise")
	}
}
