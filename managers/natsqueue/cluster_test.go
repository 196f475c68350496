package natsqueue_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/natstest"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
)

// TestClusterNodeStop: a 3-node cluster, a queue with 3 replicas served by two "servers"
// (connections), producers and consumers running on both; one node is stopped midway. Every
// put that returned nil is got at least once afterwards.
func TestClusterNodeStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node JetStream cluster")
	}
	t0 := time.Now()
	c := natstest.StartCluster(t, 3, t.TempDir())
	t.Logf("cluster up after %v", time.Since(t0))
	urls := c.URLs()
	nc1, js1 := connect(t, urls...)
	_, js2 := connect(t, urls[2], urls[1], urls[0])
	cfg := natsqueue.Config{Name: "clustered", Replicas: 3, Redeliver: 2 * time.Second}
	q1 := openJS(t, js1, cfg)
	q2 := openJS(t, js2, cfg)
	ctx := t.Context()
	t.Logf("queues open after %v", time.Since(t0))

	const producers, perProducer = 2, 150
	var (
		mu       sync.Mutex
		acked    = map[int64]bool{}
		seen     = map[int64]int{}
		putErrs  atomic.Int64
		getErrs  atomic.Int64
		produced atomic.Int64
	)
	half := make(chan struct{})
	var halfOnce sync.Once
	var pwg sync.WaitGroup
	for p := range producers {
		q := []*natsqueue.Queue{q1, q2}[p]
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := range perProducer {
				id := int64(p*perProducer + i)
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second) // a put caught by the stop fails soon
				err := q.Put(pctx, id)
				cancel()
				if err != nil {
					putErrs.Add(1) // unacknowledged: it may or may not be stored
					continue
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
				if produced.Add(1) == producers*perProducer/3 {
					halfOnce.Do(func() { close(half) })
				}
			}
		}()
	}
	stop := make(chan struct{})
	var cwg sync.WaitGroup
	for g := range 4 {
		q := []*natsqueue.Queue{q1, q2}[g%2]
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := q.GetTimeout(ctx, 200*time.Millisecond)
				if errors.Is(err, managers.ErrQueueEmpty) {
					continue
				}
				if err != nil {
					getErrs.Add(1)
					continue
				}
				mu.Lock()
				seen[v.(int64)]++
				mu.Unlock()
			}
		}()
	}
	<-half
	// Stop the node the first connection uses, so that it must fail over too.
	victim := 0
	for i, u := range urls {
		if u == nc1.ConnectedUrl() {
			victim = i
		}
	}
	t.Logf("stopping node %d after %v", victim, time.Since(t0))
	c.Stop(victim)
	pwg.Wait()
	t.Logf("producers done after %v", time.Since(t0))
	// Wait (bounded) until every acknowledged put has been got.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		missing := 0
		for id := range acked {
			if seen[id] == 0 {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged puts never got (of %d)", missing, len(acked))
		}
		time.Sleep(50 * time.Millisecond) // the consumers report nowhere else
	}
	t.Logf("all got after %v", time.Since(t0))
	close(stop)
	cwg.Wait()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("node %d stopped; %d puts acknowledged, %d put errors, %d get errors, %d duplicates (redelivered after the %v window)",
		victim, len(acked), putErrs.Load(), getErrs.Load(), dups, cfg.Redeliver)
}
