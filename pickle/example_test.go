package pickle_test

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// Decoding into any gives the value model: here a manager request as
// Python 3.8+ sends it.
func ExampleUnmarshal_valueModel() {
	data := []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00(N\x8c\x05dummy\x94)}\x94t\x94.")
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	req := v.(pickle.Tuple)
	fmt.Println(pickle.Repr(req))
	fmt.Printf("%T %T %T\n", req[1], req[2], req[3])
	// Output:
	// (None, 'dummy', (), {})
	// string pickle.Tuple *pickle.Dict
}

// Marshal writes protocol 4; shared lists stay shared, cycles are cycles.
func ExampleMarshal_cycle() {
	l := pickle.NewList(int64(1))
	l.Append(l)
	data, err := pickle.Marshal(pickle.Tuple{l, l})
	if err != nil {
		panic(err)
	}
	var v any
	_ = pickle.Unmarshal(data, &v)
	t := v.(pickle.Tuple)
	fmt.Println(pickle.Repr(t), t[0] == t[1])
	// Output: ([1, [...]], [1, [...]]) true
}

// A Dict follows Python's key rules: 1, 1.0 and True are the same key.
func ExampleDict() {
	d := pickle.NewDict()
	_ = d.Set(int64(1), "int")
	_ = d.Set(1.0, "float")
	_ = d.Set(pickle.Tuple{"a", int64(2)}, "tuple key")
	v, _ := d.Get(true)
	fmt.Println(d.Len(), v)
	fmt.Println(pickle.Repr(d))
	if err := d.Set(pickle.NewList(), 0); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2 float
	// {1: 'float', ('a', 2): 'tuple key'}
	// unhashable type: 'list'
}

// Compare orders values as Python's < does, with Python's TypeError text.
func ExampleCompare() {
	c, _ := pickle.Compare(int64(1), 2.5)
	fmt.Println(c)
	_, err := pickle.Compare("a", int64(1))
	fmt.Println(err)
	// Output:
	// -1
	// '<' not supported between instances of 'str' and 'int'
}

// An exception reply for a Python 2.7 client: protocol 2, Python 2 names,
// ASCII text as Python 2 str.
func ExampleEncoder_SetPython2() {
	enc := pickle.NewEncoder(nil)
	enc.SetPython2(true)
	out, _ := enc.AppendEncode(nil, pickle.Tuple{"#ERROR", pickle.NewObject(pickle.Global{Module: "builtins", Name: "KeyError"}, "missing")})
	fmt.Printf("%q\n", out)
	// Output: "\x80\x02U\x06#ERRORq\x01cexceptions\nKeyError\nq\x02U\amissingq\x03\x85q\x04Rq\x05\x86q\x06."
}

func ExampleRepr() {
	fmt.Println(pickle.Repr(pickle.Tuple{1e16, 0.1, "it's", []byte{0}, pickle.FrozenSet{}}))
	// Output: (1e+16, 0.1, "it's", b'\x00', frozenset())
}

// UnmarshalOwned takes over its input: a large bytes (or str) value in the
// result is the input's memory, not a copy. Here a 1 MiB payload, as a
// received frame would carry it.
func ExampleUnmarshalOwned() {
	frame, err := pickle.Marshal(pickle.Tuple{"put", bytes.Repeat([]byte{0xab}, 1<<20)})
	if err != nil {
		panic(err)
	}
	var v any
	if err := pickle.UnmarshalOwned(frame, &v); err != nil { // frame is not used after this
		panic(err)
	}
	payload := v.(pickle.Tuple)[1].([]byte)
	fmt.Printf("%d bytes of %#x\n", len(payload), payload[0])
	// Output:
	// 1048576 bytes of 0xab
}

// Values received from Python print as Python's repr and encode to JSON.
func ExampleDict_String() {
	// what a Python client sends for {'id': 1, 'tags': ('a', b'\x00')}
	data := []byte("\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x02id\x94K\x01\x8c\x04tags\x94\x8c\x01a\x94C\x01\x00\x94\x86\x94u.")
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	fmt.Println(v)
	j, err := json.Marshal(map[string]any{"received": v})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(j))
	// Output:
	// {'id': 1, 'tags': ('a', b'\x00')}
	// {"received":{"id":1,"tags":["a",{"$bytes":"AA=="}]}}
}
