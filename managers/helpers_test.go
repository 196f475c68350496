package managers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// serveLoopback serves srv on 127.0.0.1:0 with the listener configuration cfg until the test
// ends; the cleanup shuts srv down and waits for Serve to return. done receives Serve's
// result: a test that reads it must send a value back for the cleanup.
func serveLoopback(t testing.TB, srv *managers.Server, cfg *connection.Config) (addr string, done chan error) {
	t.Helper()
	l, err := connection.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return l.Addr().String(), done
}
