package pickle_test

import (
	"fmt"
	"os"

	"github.com/mpgo/mpgo/pickle"
)

func ExampleMarshal() {
	type Job struct {
		ID      int64    `pickle:"id"`
		Payload []byte   `pickle:"payload"`
		Tags    []string `pickle:"tags,omitempty"`
		Note    string   `pickle:"note,omitempty"`
		Secret  string   `pickle:"-"`
	}
	data, err := pickle.Marshal(Job{ID: 1, Payload: []byte("x"), Tags: []string{"a", "b"}, Secret: "s"})
	if err != nil {
		panic(err)
	}
	// What Python's pickle.loads(data) returns:
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	fmt.Println(pickle.Repr(v))
	// Output:
	// {'id': 1, 'payload': b'x', 'tags': ['a', 'b']}
}

func ExampleUnmarshal() {
	// pickle.dumps(('7f3a2b1c', 'put', ({'id': 1, 'tags': ['a', 'b']},), {}), 2)
	// as CPython 3 writes it: a multiprocessing manager request.
	data := []byte("\x80\x02(X\x08\x00\x00\x007f3a2b1cq\x00X\x03\x00\x00\x00putq\x01}q\x02(X\x02\x00\x00\x00idq\x03K\x01X\x04\x00\x00\x00tagsq\x04]q\x05(X\x01\x00\x00\x00aq\x06X\x01\x00\x00\x00bq\x07eu\x85q\x08}q\ttq\n.")
	type Item struct {
		ID   int      `pickle:"id"`
		Tags []string `pickle:"tags"`
	}
	type Request struct {
		Ident  string
		Method string
		Args   []Item
		Kwargs map[string]any
	}
	var r Request // a tuple fills a struct's fields in order
	if err := pickle.Unmarshal(data, &r); err != nil {
		panic(err)
	}
	fmt.Printf("%s %s %+v %d\n", r.Ident, r.Method, r.Args, len(r.Kwargs))
	// Output:
	// 7f3a2b1c put [{ID:1 Tags:[a b]}] 0
}

func ExampleDisassemble() {
	data, err := pickle.Marshal(pickle.Tuple{"put", int64(1)})
	if err != nil {
		panic(err)
	}
	if err := pickle.Disassemble(os.Stdout, data); err != nil {
		panic(err)
	}
	// Output:
	//     0: \x80 PROTO      4
	//     2: \x95 FRAME      11
	//    11: \x8c SHORT_BINUNICODE 'put'
	//    16: \x94 MEMOIZE    (as 0)
	//    17: K    BININT1    1
	//    19: \x86 TUPLE2
	//    20: \x94 MEMOIZE    (as 1)
	//    21: .    STOP
	// highest protocol among opcodes = 4
}
