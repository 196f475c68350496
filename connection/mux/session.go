package mux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/hashicorp/yamux"
	"github.com/sirupsen/logrus"
)

// ErrSessionClosed is returned (wrapped) by operations on a closed
// [Session] and its streams.
var ErrSessionClosed = errors.New("mux: session closed")

// Session is one mutually authenticated TLS connection carrying a yamux
// session: on the client ([Dial]) it opens streams, on the server
// ([Listener]) its streams are accepted. A Session is safe for concurrent
// use.
type Session struct {
	ys     *yamux.Session
	tc     *recConn
	cfg    *config
	server bool
	log    logrus.FieldLogger

	failOnce sync.Once
	failErr  error
}

// recConn is the session's TLS connection; it keeps the first read or
// write error (yamux keeps it to itself), which says why a session ended.
type recConn struct {
	*tls.Conn
	mu   sync.Mutex
	rerr error
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

// note keeps err as the reason the session ended, unless one is known.
func (c *recConn) note(err error) {
	c.mu.Lock()
	if c.rerr == nil {
		c.rerr = err
	}
	c.mu.Unlock()
}

func (c *recConn) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rerr
}

func newSession(tc *recConn, cfg *config, server bool) (*Session, error) {
	s := &Session{tc: tc, cfg: cfg, server: server}
	var err error
	rw := newCoalescer(tc, tc.note)
	if server {
		s.ys, err = yamux.Server(rw, cfg.yamux)
	} else {
		s.ys, err = yamux.Client(rw, cfg.yamux)
	}
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("mux: %w", err)
	}
	s.log = cfg.log.WithField("session", tc.RemoteAddr().String())
	return s, nil
}

// Dial connects to a mux [Listener] at address ("host:port"; network is
// "tcp", "tcp4" or "tcp6"), runs the TLS handshake with the client
// certificate of cfg.TLS and starts a yamux session. ctx and
// Config.HandshakeTimeout bound the dial and the handshake. When
// cfg.TLS.ServerName is empty, the host of address is the name the
// server's certificate must hold.
func Dial(ctx context.Context, network, address string, cfg *Config) (*Session, error) {
	c, err := newConfig(cfg, false)
	if err != nil {
		return nil, err
	}
	if c.tls.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("mux: dial %s: %w", address, err)
		}
		c.tls.ServerName = host
	}
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	defer cancel()
	d := tls.Dialer{Config: c.tls}
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("mux: dial %s: %w", address, err)
	}
	s, err := newSession(&recConn{Conn: nc.(*tls.Conn)}, c, false)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// In TLS 1.3 the server verifies the client's certificate after the
	// client has finished its handshake: a refusal arrives as an alert on
	// the first read. One ping makes it arrive here, as Dial's error.
	pinged := make(chan error, 1)
	go func() { _, err := s.ys.Ping(); pinged <- err }()
	select {
	case err = <-pinged:
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	if err != nil {
		s.Close()
		if rerr := s.tc.readErr(); rerr != nil {
			err = rerr
		}
		return nil, fmt.Errorf("mux: session with %s refused: %w", address, err)
	}
	return s, nil
}

// Open opens a stream and sends its preamble, which describes it to the
// server (see [StreamInfo]). It costs no round trip: the stream's first
// frames leave at once, the server's acknowledgement is not awaited. ctx
// bounds the wait when Config.AcceptBacklog streams are already waiting for
// their acknowledgement.
func (s *Session) Open(ctx context.Context, info StreamInfo) (*Stream, error) {
	pre, err := info.AppendPreamble(make([]byte, 0, 64))
	if err != nil {
		return nil, err
	}
	type opened struct {
		st  *yamux.Stream
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		st, err := s.ys.OpenStream()
		ch <- opened{st, err}
	}()
	var o opened
	select {
	case o = <-ch:
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.st != nil {
				o.st.Close()
			}
		}()
		return nil, fmt.Errorf("mux: open stream: %w", context.Cause(ctx))
	}
	if o.err != nil {
		return nil, s.openErr(o.err)
	}
	st := newStream(o.st, s, false, info)
	if _, err := st.Write(pre); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (s *Session) openErr(err error) error {
	if errors.Is(err, yamux.ErrConnectionWriteTimeout) {
		s.fail(err)
	}
	if errors.Is(err, yamux.ErrSessionShutdown) || errors.Is(err, yamux.ErrConnectionWriteTimeout) || errors.Is(err, yamux.ErrRemoteGoAway) {
		return fmt.Errorf("mux: open stream: %w: %w", err, ErrSessionClosed)
	}
	return fmt.Errorf("mux: open stream: %w", err)
}

// DialContext opens a pre-authenticated stream that names network and
// address (when address is an IP and port, or a Unix path) as the address
// the client knows the server by. It has the signature of
// managers.ClientConfig.Dialer: a Go client over a session skips the
// multiprocessing handshake (the session's certificate authenticates it),
// so the server's listener must trust pre-authenticated streams. To run the
// handshake end to end instead, use Open with PreAuthenticated false.
func (s *Session) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	info := StreamInfo{PreAuthenticated: true}
	if network == "" {
		network = "tcp"
		if strings.HasPrefix(address, "@") || strings.Contains(address, "/") {
			network = "unix"
		}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		if ta, err := net.ResolveTCPAddr(network, address); err == nil && ta.IP != nil {
			info.Address = ta
		}
	case "unix":
		if address != "" {
			info.Address = &net.UnixAddr{Name: address, Net: "unix"}
		}
	}
	st, err := s.Open(ctx, info)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Done is closed when the session has ended (closed by either side, or
// failed: a broken connection, a missed keep-alive, a write timeout).
func (s *Session) Done() <-chan struct{} { return s.ys.CloseChan() }

// Err returns why the session ended, or nil while it is open.
func (s *Session) Err() error {
	select {
	case <-s.ys.CloseChan():
	default:
		return nil
	}
	s.failOnce.Do(func() {})
	if s.failErr != nil {
		return s.failErr
	}
	if rerr := s.tc.readErr(); rerr != nil {
		return fmt.Errorf("%w: %w", ErrSessionClosed, rerr)
	}
	return ErrSessionClosed
}

// NumStreams returns the number of open streams.
func (s *Session) NumStreams() int { return s.ys.NumStreams() }

// LocalAddr returns the local address of the session's TCP connection.
func (s *Session) LocalAddr() net.Addr { return s.tc.LocalAddr() }

// RemoteAddr returns the remote address of the session's TCP connection.
func (s *Session) RemoteAddr() net.Addr { return s.tc.RemoteAddr() }

// PeerCertificateSubject returns the subject of the peer's leaf
// certificate (the client's, on the server), for logs.
func (s *Session) PeerCertificateSubject() string {
	st := s.tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return ""
	}
	return st.PeerCertificates[0].Subject.String()
}

// Close closes the session and all its streams at once. Frames already
// written by its streams are sent first, unless the peer has not read them
// within a second.
func (s *Session) Close() error {
	return s.ys.Close()
}

// fail closes the session after an error that leaves it unreliable.
func (s *Session) fail(err error) {
	first := false
	s.failOnce.Do(func() {
		s.failErr = fmt.Errorf("%w: %w", ErrSessionClosed, err)
		first = true
	})
	if first {
		s.log.WithField("err", err.Error()).Warn("mux: closing session after a failed write")
	}
	s.ys.Close()
}
