package relay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/internal/ratelog"
)

// Defaults of [Config]'s zero fields.
const (
	// DefaultMinBackoff is the first wait before redialling a session that
	// failed.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps the wait between redials.
	DefaultMaxBackoff = 10 * time.Second
)

// copyBuf is the size of the buffers that copy between a client and its
// stream (the stream writes at most mux.MaxWriteChunk per frame anyway).
const copyBuf = 64 << 10

// ErrNoSession is returned (wrapped) when a client arrives and no session
// with the server is up within Config.HandshakeTimeout.
var ErrNoSession = errors.New("relay: no session with the server")

// ErrClosed is returned by [Relay.Serve] after [Relay.Close].
var ErrClosed = errors.New("relay: closed")

// Config configures a [Relay]. Server and Mux.TLS are required.
type Config struct {
	// Server is the address ("host:port") of the server's mux listener
	// (mpgo serve --mux-address).
	Server string

	// Mux configures the session: TLS (the relay's client certificate and
	// the server's CA), keep-alive and timeouts. Both ends should use the
	// same yamux settings (the defaults).
	Mux mux.Config

	// AuthKey is the manager's authkey. With it the relay answers each
	// client's handshake itself and opens a pre-authenticated stream (no
	// handshake crosses the link). nil: every stream carries the client's
	// handshake end to end (a dumb pipe).
	AuthKey []byte

	// HandshakeTimeout bounds a client's handshake with the relay, and a
	// client's wait for a session when none is up.
	// 0: connection.DefaultHandshakeTimeout (5 s).
	HandshakeTimeout time.Duration

	// MinBackoff and MaxBackoff bound the wait between attempts to
	// (re)establish the session: it doubles from MinBackoff up to MaxBackoff
	// after each failure, with full jitter (a random wait between half and
	// all of it), so that relays do not redial in step.
	// 0: DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration

	// OnSessionError, if set, is called (from the relay's session goroutine)
	// with the error of every failed attempt to establish the session and of
	// every lost session. It is not a logger: the relay logs them itself.
	OnSessionError func(err error)

	// Logger receives session events and, in summary, failed client
	// handshakes. nil discards.
	Logger logrus.FieldLogger
}

// Relay carries local multiprocessing clients to a remote manager over one
// long-lived mux session: each client connection becomes one stream. When
// the session is lost, every client connection bound to it is closed at
// once (the clients get an error instead of hanging) and the session is
// redialled with backoff and jitter; no byte is ever replayed on a new
// session (a put is not idempotent). A client that arrives while there is no
// session waits for one up to Config.HandshakeTimeout.
//
// A Relay is safe for concurrent use.
type Relay struct {
	cfg      Config
	log      logrus.FieldLogger
	failures *ratelog.Aggregator
	done     chan struct{}
	wg       sync.WaitGroup

	retired chan struct{} // the current session takes no new stream (see retire)

	mu        sync.Mutex
	sess      *mux.Session
	ready     chan struct{} // closed when sess is set
	lastErr   error
	conns     map[net.Conn]*mux.Session // client connections, with their session (nil before)
	listeners map[net.Listener]struct{}
	closed    bool
}

// New checks cfg and starts a Relay, which dials its session in the
// background at once (see [Relay.WaitSession]).
func New(cfg *Config) (*Relay, error) {
	if cfg == nil || cfg.Server == "" {
		return nil, errors.New("relay: Config.Server is required")
	}
	if cfg.Mux.TLS == nil {
		return nil, errors.New("relay: Config.Mux.TLS is required")
	}
	r := &Relay{cfg: *cfg, done: make(chan struct{}), ready: make(chan struct{}), retired: make(chan struct{}, 1),
		conns: map[net.Conn]*mux.Session{}, listeners: map[net.Listener]struct{}{}}
	if r.cfg.HandshakeTimeout == 0 {
		r.cfg.HandshakeTimeout = connection.DefaultHandshakeTimeout
	}
	if r.cfg.MinBackoff <= 0 {
		r.cfg.MinBackoff = DefaultMinBackoff
	}
	if r.cfg.MaxBackoff <= 0 {
		r.cfg.MaxBackoff = DefaultMaxBackoff
	}
	if r.cfg.MaxBackoff < r.cfg.MinBackoff {
		r.cfg.MaxBackoff = r.cfg.MinBackoff
	}
	if r.cfg.AuthKey != nil {
		r.cfg.AuthKey = append([]byte{}, r.cfg.AuthKey...)
	}
	r.log = cfg.Logger
	if r.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		l.SetLevel(logrus.PanicLevel)
		r.log = l
	}
	r.failures = ratelog.New(cfg.Logger, logrus.WarnLevel, "relay: client handshake failed", 0)
	r.wg.Add(1)
	go r.maintain()
	return r, nil
}

// maintain keeps a session up until Close.
func (r *Relay) maintain() {
	defer r.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := r.cfg.MinBackoff
	for {
		start := time.Now()
		s, err := mux.Dial(ctx, "tcp", r.cfg.Server, &r.cfg.Mux)
		if err != nil {
			select {
			case <-r.done:
				return
			default:
			}
			r.setErr(err)
			r.log.WithFields(logrus.Fields{"server": r.cfg.Server, "err": err.Error()}).Error("relay: no session with the server")
			if h := r.cfg.OnSessionError; h != nil {
				h(err)
			}
		} else {
			r.log.WithFields(logrus.Fields{"server": r.cfg.Server, "local": s.LocalAddr().String()}).Info("relay: session up")
			r.setSession(s)
			select {
			case <-s.Done():
			case <-r.done:
				s.Close()
			case <-r.retired:
				// The server takes no new stream on s (it is shutting down): dial
				// another for new clients; s ends with its last stream.
				r.log.WithField("server", r.cfg.Server).Info("relay: server going away; dialling a new session")
				r.wg.Add(1)
				go func() {
					defer r.wg.Done()
					select {
					case <-s.Done():
					case <-r.done:
						s.Close()
					}
					r.dropSession(s)
				}()
				continue
			}
			n := r.dropSession(s)
			select {
			case <-r.done:
				return
			default:
			}
			r.log.WithFields(logrus.Fields{"server": r.cfg.Server, "err": errString(s.Err()), "closed_clients": n}).Warn("relay: session lost; clients on it closed")
			if h := r.cfg.OnSessionError; h != nil {
				h(s.Err())
			}
			if time.Since(start) > 2*r.cfg.MaxBackoff {
				backoff = r.cfg.MinBackoff // it lived: redial at once
				continue
			}
		}
		// Full jitter over the upper half: between backoff/2 and backoff.
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.done:
			t.Stop()
			return
		}
		if backoff *= 2; backoff > r.cfg.MaxBackoff {
			backoff = r.cfg.MaxBackoff
		}
	}
}

func (r *Relay) setErr(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

func (r *Relay) setSession(s *mux.Session) {
	select {
	case <-r.retired: // meant for an earlier session
	default:
	}
	r.mu.Lock()
	r.sess = s
	r.lastErr = nil
	close(r.ready)
	r.mu.Unlock()
}

// dropSession forgets s and closes every client connection bound to it. It
// returns how many it closed.
func (r *Relay) dropSession(s *mux.Session) int {
	r.mu.Lock()
	if r.sess == s {
		r.sess = nil
		r.ready = make(chan struct{})
	}
	r.lastErr = s.Err()
	var victims []net.Conn
	for c, cs := range r.conns {
		if cs == s {
			victims = append(victims, c)
		}
	}
	r.mu.Unlock()
	for _, c := range victims {
		c.Close()
	}
	return len(victims)
}

// WaitSession waits until a session with the server is up and returns it.
// It returns the last dial error, wrapping [ErrNoSession], when ctx ends
// first.
func (r *Relay) WaitSession(ctx context.Context) (*mux.Session, error) {
	for {
		r.mu.Lock()
		s, ready, closed := r.sess, r.ready, r.closed
		r.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if s != nil {
			return s, nil
		}
		select {
		case <-ready:
		case <-r.done:
			return nil, ErrClosed
		case <-ctx.Done():
			r.mu.Lock()
			lastErr := r.lastErr
			r.mu.Unlock()
			if lastErr != nil {
				return nil, fmt.Errorf("%w: %w", ErrNoSession, lastErr)
			}
			return nil, fmt.Errorf("%w: %w", ErrNoSession, context.Cause(ctx))
		}
	}
}

// Serve accepts client connections on l and relays each over the session,
// until Close (then it returns [ErrClosed]) or until l fails. Accepting
// never waits for a client: each is handled in its own goroutine. Serve
// takes ownership of l.
func (r *Relay) Serve(l net.Listener) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		l.Close()
		return ErrClosed
	}
	r.listeners[l] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.listeners, l)
		r.mu.Unlock()
		l.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			select {
			case <-r.done:
				return ErrClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff *= 2; backoff > time.Second {
				backoff = time.Second
			}
			r.log.WithField("err", err).Warnf("relay: accept failed; retrying in %v", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-r.done:
				t.Stop()
				return ErrClosed
			}
			continue
		}
		backoff = 0
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			nc.Close()
			return ErrClosed
		}
		r.conns[nc] = nil
		r.wg.Add(1)
		r.mu.Unlock()
		go r.handle(nc)
	}
}

// bind records that nc uses s; it fails when s is already gone (or the
// relay is closing).
func (r *Relay) bind(nc net.Conn, s *mux.Session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.sess != s {
		return false
	}
	r.conns[nc] = s
	return true
}

// retire stops using s for new clients after it refused a stream (the server
// sent a go-away): the session goroutine dials a new one.
func (r *Relay) retire(s *mux.Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sess != s {
		return
	}
	r.sess = nil
	r.ready = make(chan struct{})
	select {
	case r.retired <- struct{}{}:
	default:
	}
}

func (r *Relay) forget(nc net.Conn) {
	r.mu.Lock()
	delete(r.conns, nc)
	r.mu.Unlock()
}

// handle relays one client connection.
func (r *Relay) handle(nc net.Conn) {
	defer r.wg.Done()
	defer r.forget(nc)
	defer nc.Close()
	var cr io.Reader = nc
	var qa *quickAckReader
	if tc, ok := nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			// CPython does not set TCP_NODELAY (see quickAckReader).
			setQuickAck(rc)
			qa = &quickAckReader{nc: nc, arm: func() { setQuickAck(rc) }, always: r.cfg.AuthKey != nil}
			if r.cfg.AuthKey == nil {
				qa.early = handshakeFrames
			}
			cr = qa
		}
	}
	remote := addrString(nc.RemoteAddr())
	if r.cfg.AuthKey != nil {
		_ = nc.SetDeadline(time.Now().Add(r.cfg.HandshakeTimeout))
		err := connection.ServerHandshake(rw{cr, nc}, r.cfg.AuthKey)
		_ = nc.SetDeadline(time.Time{})
		if qa != nil {
			qa.always = false
		}
		if err != nil {
			r.failures.Event(ratelog.IP(nc.RemoteAddr()), connection.FailureReason(err), logrus.Fields{"remote": remote, "err": err.Error()})
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.HandshakeTimeout)
	var st *mux.Stream
	var err error
	// A session the server is leaving (a go-away) refuses the stream before
	// anything is sent: the client's bytes have gone nowhere, so the stream is
	// opened on the next session instead (once).
	for attempt := 0; attempt < 2; attempt++ {
		var s *mux.Session
		s, err = r.WaitSession(ctx)
		if err == nil && !r.bind(nc, s) {
			err = fmt.Errorf("%w: session lost", ErrNoSession)
		}
		if err != nil {
			break
		}
		st, err = s.Open(ctx, mux.StreamInfo{PreAuthenticated: r.cfg.AuthKey != nil, Address: clientFacing(nc.LocalAddr()), Peer: peerString(remote)})
		if !errors.Is(err, yamux.ErrRemoteGoAway) {
			break
		}
		r.retire(s)
	}
	cancel()
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			r.log.WithFields(logrus.Fields{"remote": remote, "err": err.Error()}).Warn("relay: client refused")
		}
		return
	}
	pipe(nc, cr, st)
}

// pipe copies both ways until either direction ends, then closes both.
func pipe(nc net.Conn, cr io.Reader, st *mux.Stream) {
	done := make(chan struct{}, 2)
	go func() {
		buf := make([]byte, copyBuf)
		_, _ = io.CopyBuffer(st, onlyReader{cr}, buf)
		done <- struct{}{}
	}()
	go func() {
		buf := make([]byte, copyBuf)
		_, _ = io.CopyBuffer(nc, onlyReader{st}, buf)
		done <- struct{}{}
	}()
	<-done
	st.Close()
	nc.Close()
	<-done
}

// onlyReader hides WriterTo/ReaderFrom, so that io.CopyBuffer uses its buffer.
type onlyReader struct{ io.Reader }

type rw struct {
	io.Reader
	io.Writer
}

// quickAckReader re-arms TCP_QUICKACK after the reads from the client
// after which a CPython client waits for our ACK. CPython does not set
// TCP_NODELAY, so a write that follows another with no read in between
// waits (Nagle) until the first is acknowledged; with a delayed ACK, about
// 40 ms. It writes so: '#WELCOME#' and its first request (during the
// relay's own handshake, always is set; through a pipe, the client's first
// handshakeFrames frames are acknowledged at once), and a frame's header
// and then its payload (CPython 3 does so for frames over 16 KiB): a
// read that ends inside a frame is acknowledged at once. A read that ends
// at a frame's end is not: the client now waits for the reply, which
// carries the ACK, so ordinary requests pay no system call and send no
// extra ACK packet.
type quickAckReader struct {
	nc     net.Conn
	arm    func() // sets TCP_QUICKACK
	always bool
	early  int // quick ACKs after every read until more than early whole frames have been read
	fr     frameTracker
}

// handshakeFrames is the number of frames a client sends in the
// multiprocessing handshake (its digest, its challenge, '#WELCOME#').
const handshakeFrames = 3

func (q *quickAckReader) Read(p []byte) (int, error) {
	n, err := q.nc.Read(p)
	if n > 0 {
		q.fr.feed(p[:n])
		if q.always || q.fr.frames <= q.early || !q.fr.atBoundary() {
			q.arm()
		}
	}
	return n, err
}

// frameTracker follows the multiprocessing framing of a byte stream (a
// 4-byte big-endian length, or -1 and an 8-byte length, then the payload)
// without keeping any of it. It only steers quick ACKs: a client that sends
// something else gets them at other times, nothing worse.
type frameTracker struct {
	hdr    [12]byte
	nh     int    // header bytes read
	left   uint64 // payload bytes to come
	frames int    // whole frames read (it stops counting at a large value)
}

func (t *frameTracker) feed(b []byte) {
	for len(b) > 0 {
		if t.left > 0 {
			k := min(uint64(len(b)), t.left)
			t.left -= k
			b = b[k:]
			if t.left == 0 {
				t.frameDone()
			}
			continue
		}
		t.hdr[t.nh] = b[0]
		t.nh++
		b = b[1:]
		var n uint64
		switch {
		case t.nh == 4 && binary.BigEndian.Uint32(t.hdr[:4]) != 0xFFFFFFFF:
			n = uint64(binary.BigEndian.Uint32(t.hdr[:4]))
		case t.nh == 12:
			n = binary.BigEndian.Uint64(t.hdr[4:12])
		default:
			continue
		}
		t.nh = 0
		t.left = n
		if n == 0 {
			t.frameDone()
		}
	}
}

func (t *frameTracker) frameDone() {
	if t.frames < 1<<20 {
		t.frames++
	}
}

// atBoundary reports whether the bytes fed so far end with a whole frame.
func (t *frameTracker) atBoundary() bool { return t.nh == 0 && t.left == 0 }

// clientFacing returns the address the client reached the relay at, for the
// stream preamble, or nil when it has none that a client could dial.
func clientFacing(a net.Addr) net.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		if a.IP == nil || a.IP.IsUnspecified() {
			return nil
		}
		return a
	case *net.UnixAddr:
		if a.Name == "" {
			return nil
		}
		return a
	}
	return nil
}

// peerString makes a client address fit the preamble's peer field.
func peerString(s string) string {
	b := []byte(s)
	if len(b) > 255 {
		b = b[:255]
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Close stops the relay: it closes its listeners, the session and every
// client connection, and waits for its goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	for l := range r.listeners {
		l.Close()
	}
	var conns []net.Conn
	for c := range r.conns {
		conns = append(conns, c)
	}
	s := r.sess
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	if s != nil {
		s.Close()
	}
	r.wg.Wait()
	r.failures.Stop()
	return nil
}
