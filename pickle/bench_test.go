package pickle_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// The benchmark cases, the same data as bench/pickle_bench.py times with
// CPython's C pickle (protocol 4): run bench/run_pickle.sh for the ratio
// table. Each case builds its value on demand, so that a benchmark keeps
// only its own data alive: every GC cycle marks the whole live heap, and a
// decode timed next to the other cases' values (the 10,000 dicts above all)
// would be charged for marking them.
type benchCase struct {
	name  string
	build func(testing.TB) any
}

var benchCases = []benchCase{
	{"request", func(tb testing.TB) any {
		return pickle.Tuple{"7f3a2b1c", "put", pickle.Tuple{mustDict(tb,
			"id", int64(1), "payload", bytes.Repeat([]byte("x"), 100), "tags", pickle.NewList("a", "b"))}, pickle.NewDict()}
	}},
	{"bytes1MiB", func(testing.TB) any { return bytes.Repeat([]byte{0xab}, 1<<20) }},
	{"dicts10k", func(tb testing.TB) any {
		items := make([]any, 10000)
		for i := range items {
			items[i] = mustDict(tb, "id", int64(i), "name", fmt.Sprintf("item%d", i), "score", float64(i)*0.5)
		}
		return pickle.NewList(items...)
	}},
}

func BenchmarkPickle(b *testing.B) {
	for _, c := range benchCases {
		data, err := pickle.Marshal(c.build(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v any
				if err := pickle.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
		// UnmarshalOwned as a server uses it on a frame read for this one
		// pickle; the benchmark reuses the input, which is only read.
		b.Run(c.name+"/decode-owned", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v any
				if err := pickle.UnmarshalOwned(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encode", func(b *testing.B) {
			v := c.build(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			enc := pickle.NewEncoder(nil)
			buf := make([]byte, 0, len(data)+64)
			for b.Loop() {
				out, err := enc.AppendEncode(buf[:0], v)
				if err != nil {
					b.Fatal(err)
				}
				buf = out
			}
		})
		b.Run(c.name+"/marshal", func(b *testing.B) {
			v := c.build(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pickle.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchRequest is the typed form of the manager request for the typed
// benchmarks (reflection through Marshal and Unmarshal).
type benchItem struct {
	ID      int64    `pickle:"id"`
	Payload []byte   `pickle:"payload"`
	Tags    []string `pickle:"tags"`
}

type benchRequest struct {
	Ident  string
	Method string
	Args   []benchItem
	Kwargs map[string]any
}

func BenchmarkTypedRequest(b *testing.B) {
	req := benchRequest{Ident: "7f3a2b1c", Method: "put", Args: []benchItem{{ID: 1, Payload: bytes.Repeat([]byte("x"), 100), Tags: []string{"a", "b"}}}, Kwargs: map[string]any{}}
	data, err := pickle.Marshal(pickle.Tuple{req.Ident, req.Method, pickle.Tuple{req.Args[0]}, req.Kwargs})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r benchRequest
			if err := pickle.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pickle.Marshal(req.Args[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRegistryResolve is the cost of decoding with a registry set
// (StdRegistry) on data without registered classes, against no registry.
func BenchmarkRegistryResolve(b *testing.B) {
	data, err := pickle.Marshal(benchCases[2].build(b)) // dicts10k
	if err != nil {
		b.Fatal(err)
	}
	for _, withReg := range []bool{false, true} {
		name := "none"
		reg := pickle.StdRegistry()
		if withReg {
			name = "std"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dec := pickle.NewDecoder(bytes.NewReader(data))
				if withReg {
					dec.SetRegistry(reg)
				}
				var v any
				if err := dec.Decode(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
