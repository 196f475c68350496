package natsqueue_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/mpgo/mpgo/pickle"
)

// BenchmarkPutGet measures a put followed by a get on an embedded JetStream (default sync),
// from parallel goroutines (-cpu sets their number), as Go callers.
func BenchmarkPutGet(b *testing.B) {
	e := embedded(b)
	q := open(b, e, natsqueue.Config{Name: "bench"})
	item := pickle.Tuple{int64(1), "payload", 2.5}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := q.Put(ctx, item); err != nil {
				b.Error(err)
				return
			}
			if _, err := q.Get(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetBlocked measures items put by one goroutine and got by blocked getters (the
// pull loop's path).
func BenchmarkGetBlocked(b *testing.B) {
	e := embedded(b)
	q := open(b, e, natsqueue.Config{Name: "bench"})
	const getters = 16
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan struct{}, getters)
	var wg sync.WaitGroup
	for range getters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := q.Get(ctx)
				if err != nil {
					if ctx.Err() == nil {
						b.Error(err)
					}
					return
				}
				select {
				case got <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	b.ResetTimer()
	go func() {
		for range b.N {
			if err := q.Put(ctx, int64(1)); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for range b.N {
		<-got
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}

// BenchmarkPut measures a put (published and acknowledged by JetStream) with the default sync
// policy and with SyncAlways (an fsync per put), from parallel goroutines.
func BenchmarkPut(b *testing.B) {
	for _, sync := range []bool{false, true} {
		name := "default"
		if sync {
			name = "syncalways"
		}
		b.Run(name, func(b *testing.B) {
			e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: b.TempDir(), SyncAlways: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			q, err := natsqueue.Open(b.Context(), e.JetStream, natsqueue.Config{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			item := pickle.Tuple{int64(1), "payload", 2.5}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if err := q.Put(ctx, item); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGetNowait measures get_nowait on a queue that holds the items (filled before the
// timer starts), from parallel goroutines.
func BenchmarkGetNowait(b *testing.B) {
	e := embedded(b)
	q := open(b, e, natsqueue.Config{Name: "bench"})
	ctx := context.Background()
	for range b.N {
		if err := q.Put(ctx, int64(1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.GetNowait(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
