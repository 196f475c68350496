package compat_tests

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// serveGo serves reg with a managers.Server hosted by the test process, on network/address
// (e.g. "tcp", "127.0.0.1:0"), authenticating with key. maxFrame is the listener's
// request size limit (0: none). When the test ends the server is shut down; a failed Shutdown
// or a Serve that does not return ErrServerClosed fails the test. It returns the server and
// its address as connection.Listener.Addr reports it.
func serveGo(t testing.TB, network, address string, key []byte, reg *managers.Registry, maxFrame int) (*managers.Server, string) {
	t.Helper()
	l, err := connection.Listen(network, address, &connection.Config{AuthKey: key, MaxFrameSize: maxFrame})
	if err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, managers.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, l.Addr().String()
}
