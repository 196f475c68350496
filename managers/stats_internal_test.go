package managers

import (
	"testing"
)

// BenchmarkRequestStats is what counting costs a request: one atomic add, and for every
// durationSampleEvery-th request two monotonic clock reads and two more adds (the parallel
// case shares one counter, as 16 connections calling one queue's put do).
func BenchmarkRequestStats(b *testing.B) {
	st := newServerStats()
	_, set := st.forType("Queue", []string{"put"})
	r := set["put"]
	request := func(n *uint32) {
		var in incoming
		if *n%durationSampleEvery == 0 {
			in.start, in.timed = monoNow(), true
		}
		*n++
		r.record(&in)
	}
	b.Run("serial", func(b *testing.B) {
		var n uint32
		for b.Loop() {
			request(&n)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var n uint32
			for pb.Next() {
				request(&n)
			}
		})
	})
	b.Run("clock", func(b *testing.B) { // what timing every request would cost instead
		for b.Loop() {
			start := monoNow()
			r.observe(monoNow() - start)
		}
	})
}
