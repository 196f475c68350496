package pickle

import (
	"bytes"
	"runtime"
	"testing"
	"weak"
)

// TestSlabsDoNotChainPickles: a decoder that goes on decoding must not keep
// the values of earlier pickles reachable (through its current chunks and
// chunks shared by consecutive pickles), or a server under a steady stream
// of requests grows without bound. Before chunks of pointer-holding slots
// were made per pickle, the ((x,), y) shape leaked ~110 bytes a pickle.
func TestSlabsDoNotChainPickles(t *testing.T) {
	shapes := map[string]func(i int) any{
		"((x,),y)":    func(i int) any { return Tuple{Tuple{int64(i + 1000)}, "y"} },
		"((x,y,z),w)": func(i int) any { return Tuple{Tuple{int64(i + 1000), "a", 2.5}, "w"} },
		"request": func(i int) any {
			item := mapToDict(map[string]any{"id": int64(1000 + i), "payload": bytes.Repeat([]byte("x"), 100)})
			_ = item.Set("tags", NewList("a", "b", Tuple{int64(i + 300)}))
			return Tuple{"7f3a2b1c", "put", Tuple{item}, NewDict()}
		},
	}
	const n = 3000
	for name, shape := range shapes {
		var pickles [][]byte
		var stream bytes.Buffer
		for i := range n {
			p, err := Marshal(shape(i))
			if err != nil {
				t.Fatal(err)
			}
			pickles = append(pickles, p)
			stream.Write(p)
		}
		// Unmarshal's path (one input per pickle: small arenas) and a stream
		for _, mode := range []string{"unmarshal", "stream"} {
			dec := NewDecoder(bytes.NewReader(stream.Bytes()))
			var first weak.Pointer[any]
			var last any
			for i := range n {
				if mode == "unmarshal" {
					dec.r, dec.buf, dec.pos, dec.base = nil, pickles[i], 0, 0
				}
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					inner := v.(Tuple)[0]
					if _, ok := inner.(Tuple); !ok {
						inner = v.(Tuple)[2]
					}
					first = weak.Make(&inner.(Tuple)[0]) // a slot in an items chunk
				}
				last = v
			}
			runtime.GC()
			runtime.GC()
			if first.Value() != nil {
				t.Errorf("%s, %s: the first pickle's values are still reachable after %d more", name, mode, n-1)
			}
			runtime.KeepAlive(last)
			runtime.KeepAlive(dec)
		}
	}
}
