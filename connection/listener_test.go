package connection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

func TestSilentClientDoesNotBlockAccept(t *testing.T) {
	forListeners(t, func(t *testing.T, tr string) {
		l := listen(t, tr, &connection.Config{AuthKey: key})
		// A client that connects and never says anything.
		silent, err := net.Dial(l.Addr().Network(), l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			c, err := connection.Dial(ctx, l.Addr().Network(), l.Addr().String(), &connection.Config{AuthKey: key})
			if err == nil {
				c.Close()
			}
			errc <- err
		}()
		c, err := l.AcceptContext(ctx)
		if err != nil {
			t.Fatalf("accept behind a silent client: %v", err)
		}
		c.Close()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

func TestHandshakeTimeout(t *testing.T) {
	errs := make(chan error, 1)
	l := listen(t, "tcp", &connection.Config{
		AuthKey:          key,
		HandshakeTimeout: 50 * time.Millisecond,
		OnHandshakeError: func(_ net.Addr, err error) { errs <- err },
	})
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	err = <-errs
	if !errors.Is(err, connection.ErrAuthFailed) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want ErrAuthFailed and a deadline", err)
	}
	// The server dropped the connection after its challenge.
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(silent); err != nil {
		t.Fatalf("silent client not disconnected: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	forListeners(t, func(t *testing.T, tr string) {
		errs := make(chan error, 1)
		l := listen(t, tr, &connection.Config{AuthKey: key, OnHandshakeError: func(_ net.Addr, err error) { errs <- err }})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := connection.Dial(ctx, l.Addr().Network(), l.Addr().String(), &connection.Config{AuthKey: []byte("wrong")})
		if !errors.Is(err, connection.ErrAuthFailed) {
			t.Fatalf("dial err = %v, want ErrAuthFailed", err)
		}
		if err := <-errs; !errors.Is(err, connection.ErrAuthFailed) {
			t.Fatalf("server err = %v, want ErrAuthFailed", err)
		}
	})
}

func TestDialContextDuringHandshake(t *testing.T) {
	// A server that accepts and never speaks.
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	go func() {
		c, err := nl.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = connection.Dial(ctx, "tcp", nl.Addr().String(), &connection.Config{AuthKey: key})
	if !errors.Is(err, connection.ErrAuthFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestListenerClose(t *testing.T) {
	forListeners(t, func(t *testing.T, tr string) {
		l := listen(t, tr, &connection.Config{AuthKey: key})
		silent, err := net.Dial(l.Addr().Network(), l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		silent.Read(make([]byte, 1)) // the handshake is in progress
		errc := make(chan error, 1)
		go func() { _, err := l.Accept(); errc <- err }()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, connection.ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
		// The pending handshake was cut off.
		silent.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(silent); err != nil {
			t.Fatalf("pending client not disconnected: %v", err)
		}
		if tr == "unix" {
			if _, err := os.Stat(l.Addr().String()); !os.IsNotExist(err) {
				t.Fatalf("socket file left behind: %v", err)
			}
		}
	})
}

func TestLastAccepted(t *testing.T) {
	l := listen(t, "tcp", nil)
	if l.LastAccepted() != nil {
		t.Fatal("LastAccepted before Accept")
	}
	c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, ok := nc.(*connection.Conn); !ok {
		t.Fatalf("Accept returned %T", nc)
	}
	if got, want := l.LastAccepted().String(), c.LocalAddr().String(); got != want {
		t.Fatalf("LastAccepted = %s, want the client's address %s", got, want)
	}
}

func TestListenerNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.Read(make([]byte, 1)) // a handshake is in progress
	c, err := connection.Dial(context.Background(), "tcp", l.Addr().String(), &connection.Config{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // authenticated, never accepted
	l.Close() // waits for the accept loop and the handshakes
	// Goroutines that have signalled Close may still be on their way out
	// (under -race on a busy machine, longer than a thousand yields): yield
	// to them, no sleep, until a generous deadline.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestAbstractSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract Unix sockets are Linux-only")
	}
	for _, spelling := range []string{"@", "\x00"} {
		name := fmt.Sprintf("mpgo-test-%d-%d", os.Getpid(), time.Now().UnixNano())
		t.Run(fmt.Sprintf("%q", spelling), func(t *testing.T) {
			l, err := connection.Listen("unix", spelling+name, &connection.Config{AuthKey: key})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if got := l.Address(); !reflect.DeepEqual(got, []byte("\x00"+name)) {
				t.Fatalf("Address() = %#v", got)
			}
			go func() {
				c, err := connection.Dial(context.Background(), "", "\x00"+name, &connection.Config{AuthKey: key})
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				c.SendBytes([]byte("abstract"))
			}()
			s, err := l.AcceptConn()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, err := s.RecvBytes(0); err != nil || string(got) != "abstract" {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := connection.Listen("udp", "127.0.0.1:0", nil); err == nil {
		t.Fatal("udp accepted")
	}
	if _, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{Protocol: 6}); err == nil {
		t.Fatal("protocol 6 accepted")
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct{ in, network, address string }{
		{"127.0.0.1:5000", "tcp", "127.0.0.1:5000"},
		{"localhost:0", "tcp", "localhost:0"},
		{"[::1]:80", "tcp", "[::1]:80"},
		{"/tmp/x.sock", "unix", "/tmp/x.sock"},
		{"./rel:1", "unix", "./rel:1"},
		{"sock", "unix", "sock"},
		{"@name", "unix", "@name"},
		{"\x00name", "unix", "@name"},
		{"host:port", "unix", "host:port"},
	}
	for _, tt := range tests {
		n, a := connection.ParseAddress(tt.in)
		if n != tt.network || a != tt.address {
			t.Errorf("ParseAddress(%q) = %q, %q; want %q, %q", tt.in, n, a, tt.network, tt.address)
		}
	}
}

func TestPythonAddress(t *testing.T) {
	tests := []struct {
		in   net.Addr
		want any
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, pickle.Tuple{"127.0.0.1", int64(5000)}},
		{&net.TCPAddr{Port: 5000}, pickle.Tuple{"0.0.0.0", int64(5000)}},
		{&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, "/tmp/s"},
		{&net.UnixAddr{Name: "@abs", Net: "unix"}, []byte("\x00abs")},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := connection.PythonAddress(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("PythonAddress(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func forListeners(t *testing.T, f func(t *testing.T, transport string)) {
	for _, tr := range []string{"tcp", "unix"} {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}
