package pickle_test

import (
	"strconv"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// BenchmarkDict times the dict hot path: lookups and stores of str and int
// keys in a small (unindexed) and a large (indexed) dict, and of namedtuple
// keys (objects compared by value).
func BenchmarkDict(b *testing.B) {
	for _, n := range []int{6, 1000} {
		strKeys := make([]any, n)
		intKeys := make([]any, n)
		objKeys := make([]any, n)
		for i := range n {
			strKeys[i] = "key" + strconv.Itoa(i)
			intKeys[i] = int64(i * 7)
			objKeys[i] = &pickle.Object{Class: pickle.Global{Module: "__main__", Name: "Point"}, Kind: pickle.BuildNewObj, Args: pickle.Tuple{int64(i), int64(-i)}}
		}
		for _, c := range []struct {
			name string
			keys []any
		}{{"str", strKeys}, {"int", intKeys}, {"object", objKeys}} {
			d := pickle.NewDict()
			for i, k := range c.keys {
				if err := d.Set(k, int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(c.name+"/"+strconv.Itoa(n)+"/get", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, ok := d.Get(c.keys[i]); !ok {
						b.Fatal("missing key")
					}
					if i++; i == len(c.keys) {
						i = 0
					}
				}
			})
			b.Run(c.name+"/"+strconv.Itoa(n)+"/set", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if err := d.Set(c.keys[i], nil); err != nil {
						b.Fatal(err)
					}
					if i++; i == len(c.keys) {
						i = 0
					}
				}
			})
		}
	}
}
