package connection

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/pickle"
	"github.com/mpgo/mpgo/wire"
)

// ErrClosed is returned by operations on a closed [Conn] or [Listener]. It
// wraps [net.ErrClosed], so errors.Is(err, net.ErrClosed) holds too.
var ErrClosed = fmt.Errorf("connection: closed: %w", net.ErrClosed)

// ErrBroken is returned (wrapped, with the cause) once a read or write was
// interrupted inside a frame (a deadline, a cancelled context, a frame cut
// short): the stream is out of step with the peer, so the connection has
// been closed. The protocol has no request IDs to resynchronise on.
var ErrBroken = errors.New("connection: stream broken inside a frame")

// BufferTooShortError is returned by [Conn.RecvBytesInto] when the frame does
// not fit the buffer, like Python's multiprocessing.BufferTooShort: the
// frame has been consumed and Payload holds all of it.
type BufferTooShortError struct {
	Payload []byte
}

func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("connection: buffer too short for a %d-byte message", len(e.Payload))
}

// readBufSize is the size of a Conn's read buffer. It is small because every
// connection holds it while idle (10,000 idle connections should cost little);
// manager requests are a few hundred bytes, and bufio reads a frame larger
// than the buffer straight into the payload slice.
const readBufSize = 2 << 10

// smallFrame is the largest frame copied into the write buffer; larger ones
// go out with writev (header and payload in one syscall) on sockets.
const smallFrame = 64 << 10

// keepWriteBuf is the largest write buffer kept between sends.
const keepWriteBuf = 1 << 20

// OwnedFrameSize is the size from which a received frame is read into a
// buffer of its own instead of the Conn's reused one: [Conn.ReadFrame]'s
// result is then the caller's to keep, and [Conn.Recv] lets the decoded
// bytes and str values share it ([pickle.UnmarshalOwned]), so a large
// payload is copied once, from the socket, not twice. Smaller frames, the
// usual manager requests, reuse the Conn's buffer and allocate nothing;
// that buffer never grows past this size.
const OwnedFrameSize = 64 << 10

// aLongTimeAgo is a deadline in the past, used to interrupt blocked calls.
var aLongTimeAgo = time.Unix(1, 0)

// Conn is an authenticated multiprocessing.connection Connection over a
// socket: Send/Recv exchange pickled objects, SendBytes/RecvBytes raw
// messages, one frame each.
//
// Like a Python Connection, a Conn is meant for one user: one goroutine may
// send while another receives, but concurrent sends (or concurrent
// receives) are serialised by a lock and interleave whole frames only.
// Close, the deadline setters and the address methods are safe to call from
// any goroutine.
//
// Conn also implements [net.Conn] so that it plugs into code written for
// one: Write sends p as one frame (send_bytes) and Read returns the payload
// bytes of successive frames as a byte stream.
type Conn struct {
	nc  net.Conn
	cfg *config

	rmu  sync.Mutex
	br   *bufio.Reader
	fr   *wire.Reader
	rbuf []byte // reused payload buffer (ReadFrame, Recv, Read)
	qa   *quickAckReader
	// keepAliveAfter > 0 counts down the frame reads until TCP keep-alive is
	// enabled (at 0): see Listener.lazyKeepAlive.
	keepAliveAfter int8
	rerr           error  // sticky read error
	left           []byte // unread part of a frame for Read

	wmu  sync.Mutex
	wbuf []byte
	enc  *pickle.Encoder
	werr error // sticky write error

	dmu      sync.Mutex
	rdl, wdl time.Time // the user's deadlines

	// The slow-reader cut (Config.WriteTimeout): wto > 0 arms a write
	// deadline before each write that makes progress. userWDL: the user set
	// a write deadline, which takes precedence. wInterrupted: watch moved
	// the write deadline into the past (a context ended), which a new
	// deadline must not undo.
	wto          time.Duration
	userWDL      atomic.Bool
	wInterrupted atomic.Bool

	peerProto atomic.Int32 // pickle protocol of the last pickle received, 0 = none yet
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// quickAckReader re-arms TCP_QUICKACK after every read from the socket
// while on is set: during the handshake, and while a frame's payload is
// read that had not fully arrived with its header. Those are the moments a
// CPython peer (which does not set TCP_NODELAY) has a small write held back
// by Nagle's algorithm until we acknowledge: '#WELCOME#' followed by its
// first request, and the payload it writes after a separate header write
// (frames over 16 KiB). Between whole frames the ACK rides on our reply, so
// no extra ACK packets are sent then. on is only touched with rmu held (or
// before the Conn is shared).
type quickAckReader struct {
	nc net.Conn
	rc syscall.RawConn
	on bool
}

func (q *quickAckReader) Read(p []byte) (int, error) {
	n, err := q.nc.Read(p)
	if n > 0 && q.on {
		setQuickAck(q.rc)
	}
	return n, err
}

// quickAckPayload arms quick ACKs for the payload of an n-byte frame whose
// header was just read, unless the payload is already buffered.
func (c *Conn) quickAckPayload(n int) {
	if c.qa == nil || c.br.Buffered() >= n {
		return
	}
	c.qa.on = true
	setQuickAck(c.qa.rc)
}

// quickAckDone disarms quick ACKs after a frame.
func (c *Conn) quickAckDone() {
	if c.qa != nil {
		c.qa.on = false
	}
}

// nextFrame reads a whole frame (limit: see wire.Reader.SetMaxFrameSize)
// into dst when it fits and is shorter than own (own 0: no such bound),
// else into a new slice. rmu must be held.
func (c *Conn) nextFrame(limit int, dst []byte, own int) ([]byte, error) {
	c.countRead()
	c.fr.SetMaxFrameSize(limit)
	n, err := c.fr.ReadHeader()
	if err != nil {
		return nil, c.readFailed(err)
	}
	c.quickAckPayload(n)
	if own > 0 && n >= own {
		dst = nil
	}
	p, err := c.fr.ReadPayload(dst)
	c.quickAckDone()
	if err != nil {
		return nil, c.readFailed(err)
	}
	return p, nil
}

// countRead counts a frame read for the lazy keep-alive. rmu must be held.
func (c *Conn) countRead() {
	if c.keepAliveAfter > 0 {
		if c.keepAliveAfter--; c.keepAliveAfter == 0 {
			c.enableKeepAlive()
		}
	}
}

// enableKeepAlive turns on TCP keep-alive as [Config.KeepAlive] says.
func (c *Conn) enableKeepAlive() {
	if c.cfg.keepAlive < 0 {
		return
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: c.cfg.keepAlive, Interval: c.cfg.keepAlive})
	}
}

// nextReusedFrame is nextFrame into the Conn's reusable buffer for frames
// shorter than OwnedFrameSize (the result is valid until the next read), and
// into a new slice for the others (the caller's to keep). rmu must be held.
func (c *Conn) nextReusedFrame() ([]byte, error) {
	p, err := c.nextFrame(c.cfg.MaxFrameSize, c.rbuf[:0], OwnedFrameSize)
	if err != nil {
		return nil, err
	}
	if len(p) < OwnedFrameSize {
		c.rbuf = p[:0]
	}
	return p, nil
}

func newConn(nc net.Conn, cfg *config, accepted bool) *Conn {
	c := &Conn{nc: nc, cfg: cfg}
	if accepted || cfg.WriteTimeout > 0 {
		c.wto = cfg.writeTimeout
	}
	var r io.Reader = nc
	if accepted && quickAckSupported && !cfg.DisableQuickAck {
		if tc, ok := nc.(*net.TCPConn); ok {
			if rc, err := tc.SyscallConn(); err == nil {
				setQuickAck(rc)
				c.qa = &quickAckReader{nc: nc, rc: rc, on: true}
				r = c.qa
			}
		}
	}
	c.br = bufio.NewReaderSize(r, readBufSize)
	c.fr = wire.NewReader(c.br)
	return c
}

// handshakeRW reads through the Conn's buffer and writes to the socket.
type handshakeRW struct {
	io.Reader
	io.Writer
}

// handshake runs the server or client handshake under the handshake timeout
// and ctx.
func (c *Conn) handshake(ctx context.Context, server bool) error {
	if c.cfg.AuthKey == nil {
		c.quickAckDone()
		return nil
	}
	if c.cfg.handshakeTimeout > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(c.cfg.handshakeTimeout))
	}
	stop := c.watch(ctx, true, true)
	rw := handshakeRW{c.br, c.nc}
	var err error
	if server {
		err = ServerHandshake(rw, c.cfg.AuthKey)
	} else {
		err = ClientHandshake(rw, c.cfg.AuthKey)
	}
	if cerr := stop(); cerr != nil && err != nil {
		err = fmt.Errorf("%w: %w", ErrAuthFailed, cerr)
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.quickAckDone()
	return err
}

// watch arranges for ctx's cancellation to interrupt the reads (and/or
// writes) in progress by moving the deadline into the past. The returned
// function undoes it, restores the user's deadlines if ctx fired, and then
// returns ctx's error (nil if ctx did not end the call).
func (c *Conn) watch(ctx context.Context, read, write bool) func() error {
	if ctx == nil || ctx.Done() == nil {
		return func() error { return nil }
	}
	if ctx.Err() != nil {
		// Already over: make the call fail at once.
		c.interrupt(read, write)
		return func() error {
			c.restoreDeadlines(read, write)
			return ctx.Err()
		}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.interrupt(read, write)
		close(fired)
	})
	return func() error {
		if stop() {
			return nil
		}
		<-fired
		c.restoreDeadlines(read, write)
		return ctx.Err()
	}
}

func (c *Conn) interrupt(read, write bool) {
	if write {
		c.wInterrupted.Store(true) // before the deadline: see armWrite
	}
	switch {
	case read && write:
		_ = c.nc.SetDeadline(aLongTimeAgo)
	case read:
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	case write:
		_ = c.nc.SetWriteDeadline(aLongTimeAgo)
	}
}

func (c *Conn) restoreDeadlines(read, write bool) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if read {
		_ = c.nc.SetReadDeadline(c.rdl)
	}
	if write {
		_ = c.nc.SetWriteDeadline(c.wdl)
		c.wInterrupted.Store(false)
	}
}

// ctxErr prefers ctx's error over the timeout it caused.
func ctxErr(err, cerr error) error {
	if err != nil && cerr != nil {
		if errors.Is(err, ErrBroken) {
			return fmt.Errorf("%w: %w", ErrBroken, cerr)
		}
		return cerr
	}
	return err
}

// readFailed classifies a read error (with rmu held): a clean end of stream
// or a timeout between frames leaves the connection usable; anything inside
// a frame breaks it.
func (c *Conn) readFailed(err error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.fr.InFrame() {
		return err
	}
	if errors.Is(err, wire.ErrFrameTooLarge) {
		// Like CPython's recv_bytes(maxlength): the payload stays unread and
		// the connection can no longer be read (it can still be written).
		c.rerr = err
		return err
	}
	c.rerr = fmt.Errorf("%w: %w", ErrBroken, err)
	_ = c.Close()
	return c.rerr
}

// writeFailed classifies a write error (with wmu held): nothing written
// leaves the connection usable, a partial frame breaks it.
func (c *Conn) writeFailed(err error, partial bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if !partial {
		return err
	}
	c.werr = fmt.Errorf("%w: %w", ErrBroken, err)
	_ = c.Close()
	return c.werr
}

// readPrecheck returns the error that stops any read, with rmu held.
func (c *Conn) readPrecheck() error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.rerr
}

// ReadFrame reads the next frame and returns its payload without copying.
// A payload shorter than [OwnedFrameSize] is in the Conn's reused buffer and
// only valid until the next read on c (ReadFrame, Recv, RecvBytes, Poll,
// ...); a longer one is the caller's to keep (it may decode it with
// [pickle.UnmarshalOwned]). It is the zero-allocation path for callers that
// decode frames themselves.
func (c *Conn) ReadFrame() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		return nil, err
	}
	c.left = nil
	return c.nextReusedFrame()
}

// ReadFrameContext is [Conn.ReadFrame] interrupted when ctx ends (an
// interruption inside a frame breaks the connection).
func (c *Conn) ReadFrameContext(ctx context.Context) ([]byte, error) {
	stop := c.watch(ctx, true, false)
	p, err := c.ReadFrame()
	return p, ctxErr(err, stop())
}

// RecvBytes reads one frame and returns its payload, which the caller owns
// (Python's recv_bytes). max > 0 limits the length: a longer frame returns
// an error wrapping [wire.ErrFrameTooLarge], its payload stays unread and
// c can no longer be read, as in CPython. max <= 0 applies only
// [Config.MaxFrameSize].
func (c *Conn) RecvBytes(max int) ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		return nil, err
	}
	c.left = nil
	limit := c.cfg.MaxFrameSize
	if max > 0 && (limit == 0 || max < limit) {
		limit = max
	}
	return c.nextFrame(limit, nil, 0)
}

// RecvBytesInto reads one frame into buf and returns its length (Python's
// recv_bytes_into; pass buf[off:] for an offset). If the frame does not fit,
// it is consumed anyway and a *[BufferTooShortError] carrying the whole
// payload is returned.
func (c *Conn) RecvBytesInto(buf []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		return 0, err
	}
	c.left = nil
	c.countRead()
	c.fr.SetMaxFrameSize(c.cfg.MaxFrameSize)
	n, err := c.fr.ReadHeader()
	if err != nil {
		return 0, c.readFailed(err)
	}
	c.quickAckPayload(n)
	var p []byte
	if n <= len(buf) {
		p, err = c.fr.ReadPayload(buf[:n])
	} else {
		p, err = c.fr.ReadPayload(nil)
	}
	c.quickAckDone()
	if err != nil {
		return 0, c.readFailed(err)
	}
	if n > len(buf) {
		return 0, &BufferTooShortError{Payload: p}
	}
	return n, nil
}

// WriteFrame sends p as one frame with a single write (a copy into the
// connection's buffer for small frames, one writev for large ones on TCP and
// Unix sockets). It does not retain p.
func (c *Conn) WriteFrame(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFrame(p)
}

// WriteFrameContext is [Conn.WriteFrame] interrupted when ctx ends.
func (c *Conn) WriteFrameContext(ctx context.Context, p []byte) error {
	stop := c.watch(ctx, false, true)
	err := c.WriteFrame(p)
	return ctxErr(err, stop())
}

// SendBytes sends p as one message (Python's send_bytes).
func (c *Conn) SendBytes(p []byte) error { return c.WriteFrame(p) }

func (c *Conn) writeFrame(p []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if c.werr != nil {
		return c.werr
	}
	if len(p) > smallFrame {
		switch c.nc.(type) {
		case *net.TCPConn, *net.UnixConn:
			var hdr [wire.ExtHeaderLen]byte
			bufs := net.Buffers{wire.AppendHeader(hdr[:0], len(p)), p}
			var total int64
			for {
				cut := c.armWrite()
				n, err := bufs.WriteTo(c.nc) // consumes what it wrote
				total += n
				if err == nil {
					return nil
				}
				if !cut || n == 0 || !isTimeout(err) {
					return c.writeFailed(err, total > 0)
				}
				// Progress before the deadline: a slow reader, not a stuck one.
			}
		}
	}
	c.wbuf = wire.AppendFrame(c.wbuf[:0], p)
	return c.flush(c.wbuf)
}

// flush writes one complete frame b (which may alias c.wbuf).
func (c *Conn) flush(b []byte) error {
	total := 0
	var err error
	for {
		cut := c.armWrite()
		var n int
		n, err = c.nc.Write(b[total:])
		total += n
		if err == nil || !cut || n == 0 || !isTimeout(err) {
			break
		}
		// Progress before the deadline: a slow reader, not a stuck one.
	}
	if cap(c.wbuf) > keepWriteBuf {
		c.wbuf = nil
	}
	if err != nil {
		return c.writeFailed(err, total > 0 && total < len(b))
	}
	return nil
}

// armWrite sets the slow-reader cut's deadline before a write and reports
// whether it did: not when the cut is off, the user set a write deadline,
// or a context interrupted the write (see watch).
func (c *Conn) armWrite() bool {
	if c.wto <= 0 || c.userWDL.Load() || c.wInterrupted.Load() {
		return false
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.wto))
	if c.wInterrupted.Load() {
		// interrupt ran between the check and our deadline: restore its.
		_ = c.nc.SetWriteDeadline(aLongTimeAgo)
		return false
	}
	return true
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Read implements [net.Conn]: it returns payload bytes of successive frames
// as one byte stream (empty frames are skipped).
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.left) == 0 {
		if err := c.readPrecheck(); err != nil {
			return 0, err
		}
		f, err := c.nextReusedFrame()
		if err != nil {
			return 0, err
		}
		c.left = f
	}
	n := copy(p, c.left)
	c.left = c.left[n:]
	return n, nil
}

// Write implements [net.Conn]: it sends p as one frame.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.WriteFrame(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Poll reports whether there is something to read: a frame (or part of
// one), or the end of the stream (Python's poll). timeout 0 checks without
// waiting; a negative timeout waits forever (Python's poll(None)). It does
// not check that a whole frame has arrived.
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		return false, err
	}
	if len(c.left) > 0 || c.br.Buffered() > 0 {
		return true, nil
	}
	if timeout == 0 {
		if sc, ok := c.nc.(syscall.Conn); ok {
			if ready, ok := peekNow(sc); ok {
				return ready, nil
			}
		}
		timeout = time.Millisecond
	}
	var d time.Time
	if timeout > 0 {
		d = time.Now().Add(timeout)
	}
	_ = c.nc.SetReadDeadline(d)
	ready := c.peek()
	c.restoreDeadlines(true, false)
	if c.closed.Load() {
		return false, ErrClosed
	}
	return ready, nil
}

// peek blocks until the buffer holds data, the stream ends or fails, or the
// read deadline passes (false). rmu must be held.
func (c *Conn) peek() bool {
	_, err := c.br.Peek(1)
	if err == nil {
		return true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true // EOF or an error: the next read reports it
}

// PollContext is [Conn.Poll] with no timeout, ended early by ctx.
func (c *Conn) PollContext(ctx context.Context) (bool, error) {
	stop := c.watch(ctx, true, false)
	ok, err := c.Poll(-1)
	if cerr := stop(); cerr != nil && !ok {
		return false, cerr
	}
	return ok, err
}

// Close closes the connection. Blocked reads and writes return [ErrClosed].
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.nc.Close()
	})
	return c.closeErr
}

// Closed reports whether Close was called (or the connection was closed
// because a frame was interrupted).
func (c *Conn) Closed() bool { return c.closed.Load() }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as [net.Conn] does. A
// deadline that expires between frames leaves the connection usable; one
// that expires inside a frame breaks it ([ErrBroken]).
func (c *Conn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdl, c.wdl = t, t
	c.userWDL.Store(!t.IsZero())
	return c.nc.SetDeadline(t)
}

// SetReadDeadline sets the read deadline (see [Conn.SetDeadline]).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdl = t
	return c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline (see [Conn.SetDeadline]).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.wdl = t
	c.userWDL.Store(!t.IsZero())
	return c.nc.SetWriteDeadline(t)
}

// NetConn returns the underlying connection. Bytes already buffered by c
// are not visible through it; use it for socket options, not for I/O.
func (c *Conn) NetConn() net.Conn { return c.nc }

// PeerProtocol returns the pickle protocol of the last pickle received by
// Recv (2 for the PROTO-less protocols 0 and 1; 0 before the first one). In
// automatic mode Send uses it.
func (c *Conn) PeerProtocol() int { return int(c.peerProto.Load()) }
