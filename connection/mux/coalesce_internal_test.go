package mux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// gateConn records each Write; while a write is gated, it waits for a
// release (or its write deadline) before returning.
type gateConn struct {
	net.Conn // nil: only Write, Close and SetWriteDeadline are used

	mu       sync.Mutex
	writes   [][]byte
	gated    bool
	entered  chan struct{} // receives when a write starts waiting
	release  chan struct{}
	dlSet    chan struct{}
	deadline time.Time
	fail     error // returned by every write when set
	closed   bool
}

func newGateConn() *gateConn {
	return &gateConn{entered: make(chan struct{}, 16), release: make(chan struct{}), dlSet: make(chan struct{}, 1)}
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	gated, fail := g.gated, g.fail
	g.mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	if gated {
		g.entered <- struct{}{}
		for waiting := true; waiting; {
			g.mu.Lock()
			dl := g.deadline
			g.mu.Unlock()
			var timeout <-chan time.Time
			if !dl.IsZero() {
				timeout = time.After(time.Until(dl))
			}
			select {
			case <-g.release:
				waiting = false
			case <-g.dlSet: // a deadline set during the write applies to it, as on a socket
			case <-timeout:
				return 0, errors.New("i/o timeout")
			}
		}
	}
	g.mu.Lock()
	g.writes = append(g.writes, append([]byte(nil), p...))
	g.mu.Unlock()
	return len(p), nil
}

func (g *gateConn) SetWriteDeadline(t time.Time) error {
	g.mu.Lock()
	g.deadline = t
	g.mu.Unlock()
	select {
	case g.dlSet <- struct{}{}:
	default:
	}
	return nil
}

func (g *gateConn) Close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	return nil
}

func (g *gateConn) recorded() [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([][]byte(nil), g.writes...)
}

// frame returns a yamux data frame header for a body of n bytes, and the body.
func frame(stream uint32, n int, fill byte) ([]byte, []byte) {
	h := make([]byte, yamuxHeaderSize)
	h[0], h[1] = 0, yamuxTypeData
	binary.BigEndian.PutUint32(h[4:8], stream)
	binary.BigEndian.PutUint32(h[8:12], uint32(n))
	return h, bytes.Repeat([]byte{fill}, n)
}

// sendFrame writes a frame as yamux's send loop does: the header, then the body.
func sendFrame(t *testing.T, c *coalescer, stream uint32, n int, fill byte) []byte {
	t.Helper()
	h, b := frame(stream, n, fill)
	for _, p := range [][]byte{h, b} {
		if m, err := c.Write(p); err != nil || m != len(p) {
			t.Fatalf("Write: %d, %v", m, err)
		}
	}
	return append(h, b...)
}

// TestCoalescerOneWritePerFrame: an idle session writes each frame at once, its header and
// body in one write; a header without a body (a window update, a ping) is not held.
func TestCoalescerOneWritePerFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateConn()
		c := newCoalescer(g, nil)
		want := sendFrame(t, c, 1, 100, 'a')
		synctest.Wait()
		if w := g.recorded(); len(w) != 1 || !bytes.Equal(w[0], want) {
			t.Fatalf("writes %q, want one: %q", w, want)
		}
		ping := []byte{0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7}
		if _, err := c.Write(ping); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if w := g.recorded(); len(w) != 2 || !bytes.Equal(w[1], ping) {
			t.Fatalf("writes %q, want the ping alone second", w)
		}
		c.Close()
	})
}

// TestCoalescerBatches: frames handed over while a write is in progress leave together in the
// next write, in order; none waits for more data.
func TestCoalescerBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateConn()
		g.gated = true
		c := newCoalescer(g, nil)
		first := sendFrame(t, c, 1, 10, 'a')
		<-g.entered // the flusher is in its write
		var rest []byte
		rest = append(rest, sendFrame(t, c, 3, 20, 'b')...)
		rest = append(rest, sendFrame(t, c, 5, 30, 'c')...)
		g.mu.Lock()
		g.gated = false
		g.mu.Unlock()
		close(g.release)
		synctest.Wait()
		w := g.recorded()
		if len(w) != 2 || !bytes.Equal(w[0], first) || !bytes.Equal(w[1], rest) {
			t.Fatalf("writes %q, want %q then %q", w, first, rest)
		}
		c.Close()
	})
}

// TestCoalescerBackpressure: beyond maxPending bytes ahead of the connection, Write waits (so
// that yamux's write timeout still sees a stalled peer).
func TestCoalescerBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateConn()
		g.gated = true
		c := newCoalescer(g, nil)
		sendFrame(t, c, 1, 10, 'a')
		<-g.entered
		for range maxPending / MaxWriteChunk {
			sendFrame(t, c, 1, MaxWriteChunk, 'b')
		}
		returned := make(chan struct{})
		go func() {
			sendFrame(t, c, 1, 10, 'c')
			close(returned)
		}()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("Write returned with maxPending bytes waiting")
		default:
		}
		g.mu.Lock()
		g.gated = false
		g.mu.Unlock()
		close(g.release)
		<-returned
		synctest.Wait()
		total := 0
		for _, w := range g.recorded() {
			total += len(w)
		}
		if want := (maxPending/MaxWriteChunk)*(yamuxHeaderSize+MaxWriteChunk) + 2*(yamuxHeaderSize+10); total != want {
			t.Fatalf("%d bytes written, want %d", total, want)
		}
		c.Close()
	})
}

// TestCoalescerWriteError: a failed write is reported once, closes the connection, and every
// later Write returns it.
func TestCoalescerWriteError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateConn()
		boom := errors.New("boom")
		g.fail = boom
		noted := make(chan error, 2)
		c := newCoalescer(g, func(err error) { noted <- err })
		sendFrame(t, c, 1, 10, 'a')
		synctest.Wait()
		if err := <-noted; err != boom {
			t.Fatalf("noted %v", err)
		}
		if _, err := c.Write([]byte("x")); err != boom {
			t.Fatalf("Write after the failure: %v", err)
		}
		g.mu.Lock()
		closed := g.closed
		g.mu.Unlock()
		if !closed {
			t.Fatal("the connection was not closed")
		}
		c.Close()
		if len(noted) != 0 {
			t.Fatal("the error was noted twice")
		}
	})
}

// TestCoalescerCloseFlushes: Close writes what was handed over before closing, waiting at most
// closeFlushTimeout for a peer that does not read; Writes after Close fail.
func TestCoalescerCloseFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateConn()
		g.gated = true
		c := newCoalescer(g, nil)
		sendFrame(t, c, 1, 10, 'a')
		<-g.entered
		last := sendFrame(t, c, 1, 5, 'z')
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned before the pending frames were written")
		default:
		}
		g.mu.Lock()
		g.gated = false
		g.mu.Unlock()
		close(g.release)
		<-closed
		if w := g.recorded(); len(w) != 2 || !bytes.Equal(w[1], last) {
			t.Fatalf("writes %q, want the last frame written before Close returned", w)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after Close: %v", err)
		}

		// A peer that never reads: Close gives up after closeFlushTimeout.
		g2 := newGateConn()
		g2.gated = true
		c2 := newCoalescer(g2, nil)
		sendFrame(t, c2, 1, 10, 'a')
		<-g2.entered
		start := time.Now()
		c2.Close()
		if d := time.Since(start); d != closeFlushTimeout {
			t.Fatalf("Close took %v, want %v", d, closeFlushTimeout)
		}
	})
}
