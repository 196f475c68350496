package managers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// stServer runs a server with RegisterSyncManager and returns a Go client of it and the server.
func stServer(t *testing.T) (*managers.Client, *managers.Server) {
	t.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	key := []byte("sync-types-key")
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	c, err := managers.Dial(context.Background(), "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
		<-done
	})
	return c, srv
}

func stCreate(t *testing.T, c *managers.Client, typeid string, args ...any) *managers.Proxy {
	t.Helper()
	p, err := c.Create(context.Background(), typeid, pickle.Tuple(args), nil)
	if err != nil {
		t.Fatalf("create %s: %v", typeid, err)
	}
	return p
}

// TestSyncServerBlockedCallCancelled: a client that gives up a blocked acquire closes its
// connection; the server's call returns and the lock is left as it was.
func TestSyncServerBlockedCallCancelled(t *testing.T) {
	c, _ := stServer(t)
	lock := stCreate(t, c, "Lock")
	bg := context.Background()
	if v, err := lock.Call(bg, "acquire", nil, nil); err != nil || v != true {
		t.Fatalf("acquire: %v %v", v, err)
	}
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	if _, err := lock.Call(ctx, "acquire", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked acquire: %v, want DeadlineExceeded", err)
	}
	if v, err := lock.Call(bg, "acquire", pickle.Tuple{false}, nil); err != nil || v != false {
		t.Fatalf("acquire(False) after a cancelled waiter: %v %v, want False (still held)", v, err)
	}
	if _, err := lock.Call(bg, "release", nil, nil); err != nil {
		t.Fatal(err)
	}
	// The cancelled waiter must not have taken the lock afterwards.
	if v, err := lock.Call(bg, "acquire", pickle.Tuple{true, 1.0}, nil); err != nil || v != true {
		t.Fatalf("acquire after release: %v %v", v, err)
	}
}

// TestSyncServerShutdownWhileBlocked: calls blocked in Event.wait and Queue.get are in flight,
// so Shutdown waits for them until its context ends (as http.Server does); Close then ends
// them at once (their contexts are cancelled and their connections closed).
func TestSyncServerShutdownWhileBlocked(t *testing.T) {
	c, srv := stServer(t)
	ev := stCreate(t, c, "Event")
	q := stCreate(t, c, "Queue")
	errs := make(chan error, 2)
	go func() { _, err := ev.Call(context.Background(), "wait", nil, nil); errs <- err }()
	go func() { _, err := q.Call(context.Background(), "get", nil, nil); errs <- err }()
	// Once the calls are in flight Shutdown waits for them; if one has not reached the server
	// yet, it fails to connect instead. Either way it must end with an error below.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with blocked calls: %v", err)
	}
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err == nil {
			t.Error("blocked call returned no error after Close")
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("blocked calls ended %v after Close", d)
	}
}

// TestSyncServerNestedProxies: a list stored in a dict stays live (the Ref), as
// test_dict_proxy_nested checks from Python.
func TestSyncServerNestedProxies(t *testing.T) {
	c, _ := stServer(t)
	bg := context.Background()
	d := stCreate(t, c, "dict")
	l := stCreate(t, c, "list")
	if _, err := d.Call(bg, "__setitem__", pickle.Tuple{"l", l}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Call(bg, "append", pickle.Tuple{int64(7)}, nil); err != nil {
		t.Fatal(err)
	}
	inner, err := d.Call(bg, "__getitem__", pickle.Tuple{"l"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := inner.(*managers.Proxy)
	if !ok {
		t.Fatalf("d['l'] = %T, want a proxy", inner)
	}
	defer p.Close()
	v, err := p.Call(bg, "__getitem__", pickle.Tuple{int64(0)}, nil)
	if err != nil || !pickle.Equal(v, int64(7)) {
		t.Fatalf("d['l'][0] = %v %v", v, err)
	}
}

// TestSyncServerCrossReferenceNoDeadlock: a.extend(b) and b.extend(a) (and dict updates from
// each other) at the same time must not deadlock: the argument is copied before locking.
func TestSyncServerCrossReferenceNoDeadlock(t *testing.T) {
	c, _ := stServer(t)
	bg := context.Background()
	a := stCreate(t, c, "list", pickle.NewList(int64(1)))
	b := stCreate(t, c, "list", pickle.NewList(int64(2)))
	da := stCreate(t, c, "dict")
	db := stCreate(t, c, "dict")
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	errs := make(chan error, 4)
	run := func(p *managers.Proxy, method string, arg *managers.Proxy) {
		for i := 0; i < 40; i++ {
			if method == "extend" {
				// keep the lists short: replace the contents, then extend from the other list
				if _, err := p.Call(ctx, "__setitem__", pickle.Tuple{pickle.NewObject(pickle.Global{Module: "builtins", Name: "slice"}, nil, nil, nil), pickle.NewList(int64(i))}, nil); err != nil {
					errs <- err
					return
				}
			} else if _, err := p.Call(ctx, "__setitem__", pickle.Tuple{int64(i % 3), int64(i)}, nil); err != nil {
				errs <- err
				return
			}
			if _, err := p.Call(ctx, method, pickle.Tuple{arg}, nil); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}
	go run(a, "extend", b)
	go run(b, "extend", a)
	go run(da, "update", db)
	go run(db, "update", da)
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("cross-referencing calls: %v", err)
		}
	}
	// self-reference: l.extend(l) doubles the list
	if _, err := a.Call(bg, "__setitem__", pickle.Tuple{pickle.NewObject(pickle.Global{Module: "builtins", Name: "slice"}, nil, nil, nil), pickle.NewList(int64(1), int64(2))}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Call(bg, "extend", pickle.Tuple{a}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Call(bg, "__len__", nil, nil); err != nil || !pickle.Equal(n, int64(4)) {
		t.Fatalf("len after l.extend(l) = %v %v, want 4", n, err)
	}
}
