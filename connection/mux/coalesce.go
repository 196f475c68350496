package mux

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// yamux frame header layout (spec.md): version, type, flags (2), stream ID (4), length (4).
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

// maxPending is how many bytes a coalescer accepts ahead of its connection:
// beyond it, yamux's send loop waits (as in a socket write to a full
// buffer), so that a stalled peer still makes the streams' writes, and the
// pings, time out after Config.WriteTimeout. With the buffer in a write,
// at most about 4*MaxWriteChunk bytes are handed over and not yet sent.
const maxPending = MaxWriteChunk

// closeFlushTimeout bounds how long closing a session waits for frames
// already accepted (a stream's last data, its close) to reach the socket.
const closeFlushTimeout = time.Second

// coalescer sits between a yamux session and its TLS connection, and turns
// frames into as few TLS records and system calls as it can without ever
// holding bytes back to wait for more:
//
//   - yamux's send loop writes a data frame's 12-byte header and its body
//     in two calls; the header is held until the body, which always
//     follows it, so that they leave together;
//   - the send loop hands each frame over (Write returns at once) and a
//     flusher goroutine writes what has been handed over: at once when it
//     is idle, and, when frames arrive while it is in a write, all of them
//     in its next one. On a busy session many streams' frames share a
//     record and a system call (a relay's session carries the calls of
//     many clients at once); an idle one sends each frame as it comes.
//
// A write error is sticky: every later Write returns it, and the connection
// is closed, which ends the session (its read loop fails). Only yamux's send
// loop writes; reads pass through.
type coalescer struct {
	net.Conn
	onErr func(error) // the first write error, before the connection is closed

	hdr [yamuxHeaderSize]byte // a data header waiting for its body
	has bool                  // (only the send loop touches hdr and has)

	mu      sync.Mutex
	cond    sync.Cond // signalled when pend is taken, and when the flusher goes idle
	pend    []byte    // handed over, not yet written
	spare   []byte    // the flusher's last buffer, for reuse
	busy    bool      // the flusher has work (or is in a write)
	err     error     // the first write error
	closing bool
	kick    chan struct{} // wakes the flusher (capacity 1)
	quit    chan struct{} // closed by Close
}

func newCoalescer(c net.Conn, onErr func(error)) *coalescer {
	w := &coalescer{Conn: c, onErr: onErr, kick: make(chan struct{}, 1), quit: make(chan struct{})}
	w.cond.L = &w.mu
	go w.flusher()
	return w
}

func (c *coalescer) Write(p []byte) (int, error) {
	if !c.has && len(p) == yamuxHeaderSize && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
		copy(c.hdr[:], p)
		c.has = true
		return len(p), nil
	}
	held := c.has
	c.has = false
	c.mu.Lock()
	for c.err == nil && len(c.pend) >= maxPending {
		c.cond.Wait()
	}
	if err := c.err; err != nil {
		c.mu.Unlock()
		return 0, err
	}
	if held {
		c.pend = append(c.pend, c.hdr[:]...)
	}
	c.pend = append(c.pend, p...)
	if !c.busy {
		c.busy = true
		c.kick <- struct{}{} // (never blocks: the flusher took the last kick before going idle)
	}
	c.mu.Unlock()
	return len(p), nil
}

// flusher writes what Write hands over, until Close.
func (c *coalescer) flusher() {
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		c.mu.Lock()
		var failed error
		for len(c.pend) > 0 && c.err == nil {
			buf := c.pend
			c.pend = c.spare[:0]
			c.spare = nil
			c.cond.Broadcast() // room for the send loop
			c.mu.Unlock()
			_, err := c.Conn.Write(buf)
			c.mu.Lock()
			if cap(buf) <= 2*maxPending {
				c.spare = buf
			}
			if err != nil && c.err == nil {
				c.err = err
				failed = err
			}
		}
		c.busy = false
		c.cond.Broadcast()
		c.mu.Unlock()
		if failed != nil {
			if c.onErr != nil {
				c.onErr(failed)
			}
			c.Conn.Close() // ends the session: its read loop fails
		}
	}
}

// Close waits, at most closeFlushTimeout, for what was handed over to be
// written (a stream's last frames before a session is closed on purpose),
// then closes the connection.
func (c *coalescer) Close() error {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		if c.busy && c.err == nil {
			// The deadline ends a write to a peer that does not read.
			_ = c.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
			for c.busy && c.err == nil {
				c.cond.Wait()
			}
		}
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.cond.Broadcast()
		close(c.quit)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}
