package mux

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/managers"
)

// TestSilentStreamBlocksNothing: a stream whose opener never sends its preamble holds no accept
// loop (neither the session's nor connection.Listener's): the next stream is served, and the
// silent one is closed after the handshake timeout as a failed handshake.
func TestSilentStreamBlocksNothing(t *testing.T) {
	pki, err := testpki.NewSet()
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("k")
	ml, err := Listen("tcp", "127.0.0.1:0", &Config{TLS: pki.ServerTLS()})
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	l, err := connection.NewListener(ml, &connection.Config{AuthKey: key, TrustPreAuthenticated: true,
		HandshakeTimeout: 500 * time.Millisecond, OnHandshakeError: func(_ net.Addr, err error) { failed <- err }})
	if err != nil {
		t.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	go srv.Serve(l)
	defer func() { srv.Close(); ml.CloseSessions() }()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := Dial(ctx, "tcp", ml.Addr().String(), &Config{TLS: pki.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	silent, err := sess.ys.OpenStream() // no preamble, ever
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, err := managers.Dial(ctx, "tcp", "127.0.0.1:1", &managers.ClientConfig{Dialer: sess.DialContext})
	if err != nil {
		t.Fatalf("a stream behind a silent one: %v", err)
	}
	c.Close()
	select {
	case err := <-failed:
		if !errors.Is(err, connection.ErrAuthFailed) {
			t.Fatalf("silent stream: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the silent stream was never refused")
	}
}
