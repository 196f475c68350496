package connection_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
)

// transports are the socket types every Conn test body runs over (compare
// yamux's testConnTypes).
var transports = []string{"pipe", "tcp", "unix"}

// pair returns two connected, authenticated Conns over the transport: the
// server side (as from Accept) and the client side (as from Dial).
func pair(t testing.TB, transport string, scfg, ccfg *connection.Config) (server, client *connection.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch transport {
	case "pipe":
		a, b := net.Pipe()
		errc := make(chan error, 1)
		go func() {
			var err error
			server, err = connection.NewConn(ctx, a, true, scfg)
			errc <- err
		}()
		var err error
		client, err = connection.NewConn(ctx, b, false, ccfg)
		if serr := <-errc; serr != nil {
			t.Fatalf("server handshake: %v", serr)
		}
		if err != nil {
			t.Fatalf("client handshake: %v", err)
		}
	case "tcp", "unix":
		l := listen(t, transport, scfg)
		errc := make(chan error, 1)
		go func() {
			var err error
			client, err = connection.Dial(ctx, l.Addr().Network(), l.Addr().String(), ccfg)
			errc <- err
		}()
		var err error
		server, err = l.AcceptConn()
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("dial: %v", err)
		}
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// listen starts a Listener on an ephemeral TCP port or a temporary Unix path.
func listen(t testing.TB, transport string, cfg *connection.Config) *connection.Listener {
	t.Helper()
	var l *connection.Listener
	var err error
	switch transport {
	case "tcp":
		l, err = connection.Listen("tcp", "127.0.0.1:0", cfg)
	case "unix":
		l, err = connection.Listen("unix", sockPath(t), cfg)
	default:
		t.Fatalf("no listener for %q", transport)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// sockPath returns a short Unix socket path (sun_path is ~108 bytes, so
// t.TempDir is often too long).
func sockPath(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mpgo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

func forTransports(t *testing.T, f func(t *testing.T, transport string)) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

var key = []byte("secret")
