//go:build unix

package connection_test

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/mpgo/mpgo/connection"
)

// sockoptInt reads an integer socket option of c's TCP socket.
func sockoptInt(t *testing.T, c *connection.Conn, level, opt int) int {
	t.Helper()
	rc, err := c.NetConn().(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

func keepAliveOn(t *testing.T, c *connection.Conn) bool {
	t.Helper()
	return sockoptInt(t, c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) != 0
}

// TestKeepAlive: connections from Accept have TCP keep-alive on; a Serve handler's connection
// gets it before its second frame is read (one-shot connections never pay for it).
func TestKeepAlive(t *testing.T) {
	dial := func(l *connection.Listener) *connection.Conn {
		c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), &connection.Config{AuthKey: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("accept", func(t *testing.T) {
		l := listen(t, "tcp", &connection.Config{AuthKey: key})
		dial(l)
		c, err := l.AcceptConn()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !keepAliveOn(t, c) {
			t.Fatal("keep-alive off on an accepted connection")
		}
	})
	t.Run("serve", func(t *testing.T) {
		l := listen(t, "tcp", &connection.Config{AuthKey: key})
		states := make(chan bool, 3)
		go l.Serve(func(c *connection.Conn) {
			defer c.Close()
			states <- keepAliveOn(t, c)
			for range 2 {
				if _, err := c.RecvBytes(0); err != nil {
					return
				}
				states <- keepAliveOn(t, c)
			}
		})
		c := dial(l)
		for range 2 {
			if err := c.SendBytes([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		want := []bool{false, false, true} // before any frame, after the first, after the second
		for i, w := range want {
			if got := <-states; got != w {
				t.Fatalf("state %d: keep-alive %v, want %v", i, got, w)
			}
		}
	})
}
