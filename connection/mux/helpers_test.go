package mux_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

var testKey = []byte("mux test key")

// pki is made once per test binary (key generation is the slow part).
var pki = func() *testpki.Set {
	s, err := testpki.NewSet()
	if err != nil {
		panic(err)
	}
	return s
}()

// server is a managers.Server whose only listener is a mux Listener.
type server struct {
	srv *managers.Server
	ml  *mux.Listener
	q   *managers.Queue
	// entered receives a value whenever a "Block" object's method starts; the method then
	// waits for its context to end (the connection closed).
	entered chan struct{}
}

// startServer serves every SyncManager typeid and get_queue over mux sessions.
func startServer(t testing.TB, trust bool) *server {
	t.Helper()
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := connection.NewListener(ml, &connection.Config{AuthKey: testKey, TrustPreAuthenticated: trust})
	if err != nil {
		t.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	q := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(q))
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
		srv.Shutdown(ctx)
		ml.CloseSessions()
		if err := <-done; !errors.Is(err, managers.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &server{srv: srv, ml: ml, q: q, entered: entered}
}

func dialSession(t testing.TB, addr string) *mux.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := mux.Dial(ctx, "tcp", addr, &mux.Config{TLS: pki.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
