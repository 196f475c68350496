package pickle_test

import (
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// A Pickled is a value pickled once and written many times: an Encoder of
// its dialect copies its opcodes into the pickle it writes, one of another
// dialect writes its value. AppendBinary and ParsePickled store it.
func ExampleNewPickled() {
	item, err := pickle.NewPickled(pickle.Tuple{int64(7), "task-7", 1.5}, 4, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(item, item.MemoLen())

	// a reply pickle holding it: its opcodes are spliced in
	reply, err := pickle.Marshal(pickle.Tuple{"#RETURN", item})
	if err != nil {
		panic(err)
	}
	var v any
	_ = pickle.Unmarshal(reply, &v)
	fmt.Println(pickle.Repr(v))

	// stored and read back
	stored, _ := item.AppendBinary(nil)
	back, err := pickle.ParsePickled(stored)
	if err != nil {
		panic(err)
	}
	val, _ := back.Value()
	fmt.Println(pickle.Repr(val), back == item)
	// Output:
	// pickle.Pickled(protocol 4, 22 bytes) 2
	// ('#RETURN', (7, 'task-7', 1.5))
	// (7, 'task-7', 1.5) true
}
