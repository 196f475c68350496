package managers

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSweep measures one sweep of Server.ReclaimAfter over a table of n objects that all
// stay (the usual sweep, which holds the table's lock for this long): objects that live
// connections use ("used") and objects that none does but that were used recently ("unused",
// the worst case).
func BenchmarkSweep(b *testing.B) {
	for _, used := range []bool{true, false} {
		for _, n := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("used=%v/%d", used, n), func(b *testing.B) {
				t := newTable()
				t.reclaim = true
				var u user
				st := newServerStats()
				for i := range n {
					t.register(NewValue("i", int64(i)), "T", nil, nil, false, holder{u: &u}, st)
				}
				if !used {
					t.leave(&u)
				}
				for b.Loop() {
					if r := t.sweep(time.Hour); len(r) != 0 {
						b.Fatal("released", len(r))
					}
				}
			})
		}
	}
}
