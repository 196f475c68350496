package connection_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
)

func keepAliveIdle(t *testing.T, c *connection.Conn) int {
	t.Helper()
	return sockoptInt(t, c, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
}

// TestKeepAliveConfig: Config.KeepAlive sets the probes' idle time, and a
// negative value leaves keep-alive off.
func TestKeepAliveConfig(t *testing.T) {
	for _, tc := range []struct {
		ka   time.Duration
		on   bool
		idle int
	}{{0, true, 15}, {7 * time.Second, true, 7}, {-1, false, 0}} {
		l := listen(t, "tcp", &connection.Config{AuthKey: key, KeepAlive: tc.ka})
		c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), &connection.Config{AuthKey: key})
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.AcceptConn()
		if err != nil {
			t.Fatal(err)
		}
		if on := keepAliveOn(t, s); on != tc.on {
			t.Errorf("KeepAlive %v: keep-alive on = %v", tc.ka, on)
		} else if on {
			if idle := keepAliveIdle(t, s); idle != tc.idle {
				t.Errorf("KeepAlive %v: idle %d s, want %d", tc.ka, idle, tc.idle)
			}
		}
		s.Close()
		c.Close()
	}
}
