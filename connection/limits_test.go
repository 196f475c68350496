package connection_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// silentConn opens a TCP connection to l from the given local IP ("" for
// any) and waits until the server has accepted it (its challenge arrives),
// then leaves it idle.
func silentConn(t testing.TB, l *connection.Listener, localIP string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("no challenge: %v", err)
	}
	return c
}

// closedByServer reports whether the server closed c (EOF after the rest of
// the challenge), within a generous bound.
func closedByServer(t testing.TB, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	return err == nil || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset")
}

// serveAndDial dials l with the right key while a goroutine accepts, and
// reports the dial's error.
func serveAndDial(t testing.TB, l *connection.Listener, localIP string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		if c, err := l.AcceptContext(ctx); err == nil {
			c.Close()
		}
	}()
	d := net.Dialer{}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	nc, err := d.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		return err
	}
	c, err := connection.NewConn(ctx, nc, false, &connection.Config{AuthKey: key})
	if err != nil {
		return err
	}
	return c.Close()
}

type reasons struct {
	mu sync.Mutex
	m  map[string]int
	ch chan string
}

func newReasons() *reasons { return &reasons{m: map[string]int{}, ch: make(chan string, 1000)} }

func (r *reasons) hook(_ net.Addr, err error) {
	reason := connection.FailureReason(err)
	r.mu.Lock()
	r.m[reason]++
	r.mu.Unlock()
	select {
	case r.ch <- reason:
	default:
	}
}

func (r *reasons) next(t testing.TB) string {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no handshake failure reported within 10 s")
		return ""
	}
}

// TestShedOldestUnauthenticated: at MaxUnauthenticated, a new connection
// closes the oldest unauthenticated one instead of waiting behind it.
func TestShedOldestUnauthenticated(t *testing.T) {
	r := newReasons()
	l := listen(t, "tcp", &connection.Config{AuthKey: key, MaxUnauthenticated: 2, MaxUnauthenticatedPerAddress: -1,
		HandshakeTimeout: time.Minute, OnHandshakeError: r.hook})
	first := silentConn(t, l, "")
	silentConn(t, l, "")
	if n := l.PendingHandshakes(); n != 2 {
		t.Fatalf("PendingHandshakes() = %d with two idle connections, want 2", n)
	}
	if err := serveAndDial(t, l, ""); err != nil {
		t.Fatalf("client not served while the unauthenticated bound was full: %v", err)
	}
	if got := r.next(t); got != connection.ReasonShed {
		t.Fatalf("failure reason %q, want %q", got, connection.ReasonShed)
	}
	if !closedByServer(t, first) {
		t.Fatal("the oldest idle connection was not closed")
	}
}

// TestShedPerAddress: the per-address bound sheds that address's oldest
// connection and leaves other addresses' alone.
func TestShedPerAddress(t *testing.T) {
	r := newReasons()
	l := listen(t, "tcp", &connection.Config{AuthKey: key, MaxUnauthenticated: -1, MaxUnauthenticatedPerAddress: 2,
		HandshakeTimeout: time.Minute, OnHandshakeError: r.hook})
	other1 := silentConn(t, l, "127.0.0.2")
	other2 := silentConn(t, l, "127.0.0.2")
	first := silentConn(t, l, "127.0.0.1")
	silentConn(t, l, "127.0.0.1")
	if err := serveAndDial(t, l, "127.0.0.1"); err != nil {
		t.Fatalf("client not served while its address's bound was full: %v", err)
	}
	if got := r.next(t); got != connection.ReasonShed {
		t.Fatalf("failure reason %q, want %q", got, connection.ReasonShed)
	}
	if !closedByServer(t, first) {
		t.Fatal("the address's oldest idle connection was not closed")
	}
	// The other address's connections were not shed: closing them now is
	// reported as their own doing.
	other1.Close()
	other2.Close()
	for range 2 {
		if got := r.next(t); got != connection.ReasonClosed {
			t.Fatalf("other address: failure reason %q, want %q", got, connection.ReasonClosed)
		}
	}
}

// TestIdleFloodDoesNotStarve: with the default bounds, hundreds of idle
// and slowloris handshakes do not keep a real client out (the bug of the
// fixed 64-handshake pool).
func TestIdleFloodDoesNotStarve(t *testing.T) {
	l := listen(t, "tcp", &connection.Config{AuthKey: key})
	for i := range 600 {
		// Spread over addresses so that the per-address bound is not what saves us.
		silentConn(t, l, net.IPv4(127, 0, 1, byte(i%8+1)).String())
	}
	slow := make([]net.Conn, 0, 100)
	for range 100 {
		c := silentConn(t, l, "127.0.0.9")
		c.Write([]byte{0}) // one byte of a response header: a handshake in progress
		slow = append(slow, c)
	}
	for range 5 {
		if err := serveAndDial(t, l, ""); err != nil {
			t.Fatalf("client not served during the flood: %v", err)
		}
	}
	_ = slow
}

func TestFailureReasons(t *testing.T) {
	r := newReasons()
	l := listen(t, "tcp", &connection.Config{AuthKey: key, HandshakeTimeout: 300 * time.Millisecond, OnHandshakeError: r.hook})
	addr := l.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := connection.Dial(ctx, "tcp", addr, &connection.Config{AuthKey: []byte("wrong")}); !errors.Is(err, connection.ErrAuthFailed) {
		t.Fatalf("wrong key dial: %v", err)
	} else if got := connection.FailureReason(err); got != connection.ReasonWrongKey {
		t.Errorf("client side of a wrong key: %q", got)
	}
	if got := r.next(t); got != connection.ReasonWrongKey {
		t.Errorf("wrong key: %q", got)
	}

	garbage := silentConn(t, l, "")
	garbage.Write([]byte("\x00\x00\x00\x05hello"))
	if got := r.next(t); got != connection.ReasonProtocol {
		t.Errorf("garbage: %q", got)
	}

	silentConn(t, l, "")
	if got := r.next(t); got != connection.ReasonTimeout {
		t.Errorf("idle: %q", got)
	}

	silentConn(t, l, "").Close()
	if got := r.next(t); got != connection.ReasonClosed {
		t.Errorf("closed: %q", got)
	}
	if got := connection.FailureReason(nil); got != "" {
		t.Errorf("FailureReason(nil) = %q", got)
	}
	if got := connection.FailureReason(os.ErrPermission); got != connection.ReasonOther {
		t.Errorf("FailureReason(other) = %q", got)
	}
}

// TestFailureLogSummarised: a flood of wrong keys writes a few log lines,
// not one per attempt, and no second line per event.
func TestFailureLogSummarised(t *testing.T) {
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	hook := test.NewLocal(logger)
	r := newReasons()
	l := listen(t, "tcp", &connection.Config{AuthKey: key, Logger: logger, FailureLogInterval: time.Hour, OnHandshakeError: r.hook})
	const n = 200
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := connection.Dial(ctx, "tcp", l.Addr().String(), &connection.Config{AuthKey: []byte("wrong")}); err == nil {
			t.Fatal("wrong key accepted")
		}
		cancel()
	}
	for range n {
		r.next(t)
	}
	if got := len(hook.AllEntries()); got != 1 {
		t.Fatalf("%d log lines during %d wrong keys, want 1", got, n)
	}
	l.Close() // writes the summary
	entries := hook.AllEntries()
	if len(entries) != 2 || entries[1].Data["count"] != n-1 || entries[1].Data["reasons"] != "wrong_key=199" {
		t.Fatalf("after Close: %d lines, last %+v", len(entries), entries[len(entries)-1].Data)
	}
}

// TestSlowReaderCut: a peer that stops reading is disconnected after
// WriteTimeout; one that reads slowly but steadily is not.
func TestSlowReaderCut(t *testing.T) {
	for _, tr := range []string{"tcp", "unix"} {
		t.Run(tr, func(t *testing.T) { testSlowReaderCut(t, tr) })
	}
}

func testSlowReaderCut(t *testing.T, tr string) {
	{
		server, client := pair(t, tr, &connection.Config{AuthKey: key, WriteTimeout: 300 * time.Millisecond}, &connection.Config{AuthKey: key})
		big := make([]byte, 256<<10)
		errc := make(chan error, 1)
		go func() {
			for {
				if err := server.SendBytes(big); err != nil {
					errc <- err
					return
				}
			}
		}()
		select {
		case err := <-errc:
			if !errors.Is(err, connection.ErrBroken) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("stuck reader: write error %v, want ErrBroken and a deadline", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a peer that never reads was not cut within 30 s")
		}
		if !server.Closed() {
			t.Fatal("server connection not closed after the cut")
		}
		_ = client
	}
}

func TestSlowButSteadyReaderNotCut(t *testing.T) {
	server, client := pair(t, "tcp", &connection.Config{AuthKey: key, WriteTimeout: 2 * time.Second}, &connection.Config{AuthKey: key})
	const frames = 8
	big := make([]byte, 1<<20)
	errc := make(chan error, 1)
	go func() {
		for range frames {
			if err := server.SendBytes(big); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 32<<10)
	nc := client.NetConn()
	want := frames * (len(big) + 4)
	for got := 0; got < want; {
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		got += n
		time.Sleep(time.Millisecond) // a slow reader, 32 KiB per millisecond at most
	}
	if err := <-errc; err != nil {
		t.Fatalf("slow but steady reader cut: %v", err)
	}
}

// TestWriteTimeoutYieldsToUserDeadline: a user's write deadline replaces the
// cut, and a cancelled context still interrupts the write.
func TestWriteTimeoutYieldsToContext(t *testing.T) {
	server, _ := pair(t, "tcp", &connection.Config{AuthKey: key, WriteTimeout: time.Hour}, &connection.Config{AuthKey: key})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		big := make([]byte, 1<<20)
		for {
			if err := server.WriteFrameContext(ctx, big); err != nil {
				errc <- err
				return
			}
		}
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled write was not interrupted (the cut's deadline undid the interruption)")
	}
}
