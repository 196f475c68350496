package relay_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/connection/mux/relay"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/internal/wanproxy"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

var testKey = []byte("relay test key")

var pki = func() *testpki.Set {
	s, err := testpki.NewSet()
	if err != nil {
		panic(err)
	}
	return s
}()

type server struct {
	ml      *mux.Listener
	entered chan struct{}
}

// startServer serves the SyncManager typeids and "Block" (a method that blocks until its
// connection ends) over mux sessions only.
func startServer(t testing.TB) *server { return startServerAt(t, "127.0.0.1:0") }

func startServerAt(t testing.TB, addr string) *server {
	t.Helper()
	ml, err := mux.Listen("tcp", addr, &mux.Config{TLS: pki.ServerTLS()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := connection.NewListener(ml, &connection.Config{AuthKey: testKey, TrustPreAuthenticated: true})
	if err != nil {
		t.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 16)
	reg.MustRegister("Block", managers.Type{
		New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
			return managers.ObjectFunc(func(ctx context.Context, name string, _ pickle.Tuple, _ *pickle.Dict) (any, error) {
				entered <- struct{}{}
				<-ctx.Done()
				return nil, ctx.Err()
			}), nil
		},
		Exposed: []string{"wait"},
	})
	srv := &managers.Server{AuthKey: testKey, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ml.CloseSessions()
		<-done
	})
	return &server{ml: ml, entered: entered}
}

// startRelay relays 127.0.0.1:0 to server (with key: pre-authenticated streams).
func startRelay(t testing.TB, server string, key []byte, tlsRogue bool, onErr func(error)) (*relay.Relay, string) {
	t.Helper()
	tc := pki.ClientTLS()
	if tlsRogue {
		tc = pki.RogueTLS()
	}
	cfg := &relay.Config{Server: server, Mux: mux.Config{TLS: tc}, AuthKey: key, MinBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond, OnSessionError: onErr}
	if tlsRogue {
		cfg.HandshakeTimeout = 100 * time.Millisecond // the wait for a session that never comes
	}
	r, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(l) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; !errors.Is(err, relay.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return r, l.Addr().String()
}

func TestRelay(t *testing.T) {
	for _, mode := range []struct {
		name string
		key  []byte
	}{{"preauthenticated", testKey}, {"pipe", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t)
			_, addr := startRelay(t, s.ml.Addr().String(), mode.key, false, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: testKey})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			p := nestedProxy(t, ctx, c, "dict")
			// The '#PROXY' reply names the relay as the client reached it.
			_, port, _ := net.SplitHostPort(addr)
			if got := pickle.Repr(p.Token().Address); got != "('127.0.0.1', "+port+")" {
				t.Errorf("#PROXY address = %s, want the relay's %s", got, addr)
			}
			// A wrong key is refused (by the relay, or through the pipe by the server).
			if c2, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: []byte("wrong")}); err == nil {
				c2.Close()
				t.Fatal("wrong key accepted")
			}
		})
	}
}

// nestedProxy returns what a list's __getitem__ answers for a proxy (of a new innerType) the
// list holds: a '#PROXY' reply, whose token names the address the client reached the server at.
// Everything it creates is released when the test ends.
func nestedProxy(t *testing.T, ctx context.Context, c *managers.Client, innerType string) *managers.Proxy {
	t.Helper()
	lp, err := c.Create(ctx, "list", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lp.Close() })
	inner, err := c.Create(ctx, innerType, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	if _, err := lp.Call(ctx, "append", pickle.Tuple{inner}, nil); err != nil {
		t.Fatal(err)
	}
	v, err := lp.Call(ctx, "__getitem__", pickle.Tuple{int64(0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := v.(*managers.Proxy)
	if !ok {
		t.Fatalf("__getitem__ = %#v, want a proxy", v)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestRelaySessionLoss: when the link dies mid-call, the relay closes the client's connection
// at once (the call fails), the server cancels the call, and the relay redials: new clients
// are served again.
func TestRelaySessionLoss(t *testing.T) {
	s := startServer(t)
	link, err := wanproxy.New(s.ml.Addr().String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	r, addr := startRelay(t, link.Addr(), testKey, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bp, err := c.Create(ctx, "Block", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := bp.Call(ctx, "wait", nil, nil); errc <- err }()
	select {
	case <-s.entered:
	case <-ctx.Done():
		t.Fatal("the call never reached the server")
	}
	link.Kill()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the call succeeded over a dead session")
		}
	case <-ctx.Done():
		t.Fatal("the call still blocked after the session died")
	}
	// The relay redials; a new client is served on the new session.
	for {
		s2, err := r.WaitSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s2 != first {
			break
		}
		select {
		case <-first.Done():
		case <-ctx.Done():
			t.Fatal("the first session never ended")
		}
	}
	c2, err := managers.Dial(ctx, "tcp", addr, &managers.ClientConfig{AuthKey: testKey})
	if err != nil {
		t.Fatalf("after the redial: %v", err)
	}
	c2.Close()
}

// TestRelayUntrusted: a relay whose certificate the server does not trust gets no session and
// says why; its clients are turned away.
func TestRelayUntrusted(t *testing.T) {
	s := startServer(t)
	errs := make(chan error, 100)
	r, addr := startRelay(t, s.ml.Addr().String(), testKey, true, func(err error) {
		select {
		case errs <- err:
		default:
		}
	})
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("session error %q does not name the certificate", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no session error reported")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := r.WaitSession(ctx)
	if !errors.Is(err, relay.ErrNoSession) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("WaitSession = %v, want ErrNoSession naming the certificate", err)
	}
	t.Logf("WaitSession: %v", err)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	if c, err := managers.Dial(ctx2, "tcp", addr, &managers.ClientConfig{AuthKey: testKey, HandshakeTimeout: 10 * time.Second}); err == nil {
		c.Close()
		t.Fatal("a client was served through an untrusted relay")
	}
	if n := s.ml.NumSessions(); n != 0 {
		t.Fatalf("%d sessions on the server", n)
	}
}

// TestRelayUnixSocket: clients reach the relay on a Unix socket; '#PROXY' replies name its path.
func TestRelayUnixSocket(t *testing.T) {
	s := startServer(t)
	r, err := relay.New(&relay.Config{Server: s.ml.Addr().String(), Mux: mux.Config{TLS: pki.ClientTLS()}, AuthKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "relay.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(l) }()
	defer func() { r.Close(); <-done }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "unix", path, &managers.ClientConfig{AuthKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := nestedProxy(t, ctx, c, "list")
	if got, ok := p.Token().Address.(string); !ok || got != path {
		t.Errorf("#PROXY address = %s, want the relay's path %q", pickle.Repr(p.Token().Address), path)
	}
}

// TestRelayServerGoingAway: when the server's mux listener closes (a go-away on the session), the
// relay dials a new session for new clients, here to a new server on the same address, while
// the clients of the old session keep it.
func TestRelayServerGoingAway(t *testing.T) {
	a := startServer(t)
	addr := a.ml.Addr().String()
	r, raddr := startRelay(t, addr, testKey, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c1, err := managers.Dial(ctx, "tcp", raddr, &managers.ClientConfig{AuthKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	d1, err := c1.Create(ctx, "dict", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d1.Close()
	if _, err := d1.Call(ctx, "__len__", nil, nil); err != nil { // a method-call connection, kept
		t.Fatal(err)
	}
	old, err := r.WaitSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.ml.Close() // go-away; d1's method-call connection keeps the session
	startServerAt(t, addr)
	// Until the relay has the go-away, a new stream may still be sent on the old session and be
	// refused by the server; each attempt is a real dial, bounded by ctx.
	var c2 *managers.Client
	for c2 == nil {
		c2, err = managers.Dial(ctx, "tcp", raddr, &managers.ClientConfig{AuthKey: testKey})
		if ctx.Err() != nil {
			t.Fatalf("no client served after the go-away: %v", err)
		}
	}
	defer c2.Close()
	if s, err := r.WaitSession(ctx); err != nil || s == old {
		t.Fatalf("WaitSession = %v, %v; want a new session", s, err)
	}
	select {
	case <-old.Done():
		t.Fatal("the old session closed while a client still used it")
	default:
	}
	if _, err := d1.Call(ctx, "__len__", nil, nil); err != nil {
		t.Fatalf("the old session's client: %v", err)
	}
}
