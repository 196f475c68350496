package managers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

var testKey = []byte("secret")

// counter is a small shared object for the tests.
type counter struct {
	mu sync.Mutex
	n  int64
}

func (c *counter) CallMethod(ctx context.Context, name string, args pickle.Tuple, kw *pickle.Dict) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name {
	case "incr":
		by := int64(1)
		if len(args) > 0 {
			by = args[0].(int64)
		}
		c.n += by
		return c.n, nil
	case "fail":
		return nil, managers.NewPyException("builtins", "KeyError", "missing")
	case "child":
		return managers.NewQueue(0), nil
	case "lock":
		return make(chan int), nil
	case "boom":
		panic("boom")
	case "goerr":
		return nil, errors.New("plain go error")
	case "store":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown %s", name)
}

func (c *counter) PyRepr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("Counter(%d)", c.n)
}

// holder stores one value (e.g. a *Ref) and returns it.
type holder struct {
	mu sync.Mutex
	v  any
}

func (h *holder) CallMethod(ctx context.Context, name string, args pickle.Tuple, kw *pickle.Dict) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch name {
	case "set":
		h.v = args[0]
		return nil, nil
	case "get":
		return h.v, nil
	}
	return nil, fmt.Errorf("unknown %s", name)
}

func (h *holder) GetValue() (any, error) { return "holder-value", nil }

func testRegistry(t testing.TB) *managers.Registry {
	reg := managers.NewRegistry()
	reg.MustRegister("Counter", managers.Type{
		New: func(ctx context.Context, args pickle.Tuple, kw *pickle.Dict) (managers.Object, error) {
			c := &counter{}
			if len(args) > 0 {
				c.n = args[0].(int64)
			}
			return c, nil
		},
		Exposed:        []string{"fail", "incr", "lock", "boom", "goerr"},
		MethodToTypeID: map[string]string{"child": "Child"},
	})
	reg.MustRegister("Child", managers.Type{})
	reg.MustRegister("Holder", managers.Type{
		New:     func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) { return &holder{}, nil },
		Exposed: []string{"set", "get"},
	})
	reg.MustRegister("Queue", managers.Type{New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
		return managers.NewQueue(0), nil
	}})
	return reg
}

type testServer struct {
	srv  *managers.Server
	addr string
	dial pymock.Dialer
	done chan error
}

// startServer serves reg on loopback TCP with testKey.
func startServer(t *testing.T, srv *managers.Server) *testServer {
	t.Helper()
	return startServerConfig(t, srv, &connection.Config{AuthKey: testKey, MaxFrameSize: 1 << 20})
}

// startServerConfig serves reg on loopback TCP with the listener configuration cfg.
func startServerConfig(t *testing.T, srv *managers.Server, cfg *connection.Config) *testServer {
	t.Helper()
	if srv.Registry == nil {
		srv.Registry = testRegistry(t)
	}
	addr, done := serveLoopback(t, srv, cfg)
	return &testServer{srv: srv, addr: addr, dial: pymock.TCP("tcp", addr), done: done}
}

func (ts *testServer) manager(v pymock.Version) *pymock.Manager {
	return &pymock.Manager{Dial: ts.dial, Key: testKey, Version: v}
}

func forVersions(t *testing.T, f func(t *testing.T, v pymock.Version)) {
	for _, v := range pymock.All {
		t.Run(v.String(), func(t *testing.T) { f(t, v) })
	}
}

func mustReply(t *testing.T, r pymock.Reply, err error, kind string) any {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != kind {
		t.Fatalf("reply %s %s, want %s", r.Kind, pickle.Repr(r.Value), kind)
	}
	return r.Value
}

func TestReplyDialect(t *testing.T) {
	ts := startServer(t, &managers.Server{})
	forVersions(t, func(t *testing.T, v pymock.Version) {
		r, err := ts.manager(v).Public(t.Context(), "dummy")
		mustReply(t, r, err, "#RETURN")
		if r.Raw[0] != 0x80 || int(r.Raw[1]) != v.Protocol() {
			t.Fatalf("reply protocol %x, want %d", r.Raw[:2], v.Protocol())
		}
		if v.Python2() && !bytes.Contains(r.Raw, []byte("U\x07#RETURN")) {
			t.Fatalf("2.7 reply must carry '#RETURN' as a py2 str: % x", r.Raw)
		}
	})
}

func TestRefcounts(t *testing.T) {
	ts := startServer(t, &managers.Server{})
	forVersions(t, func(t *testing.T, v pymock.Version) {
		ctx := t.Context()
		m := ts.manager(v)
		ident, exposed, err := m.Create(ctx, "Counter", int64(5))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(exposed, ","); got != "fail,incr,lock,boom,goerr,child" {
			t.Fatalf("exposed %s", got)
		}
		if rc := ts.srv.Refcounts()[ident]; rc != 1 {
			t.Fatalf("refcount after create+incref+decref = %d, want 1", rc)
		}
		r, err := m.Public(ctx, "number_of_objects")
		if n := mustReply(t, r, err, "#RETURN"); n != int64(1) {
			t.Fatalf("number_of_objects = %v", n)
		}
		r, err = m.Public(ctx, "debug_info")
		info := mustReply(t, r, err, "#RETURN")
		if want := "  " + ident + ":       refcount=1\n    Counter(5)"; !pickle.Equal(info, want) {
			t.Fatalf("debug_info = %q, want %q", info, want)
		}
		r, err = m.Public(ctx, "get_methods", managers.Token{TypeID: "Counter", Address: pickle.Tuple{"127.0.0.1", int64(1)}, ID: ident})
		if got := pickle.Repr(mustReply(t, r, err, "#RETURN")); got != "('boom', 'child', 'fail', 'goerr', 'incr', 'lock')" {
			t.Fatalf("get_methods = %s", got)
		}
		r, err = m.Public(ctx, "decref", ident)
		mustReply(t, r, err, "#RETURN")
		if ts.srv.NumberOfObjects() != 0 {
			t.Fatalf("object still tracked after the last decref")
		}
		r, err = m.Public(ctx, "decref", ident)
		tb := mustReply(t, r, err, "#TRACEBACK")
		if s := fmt.Sprint(tb); !strings.HasPrefix(s, "Traceback (most recent call last):\n") || !strings.HasSuffix(s, "KeyError: '"+ident+"'\n") {
			t.Fatalf("decref of a forgotten ident: %q", s)
		}
		r, err = m.Public(ctx, "incref", "nosuch")
		mustReply(t, r, err, "#TRACEBACK")
		r, err = m.Public(ctx, "create", "NoSuchType")
		if s := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.HasSuffix(s, "KeyError: 'NoSuchType'\n") {
			t.Fatalf("create of an unknown typeid: %q", s)
		}
		r, err = m.Public(ctx, "nosuchfunc")
		if s := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.HasSuffix(s, "AssertionError: 'nosuchfunc' unrecognized\n") {
			t.Fatalf("unknown function: %q", s)
		}
		r, err = m.Public(ctx, "incref")
		if s := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.Contains(s, "TypeError: Server.incref() missing 1 required positional argument: 'ident'") {
			t.Fatalf("incref without ident: %q", s)
		}
	})
}

func TestSingletonRefcount(t *testing.T) {
	reg := managers.NewRegistry()
	q := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(q))
	ts := startServer(t, &managers.Server{Registry: reg})
	m := ts.manager(pymock.Py313)
	id1, ex, err := m.Create(t.Context(), "get_queue")
	if err != nil {
		t.Fatal(err)
	}
	id2, _, err := m.Create(t.Context(), "get_queue")
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || ts.srv.Refcounts()[id1] != 2 {
		t.Fatalf("singleton: idents %s %s, refcounts %v", id1, id2, ts.srv.Refcounts())
	}
	if strings.Join(ex, ",") != "empty,full,get,get_nowait,join,put,put_nowait,qsize,shutdown,task_done" {
		t.Fatalf("queue exposed %v", ex)
	}
	r, err := m.Call(t.Context(), id1, "put", pickle.Tuple{"hello"}, nil)
	mustReply(t, r, err, "#RETURN")
	if v, err := q.GetNowait(); err != nil || v != "hello" {
		t.Fatalf("Go side got %v, %v", v, err)
	}
	m.Close()
}

func TestMethodLoop(t *testing.T) {
	ts := startServer(t, &managers.Server{})
	forVersions(t, func(t *testing.T, v pymock.Version) {
		ctx := t.Context()
		m := ts.manager(v)
		defer m.Close()
		ident, _, err := m.Create(ctx, "Counter", int64(5))
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Call(ctx, ident, "incr", pickle.Tuple{int64(2)}, nil)
		if got := mustReply(t, r, err, "#RETURN"); got != int64(7) {
			t.Fatalf("incr = %v", got)
		}
		r, err = m.Call(ctx, ident, "fail", nil, nil)
		exc := mustReply(t, r, err, "#ERROR").(*pickle.Object)
		if exc.Class != (pickle.Global{Module: "builtins", Name: "KeyError"}) || pickle.Repr(exc.Args) != "('missing',)" {
			t.Fatalf("#ERROR payload %s", pickle.Repr(exc))
		}
		if v.Python2() && !bytes.Contains(r.Raw, []byte("exceptions\nKeyError\n")) {
			t.Fatalf("2.7 #ERROR must name exceptions.KeyError: %q", r.Raw)
		}
		r, err = m.Call(ctx, ident, "child", nil, nil)
		px := mustReply(t, r, err, "#PROXY").(pickle.Tuple)
		tok, err := managers.TokenFromValue(px[1])
		if err != nil || tok.TypeID != "Child" || !pickle.Equal(tok.Address, pickle.Tuple{"127.0.0.1", int64(portOf(ts.addr))}) {
			t.Fatalf("#PROXY token %v %v", tok, err)
		}
		if rc := ts.srv.Refcounts()[tok.ID]; rc != 1 {
			t.Fatalf("#PROXY object refcount %d, want 1", rc)
		}
		m.Public(ctx, "decref", tok.ID)
		r, err = m.Call(ctx, ident, "__str__", nil, nil)
		if got := mustReply(t, r, err, "#RETURN"); !pickle.Equal(got, "Counter(7)") {
			t.Fatalf("__str__ = %v", got)
		}
		r, err = m.Call(ctx, ident, "#GETVALUE", nil, nil)
		mustReply(t, r, err, "#UNSERIALIZABLE")
		r, err = m.Call(ctx, ident, "lock", nil, nil)
		if s := fmt.Sprint(mustReply(t, r, err, "#UNSERIALIZABLE")); !strings.HasPrefix(s, "Traceback") {
			t.Fatalf("#UNSERIALIZABLE text %q", s)
		}
		r, err = m.Call(ctx, ident, "nosuch", nil, nil)
		tb := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK"))
		if !strings.HasSuffix(tb, "KeyError: 'nosuch'\n") || strings.Contains(tb, "AttributeError") == v.Python2() {
			t.Fatalf("not exposed: %q", tb)
		}
		if !v.Python2() && !strings.Contains(tb, "is not in exposed={'boom', 'child', 'fail', 'goerr', 'incr', 'lock'}") {
			t.Fatalf("not exposed: %q", tb)
		}
		r, err = m.Call(ctx, ident, "boom", nil, nil)
		if tb := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.Contains(tb, "panic: boom") {
			t.Fatalf("panic traceback %q", tb)
		}
		r, err = m.Call(ctx, ident, "goerr", nil, nil)
		if tb := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.Contains(tb, "plain go error") {
			t.Fatalf("go error traceback %q", tb)
		}
		r, err = m.Call(ctx, "ffff", "incr", nil, nil)
		if tb := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK")); !strings.HasSuffix(tb, "KeyError: 'ffff'\n") {
			t.Fatalf("unknown ident: %q", tb)
		}
		r, err = m.Call(ctx, "0", "incr", nil, nil)
		mustReply(t, r, err, "#TRACEBACK")
		r, err = m.Call(ctx, ident, "incr", nil, nil) // the connection still works
		mustReply(t, r, err, "#RETURN")
		m.Public(ctx, "decref", ident)
	})
}

func portOf(addr string) int {
	var p int
	fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &p)
	return p
}

// TestProxyArgument: a proxy to one of our objects passed as an argument becomes a live
// reference, returned to 3.x as a proxy with our address and to 2.7 as the referent's value;
// it keeps the referent alive, and incref re-enables tracking.
func TestProxyArgument(t *testing.T) {
	ts := startServer(t, &managers.Server{})
	forVersions(t, func(t *testing.T, v pymock.Version) {
		ctx := t.Context()
		m := ts.manager(v)
		defer m.Close()
		h, _, _ := m.Create(ctx, "Holder")
		c, _, _ := m.Create(ctx, "Holder")
		kw := pickle.NewDict()
		kw.Set("exposed", pickle.Tuple{"set", "get"})
		proxy := managers.RebuildProxy{Func: managers.AutoProxyFunc, Token: managers.Token{TypeID: "Holder", Address: pickle.Tuple{"localhost", int64(1)}, ID: c}, Kwargs: kw}
		r, err := m.Call(ctx, h, "set", pickle.Tuple{proxy}, nil)
		mustReply(t, r, err, "#RETURN")
		// Drop the client's reference: the object stays reachable through the stored Ref.
		r, err = m.Public(ctx, "decref", c)
		mustReply(t, r, err, "#RETURN")
		if _, ok := ts.srv.Refcounts()[c]; ok {
			t.Fatalf("object still tracked after decref to 0")
		}
		r, err = m.Public(ctx, "decref", c) // decref of an internally held ident is ignored
		mustReply(t, r, err, "#RETURN")
		r, err = m.Call(ctx, h, "get", nil, nil)
		got := mustReply(t, r, err, "#RETURN")
		if v.Python2() {
			if !pickle.Equal(got, "holder-value") {
				t.Fatalf("2.7 gets the referent's value, got %s", pickle.Repr(got))
			}
		} else {
			rp, ok := managers.RebuildProxyFromValue(got)
			if !ok || rp.Token.ID != c || !pickle.Equal(rp.Token.Address, pickle.Tuple{"127.0.0.1", int64(portOf(ts.addr))}) || rp.Func != managers.AutoProxyFunc {
				t.Fatalf("3.x gets the proxy back with our address, got %s", pickle.Repr(got))
			}
		}
		// A client rebuilding the proxy increfs: tracking is re-enabled.
		r, err = m.Public(ctx, "incref", c)
		mustReply(t, r, err, "#RETURN")
		if rc := ts.srv.Refcounts()[c]; rc != 1 {
			t.Fatalf("incref of an internally held ident: refcount %d, want 1", rc)
		}
		r, err = m.Call(ctx, c, "get", nil, nil)
		mustReply(t, r, err, "#RETURN")
		m.Public(ctx, "decref", c)
		m.Public(ctx, "decref", h)
	})
}

func TestShutdownFromClient(t *testing.T) {
	forVersions(t, func(t *testing.T, v pymock.Version) {
		srv := &managers.Server{}
		ts := startServer(t, srv)
		p, err := pymock.Connect(t.Context(), ts.dial, testKey, v)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		r, err := p.Request("", "shutdown", nil, nil)
		mustReply(t, r, err, "#RETURN")
		_, err = p.ReadReply()
		if v.Python2() != (err != nil) {
			t.Fatalf("second reply: %v (3.x sends two replies, 2.7 one)", err)
		}
		select {
		case err := <-ts.done:
			ts.done <- err
			if !errors.Is(err, managers.ErrServerClosed) {
				t.Fatalf("Serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after shutdown")
		}
	})
}

// gate is an object whose "wait" method blocks until released or until its ctx ends.
type gate struct {
	entered  chan struct{}
	release  chan struct{}
	finished chan error
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 1), release: make(chan struct{}), finished: make(chan error, 1)}
}

func (g *gate) CallMethod(ctx context.Context, name string, args pickle.Tuple, kw *pickle.Dict) (any, error) {
	if name != "wait" {
		return "ok", nil
	}
	g.entered <- struct{}{}
	select {
	case <-g.release:
		g.finished <- nil
		return "released", nil
	case <-ctx.Done():
		g.finished <- ctx.Err()
		return nil, ctx.Err()
	}
}

func gateServer(t *testing.T) (*testServer, *gate, string) {
	reg := managers.NewRegistry()
	g := newGate()
	reg.MustRegister("gate", managers.Type{New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) { return g, nil }, Exposed: []string{"wait", "ping"}})
	ts := startServer(t, &managers.Server{Registry: reg})
	id, _, err := ts.manager(pymock.Py313).Create(t.Context(), "gate")
	if err != nil {
		t.Fatal(err)
	}
	return ts, g, id
}

// startWait sends "wait" on a new method-call connection and returns once the call runs.
func startWait(t *testing.T, ts *testServer, g *gate, id string) *pymock.Peer {
	p, err := pymock.Connect(t.Context(), ts.dial, testKey, pymock.Py313)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r, err := p.Request("", "accept_connection", pickle.Tuple{"x"}, nil)
	mustReply(t, r, err, "#RETURN")
	if err := p.Send(pickle.Tuple{id, "wait", pickle.Tuple{}, pickle.NewDict()}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not start")
	}
	return p
}

func waitFinished(t *testing.T, g *gate) error {
	select {
	case err := <-g.finished:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not finish")
	}
	return nil
}

// TestBlockingCallCancelledOnDisconnect: a blocked call only blocks its own connection, and its
// ctx is cancelled when the client goes away.
func TestBlockingCallCancelledOnDisconnect(t *testing.T) {
	ts, g, id := gateServer(t)
	p := startWait(t, ts, g, id)
	m2 := ts.manager(pymock.Py313) // another connection is not blocked meanwhile
	defer m2.Close()
	r, err := m2.Call(t.Context(), id, "ping", nil, nil)
	mustReply(t, r, err, "#RETURN")
	p.Close()
	if err := waitFinished(t, g); !errors.Is(err, context.Canceled) {
		t.Fatalf("the call ended with %v, want context.Canceled", err)
	}
}

func TestGracefulShutdownTimeout(t *testing.T) {
	ts, g, id := gateServer(t)
	ctx := t.Context()
	idle := ts.manager(pymock.Py38)
	r, err := idle.Call(ctx, id, "ping", nil, nil) // an idle method-call connection
	mustReply(t, r, err, "#RETURN")
	startWait(t, ts, g, id)
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := waitFinished(t, g); !errors.Is(err, context.Canceled) {
		t.Fatalf("the call in flight ended with %v, want context.Canceled", err)
	}
	if err := <-ts.done; !errors.Is(err, managers.ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	ts.done <- managers.ErrServerClosed
	if _, err := idle.Call(ctx, id, "ping", nil, nil); err == nil {
		t.Fatal("idle connection still served after Shutdown")
	}
}

func TestGracefulShutdownWaitsForCall(t *testing.T) {
	ts, g, id := gateServer(t)
	ctx := t.Context()
	p := startWait(t, ts, g, id)
	shut := make(chan error, 1)
	go func() { shut <- ts.srv.Shutdown(ctx) }()
	// Serve returns once Shutdown has closed the listener; new connections are refused then.
	if err := <-ts.done; !errors.Is(err, managers.ErrServerClosed) {
		t.Fatalf("Serve = %v, want ErrServerClosed", err)
	}
	ts.done <- managers.ErrServerClosed // for startServer's cleanup
	if q, err := pymock.Connect(ctx, ts.dial, testKey, pymock.Py313); err == nil {
		q.Close()
		t.Fatal("a new connection was accepted during Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	default:
	}
	close(g.release)
	r, err := p.ReadReply()
	if got := mustReply(t, r, err, "#RETURN"); got != "released" {
		t.Fatalf("got %v", got)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}

func TestMaxConnections(t *testing.T) {
	srv := &managers.Server{MaxConnections: 1}
	ts := startServer(t, srv)
	ctx := t.Context()
	// Hold the only slot with a method-call connection (the first connection of this server).
	holder, err := pymock.Connect(ctx, ts.dial, testKey, pymock.Py313)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	r, err := holder.Request("", "accept_connection", pickle.Tuple{"x"}, nil)
	mustReply(t, r, err, "#RETURN")
	for _, py := range []pymock.Version{pymock.Py313, pymock.Py27} {
		p, err := pymock.Connect(ctx, ts.dial, testKey, py)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Request("", "dummy", nil, nil)
		p.Close()
		msg := fmt.Sprint(mustReply(t, r, err, "#TRACEBACK"))
		if !strings.Contains(msg, "RuntimeError: mpgo: too many connections: 1 already served (MaxConnections)") {
			t.Fatalf("refusal = %q", msg)
		}
	}
}

// TestBadInput: garbage from one peer gets a #TRACEBACK or a disconnect; the server serves
// others, and no goroutine is left after Shutdown.
func TestBadInput(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := &managers.Server{}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: testKey, MaxFrameSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	dial := pymock.TCP("tcp", l.Addr().String())
	ctx := t.Context()
	cases := []struct {
		name  string
		frame []byte
		raw   []byte
	}{
		{name: "garbage", frame: []byte("\x00\x01garbage")},
		{name: "empty", frame: []byte{}},
		{name: "truncated pickle", frame: []byte("\x80\x04\x95\x10\x00\x00")},
		{name: "not a tuple", frame: mustPickle(t, int64(5))},
		{name: "short tuple", frame: mustPickle(t, pickle.Tuple{"ffff"})},
		{name: "long tuple", frame: mustPickle(t, pickle.Tuple{nil, "dummy", pickle.Tuple{}, pickle.NewDict(), 1})},
		{name: "name not str", frame: mustPickle(t, pickle.Tuple{nil, int64(3), pickle.Tuple{}, pickle.NewDict()})},
		{name: "args not tuple", frame: mustPickle(t, pickle.Tuple{nil, "incref", int64(1), pickle.NewDict()})},
		{name: "kwargs not dict", frame: mustPickle(t, pickle.Tuple{nil, "incref", pickle.Tuple{"x"}, int64(1)})},
		{name: "unknown function", frame: mustPickle(t, pickle.Tuple{nil, "__init__", pickle.Tuple{}, pickle.NewDict()})},
		{name: "create without typeid", frame: mustPickle(t, pickle.Tuple{nil, "create", pickle.Tuple{}, pickle.NewDict()})},
		{name: "get_methods non-token", frame: mustPickle(t, pickle.Tuple{nil, "get_methods", pickle.Tuple{int64(1)}, pickle.NewDict()})},
		{name: "huge length", raw: []byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3}},
		{name: "extended length", raw: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0}},
	}
	for _, tc := range cases {
		for _, method := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/method=%v", tc.name, method), func(t *testing.T) {
				p, err := pymock.Connect(ctx, dial, testKey, pymock.Py313)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if method {
					r, err := p.Request("", "accept_connection", pickle.Tuple{"x"}, nil)
					mustReply(t, r, err, "#RETURN")
				}
				if tc.raw != nil {
					p.WriteRaw(tc.raw)
				} else {
					p.WriteFrame(tc.frame)
				}
				r, err := p.ReadReply()
				if err == nil && r.Kind != "#TRACEBACK" {
					t.Fatalf("reply %s %s, want #TRACEBACK or a disconnect", r.Kind, pickle.Repr(r.Value))
				}
				// Another client is served.
				q, err := pymock.Connect(ctx, dial, testKey, pymock.Py27)
				if err != nil {
					t.Fatal(err)
				}
				defer q.Close()
				r, err = q.Request("", "dummy", nil, nil)
				mustReply(t, r, err, "#RETURN")
			})
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	<-done
	checkNoGoroutineLeak(t, before)
}

func mustPickle(t testing.TB, v any) []byte {
	b, err := pickle.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkNoGoroutineLeak checks that the goroutine count falls back to before. Goroutines that
// have signalled their owner may still be on their way out, so it yields to them (no sleep)
// until the count is reached or a generous deadline passes.
func checkNoGoroutineLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left (before: %d):\n%s", n, before, buf)
		}
		runtime.Gosched()
	}
}
