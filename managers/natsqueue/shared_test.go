package natsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/natstest"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// connect opens a connection of its own to url, as another mpgo server would.
func connect(t testing.TB, urls ...string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	nc, js, err := natsqueue.Connect(ctx, urls, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, js
}

func openJS(t testing.TB, js jetstream.JetStream, cfg natsqueue.Config) *natsqueue.Queue {
	t.Helper()
	q, err := natsqueue.Open(t.Context(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// TestTwoServers: two Queues on two connections share one stream: every item is delivered
// once, qsize agrees, and join on one returns only when the items of both are done.
func TestTwoServers(t *testing.T) {
	s := natstest.StartServer(t, t.TempDir())
	_, js1 := connect(t, s.URL)
	_, js2 := connect(t, s.URL)
	q1 := openJS(t, js1, natsqueue.Config{Name: "shared"})
	q2 := openJS(t, js2, natsqueue.Config{Name: "shared"})
	ctx := t.Context()

	const n = 200
	for i := range n {
		q := q1
		if i%2 == 1 {
			q = q2
		}
		if err := q.Put(ctx, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := q1.Qsize(), q2.Qsize(); a != n || b != n {
		t.Fatalf("qsize %d and %d, want %d", a, b, n)
	}
	joined := make(chan error, 1)
	go func() { joined <- q2.Join(ctx) }()

	// Getters on both servers, blocking and not, at once.
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		q := q1
		if g%2 == 1 {
			q = q2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var v any
				var err error
				if g%4 < 2 {
					v, err = q.GetTimeout(ctx, 200*time.Millisecond)
				} else {
					v, err = q.GetNowait()
				}
				if errors.Is(err, managers.ErrQueueEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[v.(int64)]++
				mu.Unlock()
				if err := q.TaskDone(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("got %d distinct items, want %d", len(seen), n)
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("item %d delivered %d times", v, c)
		}
	}
	select {
	case err := <-joined:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("join did not return after every item was done")
	}
	if a, b := q1.Qsize(), q2.Qsize(); a != 0 || b != 0 {
		t.Fatalf("qsize %d and %d after draining", a, b)
	}
	if err := q1.TaskDone(); !managers.IsPythonException(err, "builtins", "ValueError") {
		t.Fatalf("task_done too often on the other server: %v", err)
	}
}

// TestJoinWaits: join does not return while an item put through another server is not done.
func TestJoinWaits(t *testing.T) {
	s := natstest.StartServer(t, t.TempDir())
	_, js1 := connect(t, s.URL)
	_, js2 := connect(t, s.URL)
	q1 := openJS(t, js1, natsqueue.Config{Name: "j"})
	q2 := openJS(t, js2, natsqueue.Config{Name: "j"})
	ctx := t.Context()
	if err := q1.Put(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := q2.Get(ctx); err != nil {
		t.Fatal(err)
	}
	jctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := q1.Join(jctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("join with an unfinished item: %v", err)
	}
	if n, err := q1.Unfinished(ctx); err != nil || n != 1 {
		t.Fatalf("unfinished = %d, %v", n, err)
	}
	joined := make(chan error, 1)
	go func() { joined <- q1.Join(ctx) }()
	if err := q2.TaskDone(); err != nil {
		t.Fatal(err)
	}
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
}

// TestBlockedGetters: getters blocked on an empty queue receive items put later, each once,
// while others give up at their timeout (an item fetched for one that gave up is not lost).
func TestBlockedGetters(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{Name: "blocked"})
	ctx := t.Context()
	const getters, n = 16, 300
	got := make(chan int64, n)
	var wg sync.WaitGroup
	for g := range getters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(got) < n {
				d := time.Duration(1+g%5) * time.Millisecond
				v, err := q.GetTimeout(ctx, d)
				if errors.Is(err, managers.ErrQueueEmpty) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				got <- v.(int64)
			}
		}()
	}
	for i := range n {
		if err := q.Put(ctx, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(got)
	seen := map[int64]bool{}
	for v := range got {
		if seen[v] {
			t.Fatalf("item %d twice", v)
		}
		seen[v] = true
	}
	if len(seen) != n {
		t.Fatalf("%d items, want %d", len(seen), n)
	}
	if qs := q.Qsize(); qs != 0 {
		t.Fatalf("qsize = %d", qs)
	}
}

// TestRestartKeepsItems: an embedded JetStream restarted on the same directory brings every
// item back.
func TestRestartKeepsItems(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	q, err := natsqueue.Open(ctx, e.JetStream, natsqueue.Config{Name: "durable", Maxsize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := q.Put(ctx, fmt.Sprint("item ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Get(ctx); err != nil { // one item gone for good
		t.Fatal(err)
	}
	q.Close()
	e.Close()

	e2, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	q2, err := natsqueue.Open(ctx, e2.JetStream, natsqueue.Config{Name: "durable", Maxsize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if n := q2.Qsize(); n != 49 {
		t.Fatalf("qsize after restart = %d, want 49", n)
	}
	for i := 1; i < 50; i++ {
		v, err := q2.GetNowait()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("item ", i); v != want {
			t.Fatalf("got %v, want %v", v, want)
		}
	}
	if n, err := q2.Unfinished(ctx); err != nil || n != 50 {
		t.Fatalf("unfinished after restart = %d, %v; want 50", n, err)
	}
}

// TestMaxsizeAcrossServers: a put blocked on a full queue returns when a get through another
// server makes room (it polls: no notification crosses servers).
func TestMaxsizeAcrossServers(t *testing.T) {
	s := natstest.StartServer(t, t.TempDir())
	_, js1 := connect(t, s.URL)
	_, js2 := connect(t, s.URL)
	q1 := openJS(t, js1, natsqueue.Config{Name: "bounded", Maxsize: 1})
	q2 := openJS(t, js2, natsqueue.Config{Name: "bounded", Maxsize: 1})
	ctx := t.Context()
	if err := q1.Put(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if !q2.Full() {
		t.Fatal("the other server does not see the queue full")
	}
	put := make(chan error, 1)
	go func() { put <- q1.PutTimeout(ctx, "second", 30*time.Second) }()
	if v, err := q2.Get(ctx); err != nil || v != "first" {
		t.Fatalf("get: %v %v", v, err)
	}
	if err := <-put; err != nil {
		t.Fatalf("blocked put: %v", err)
	}
	if v, err := q2.GetTimeout(ctx, 10*time.Second); err != nil || v != "second" {
		t.Fatalf("get: %v %v", v, err)
	}
}
