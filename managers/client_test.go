package managers_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// startTestServer runs an in-process mpgo server with SyncManager's typeids.
func startTestServer(t testing.TB) (addr string, key []byte) {
	t.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	key = []byte("client-test-key")
	addr, _ = serveLoopback(t, &managers.Server{AuthKey: key, Registry: reg}, &connection.Config{AuthKey: key})
	return addr, key
}

func dialTest(t testing.TB, cfg *managers.ClientConfig) *managers.Client {
	t.Helper()
	addr, key := startTestServer(t)
	if cfg == nil {
		cfg = &managers.ClientConfig{}
	}
	cfg.AuthKey = key
	c, err := managers.Dial(context.Background(), "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientDialWrongKey(t *testing.T) {
	addr, _ := startTestServer(t)
	_, err := managers.Dial(context.Background(), "tcp", addr, &managers.ClientConfig{AuthKey: []byte("nope")})
	if !errors.Is(err, connection.ErrAuthFailed) {
		t.Fatalf("Dial with a wrong key: %v, want ErrAuthFailed", err)
	}
}

// TestClientCancelBlockingCall: a call cancelled mid-flight returns ctx's error and its
// connection is not reused (the next call gets its own, correct reply).
func TestClientCancelBlockingCall(t *testing.T) {
	c := dialTest(t, nil)
	ctx := context.Background()
	p, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := managers.QueueProxy{Proxy: p}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := q.Get(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking get with a deadline: %v", err)
	}
	if err := q.Put(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	n, err := q.Qsize(ctx)
	if err != nil || n != 1 {
		// A reused poisoned connection would read the abandoned get's reply here.
		t.Fatalf("qsize after a cancelled get = %d, %v", n, err)
	}
	if _, err := q.GetTimeout(ctx, 10*time.Millisecond); err != nil && !managers.IsQueueEmpty(err) {
		t.Fatal(err)
	}
}

// TestClientRefcounts: create, #PROXY-free calls and Close keep number_of_objects exact;
// Client.Close releases proxies still open.
func TestClientRefcounts(t *testing.T) {
	addr, key := startTestServer(t)
	ctx := context.Background()
	c1, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	count := func() int {
		n, err := c2.NumberOfObjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n0 := count()
	for _, typeid := range []string{"dict", "list", "Queue", "Event", "Lock"} {
		if _, err := c1.Create(ctx, typeid, nil, nil); err != nil {
			t.Fatalf("create %s: %v", typeid, err)
		}
	}
	if n := count(); n != n0+5 {
		t.Fatalf("number_of_objects = %d, want %d", n, n0+5)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != n0 {
		t.Fatalf("number_of_objects after Client.Close = %d, want %d", n, n0)
	}
	if _, err := c1.Create(ctx, "dict", nil, nil); !errors.Is(err, managers.ErrClientClosed) {
		t.Fatalf("create after Close: %v", err)
	}
}

// TestClientRLockOwner: a LockProxy owns an RLock through the connection that acquired it,
// re-enters it, and another owner cannot take it until it is released.
func TestClientRLockOwner(t *testing.T) {
	c := dialTest(t, &managers.ClientConfig{MaxIdleConns: -1})
	ctx := context.Background()
	p, err := c.Create(ctx, "RLock", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := managers.NewLockProxy(p), managers.NewLockProxy(p)
	for i := 0; i < 2; i++ {
		if ok, err := a.Acquire(ctx, true, -1); !ok || err != nil {
			t.Fatalf("a.acquire #%d: %v %v", i, ok, err)
		}
	}
	if ok, err := b.Acquire(ctx, false, -1); ok || err != nil {
		t.Fatalf("b.acquire(False) while a holds it: %v %v", ok, err)
	}
	for i := 0; i < 2; i++ {
		if err := a.Release(ctx); err != nil {
			t.Fatalf("a.release #%d: %v", i, err)
		}
	}
	if ok, err := b.Acquire(ctx, true, time.Second); !ok || err != nil {
		t.Fatalf("b.acquire after a released: %v %v", ok, err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestClientTyped covers the typed helpers against mpgo's server.
func TestClientTyped(t *testing.T) {
	c := dialTest(t, nil)
	ctx := context.Background()
	mk := func(typeid string, args ...any) *managers.Proxy {
		p, err := c.Create(ctx, typeid, pickle.Tuple(args), nil)
		if err != nil {
			t.Fatalf("create %s: %v", typeid, err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	ns := managers.NamespaceProxy{Proxy: mk("Namespace")}
	if err := ns.Set(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if v, err := ns.Get(ctx, "a"); err != nil || v != int64(1) {
		t.Fatalf("ns.a = %v, %v", v, err)
	}
	if err := ns.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Get(ctx, "a"); !managers.IsAttributeError(err) {
		t.Fatalf("ns.a after del: %v", err)
	}
	ev := managers.EventProxy{Proxy: mk("Event")}
	if ok, err := ev.Wait(ctx, 10*time.Millisecond); ok || err != nil {
		t.Fatalf("wait on a clear event = %v, %v", ok, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if ok, err := ev.Wait(ctx, -1); !ok || err != nil {
			t.Errorf("wait = %v, %v", ok, err)
		}
	}()
	if err := ev.Set(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok, _ := ev.IsSet(ctx); !ok {
		t.Fatal("is_set false after set")
	}
	val := managers.ValueProxy{Proxy: mk("Value", "i", 3)}
	if err := val.Set(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if n, err := managers.CallInto[int](ctx, val.Proxy, "get"); err != nil || n != 4 {
		t.Fatalf("value = %v, %v", n, err)
	}
	q := managers.QueueProxy{Proxy: mk("Queue", 1)}
	if err := q.PutNowait(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := q.PutNowait(ctx, "b"); !managers.IsQueueFull(err) {
		t.Fatalf("put_nowait on a full queue: %v", err)
	}
	if full, _ := q.Full(ctx); !full {
		t.Fatal("full() false")
	}
	s, err := managers.CallInto[string](ctx, q.Proxy, "get")
	if err != nil || s != "a" {
		t.Fatalf("get = %q, %v", s, err)
	}
	if err := q.TaskDone(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	var re *managers.RemoteError
	if _, err := q.Call(ctx, "nosuch", nil, nil); !errors.As(err, &re) || re.Kind != managers.KindTraceback {
		t.Fatalf("unexposed method: %v", err)
	}
}

// TestLargeValuesKeepTheirBytes: frames of connection.OwnedFrameSize or more
// are decoded with their values sharing the frame (server and client side);
// a later frame on the same connection must never change a value kept from
// an earlier one.
func TestLargeValuesKeepTheirBytes(t *testing.T) {
	c := dialTest(t, nil)
	ctx := context.Background()
	p, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := managers.QueueProxy{Proxy: p}
	var want []any
	for i := range 4 {
		want = append(want,
			bytes.Repeat([]byte{byte('a' + i)}, connection.OwnedFrameSize+1000*i),
			strings.Repeat(string(rune('k'+i)), connection.OwnedFrameSize+500),
			pickle.Tuple{[]byte("small"), bytes.Repeat([]byte{byte(i)}, 2*pickle.OwnedShareMin)})
	}
	for _, v := range want {
		if err := q.Put(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	var got []any
	for range want {
		v, err := q.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	for i := range want {
		if !pickle.Equal(got[i], want[i]) {
			t.Fatalf("item %d changed: %.60s...", i, pickle.Repr(got[i]))
		}
	}
}
