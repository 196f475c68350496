package connection_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/mpgo/mpgo/connection"
)

// TestListenerServe runs a handler per authenticated connection (echoing one
// frame), checks that Serve refuses a second call and returns ErrClosed after
// Close, and that a handler keeps its connection after Close.
func TestListenerServe(t *testing.T) {
	forListeners(t, func(t *testing.T, tr string) {
		l := listen(t, tr, &connection.Config{AuthKey: key})
		held := make(chan *connection.Conn, 1)
		handler := func(c *connection.Conn) {
			p, err := c.RecvBytes(0)
			if err != nil {
				c.Close()
				return
			}
			if string(p) == "hold" {
				held <- c // the test closes it
				return
			}
			c.SendBytes(p)
			c.Close()
		}
		served := make(chan error, 1)
		go func() { served <- l.Serve(handler) }()

		dial := func() *connection.Conn {
			t.Helper()
			c, err := connection.Dial(context.Background(), l.Addr().Network(), l.Addr().String(), &connection.Config{AuthKey: key})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
		for i := range 5 {
			c := dial()
			msg := []byte{'m', byte('0' + i)}
			if err := c.SendBytes(msg); err != nil {
				t.Fatal(err)
			}
			got, err := c.RecvBytes(0)
			if err != nil || string(got) != string(msg) {
				t.Fatalf("echo %d: %q, %v", i, got, err)
			}
		}
		h := dial()
		if err := h.SendBytes([]byte("hold")); err != nil {
			t.Fatal(err)
		}
		sc := <-held

		if err := l.Serve(handler); err == nil {
			t.Fatal("second Serve succeeded")
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-served; !errors.Is(err, connection.ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Serve after Close: %v", err)
		}
		// The handler's connection outlives the listener.
		if err := sc.SendBytes([]byte("still here")); err != nil {
			t.Fatal(err)
		}
		if got, err := h.RecvBytes(0); err != nil || string(got) != "still here" {
			t.Fatalf("held connection after Close: %q, %v", got, err)
		}
		sc.Close()
	})
}

func TestListenerServeNilHandler(t *testing.T) {
	l := listen(t, "tcp", nil)
	if err := l.Serve(nil); err == nil {
		t.Fatal("Serve(nil) succeeded")
	}
}
