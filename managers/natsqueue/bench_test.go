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
