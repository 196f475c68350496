package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/loadgen"
	"github.com/mpgo/mpgo/connection"
)

// answerBound is how long a server may take to answer (or close) a
// malformed request, or to close a junk connection it must close.
const answerBound = 15 * time.Second

// durations keeps the mean and maximum of some durations.
type durations struct {
	mu       sync.Mutex
	n        int64
	sum, max time.Duration
}

func (d *durations) record(v time.Duration) {
	d.mu.Lock()
	d.n++
	d.sum += v
	d.max = max(d.max, v)
	d.mu.Unlock()
}

// seconds returns the mean and the maximum in seconds.
func (d *durations) seconds() (mean, max float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return 0, 0
	}
	return (d.sum / time.Duration(d.n)).Seconds(), d.max.Seconds()
}

// every runs f every interval until ctx ends, at most limit at a time
// (a tick is skipped while limit are running); it waits for them at the end.
func every(ctx context.Context, interval time.Duration, limit int, f func(ctx context.Context, n int)) {
	if interval <= 0 {
		return
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue
		}
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			defer func() { <-sem }()
			f(ctx, n)
		}(n)
	}
}

// junkSource is a loopback source address other than 127.0.0.1 (so that the
// server's per-address limit on unauthenticated connections sheds junk, not
// the clients).
func junkSource(n int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 2+byte(n/250%200), byte(n%250+1))}
}

// waitClosed reads from c until the server closes it (true) or bound passes.
func waitClosed(c net.Conn, bound time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(bound))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// junk opens one unauthenticated connection of kind n%4: random bytes as the
// answer to the challenge, an idle socket (until the handshake timeout closes
// it), a wrong key, or half a handshake response. The server must close each.
func (h *harness) junk(ctx context.Context, n int) {
	d := net.Dialer{LocalAddr: junkSource(n), Timeout: 10 * time.Second}
	kind := [...]string{"junk_random_bytes", "junk_idle_socket", "junk_wrong_key", "junk_half_handshake"}[n%4]
	c, err := d.DialContext(ctx, "tcp", h.srv.addr)
	if err != nil {
		if ctx.Err() == nil {
			h.faults.add("junk_dial_failed", 1)
		}
		return
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	switch kind {
	case "junk_random_bytes":
		b := make([]byte, 1+h.rnd(300))
		rand.Read(b)
		c.Write(b)
	case "junk_wrong_key":
		c.SetDeadline(time.Now().Add(answerBound))
		if connection.ClientHandshake(c, []byte("not the soak key")) == nil {
			h.problem("a wrong key was accepted")
		}
		c.SetDeadline(time.Time{})
	case "junk_half_handshake":
		// A frame header announcing a 48-byte answer, and 10 bytes of it.
		c.Write([]byte("\x00\x00\x00\x30{sha256}01"))
	}
	h.faults.add(kind, 1)
	if !waitClosed(c, answerBound) && ctx.Err() == nil {
		h.problem("%s: the server did not close the connection within %v", kind, answerBound)
	}
}

// malformed authenticates and sends one bad request of kind n%6. A frame the
// server can read must be answered (an error reply) or the connection
// closed; an oversized or negative frame header must close it; a frame cut
// short is abandoned by the client (killed mid-frame).
func (h *harness) malformed(ctx context.Context, n int) {
	dctx, cancel := context.WithTimeout(ctx, answerBound)
	c, err := loadgen.Dial(dctx, h.srv.addr, h.key)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			h.problem("malformed: handshake with the right key failed: %v", err)
		}
		return
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	mustAnswer := true
	var kind string
	switch n % 6 {
	case 0:
		kind = "malformed_random_pickle"
		b := make([]byte, 1+h.rnd(200))
		rand.Read(b)
		err = c.WritePayload(b)
	case 1:
		kind = "malformed_wrong_shape" // a valid pickle of 42, not a request tuple
		err = c.WritePayload([]byte("\x80\x02K*."))
	case 2:
		kind = "malformed_truncated_pickle"
		req := loadgen.Request("", "create", "dict")
		err = c.WritePayload(req[:len(req)/2])
	case 3:
		kind = "malformed_oversized_header"
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], 0x7fff0000)
		err = c.Write(append(hdr[:], "(((("...))
	case 4:
		kind = "malformed_negative_header"
		err = c.Write([]byte("\xff\xff\xff\xf0(((("))
	case 5:
		kind = "malformed_cut_frame"
		mustAnswer = false
		req := loadgen.Frame(loadgen.Request("", "dummy"))
		err = c.Write(req[:len(req)-3])
	}
	h.faults.add(kind, 1)
	if err != nil || !mustAnswer {
		return
	}
	c.NC.SetReadDeadline(time.Now().Add(answerBound))
	if _, err := c.ReadFrame(); err == nil {
		h.faults.add("malformed_answered", 1)
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if ctx.Err() == nil {
			h.problem("%s: neither answered nor closed within %v", kind, answerBound)
		}
		return
	}
	h.faults.add("malformed_closed", 1)
}

// slowReader authenticates, sends requests for a large value and never
// reads the replies; the server's slow-reader cut (--write-timeout) must
// close the connection. It waits for that by writing another request every
// 500 ms (which fails once the server has reset the connection), up to
// slowBound.
func (h *harness) slowReader(ctx context.Context, n int) {
	// A small receive buffer (no autotuning, which on loopback grows to tens
	// of MiB) makes the server's writes stall after a few replies.
	d := net.Dialer{Timeout: answerBound, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
		return serr
	}}
	nc, err := d.DialContext(ctx, "tcp", h.srv.addr)
	if err == nil {
		nc.SetDeadline(time.Now().Add(answerBound))
		if err = connection.ClientHandshake(nc, h.key); err != nil {
			nc.Close()
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			h.problem("slow reader: handshake failed: %v", err)
		}
		return
	}
	c := loadgen.NewConn(nc, 0)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.NC.SetDeadline(time.Now().Add(answerBound))
	if err := c.AcceptConnection("slow-reader"); err != nil {
		if ctx.Err() == nil {
			h.problem("slow reader: accept_connection: %v", err)
		}
		return
	}
	h.faults.add("slow_reader", 1)
	req := loadgen.Frame(loadgen.Request(h.big.Token().ID, "__getitem__", "big"))
	t0 := time.Now()
	deadline := time.Now().Add(h.o.slowBound)
	for i := 0; time.Now().Before(deadline); i++ {
		c.NC.SetWriteDeadline(time.Now().Add(time.Second))
		if err := c.Write(req); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // our send buffer is full: the server has stopped reading
			}
			if ctx.Err() == nil {
				h.faults.add("slow_reader_cut", 1)
				h.slowCut.record(time.Since(t0))
			}
			return
		}
		if i >= h.o.slowRequests {
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	h.faults.add("slow_reader_not_cut", 1)
	h.problem("a slow reader was not cut within %v", h.o.slowBound)
}
