package mux

import (
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/internal/ratelog"
)

// Listener accepts mutually authenticated TLS sessions and yields their
// streams: it is a [net.Listener] whose Accept returns *[Stream]s, so
// connection.NewListener serves it like a socket listener (with
// connection.Config.TrustPreAuthenticated to honour pre-authenticated
// streams).
//
// Nothing blocks the accept paths: each TCP connection runs its TLS
// handshake in its own goroutine (bounded by Config.HandshakeTimeout), and
// each session has a goroutine that accepts (and so acknowledges) its
// streams as they are opened; a stream's preamble is read later, by whoever
// uses the stream. A stream that is never accepted would close its session
// after the opener's StreamOpenTimeout. Connections in their TLS handshake
// are bounded (Config.MaxHandshakes): at the bound the oldest is closed to
// admit the new one, so idle sockets cannot keep a relay out. A client
// whose certificate is not
// signed by one of Config.TLS.ClientCAs fails the TLS handshake and never
// gets a session; such failures are logged in summary, like the
// multiprocessing handshake failures of connection.Listener.
//
// A Listener is safe for concurrent use.
type Listener struct {
	nl  net.Listener
	cfg *config

	streams chan *Stream
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // accept loop and TLS handshakes

	failures *ratelog.Aggregator

	mu       sync.Mutex
	pending  *list.List // connections in their TLS handshake, oldest first
	sessions map[*Session]struct{}
	loopErr  error
	exited   chan struct{}
}

// Listen listens for TCP connections on address ("host:port"; network
// "tcp", "tcp4" or "tcp6") and accepts sessions on them per cfg.
func Listen(network, address string, cfg *Config) (*Listener, error) {
	c, err := newConfig(cfg, true)
	if err != nil {
		return nil, err
	}
	nl, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("mux: listen: %w", err)
	}
	return newListener(nl, c), nil
}

// NewListener accepts sessions on the connections of nl, which it takes
// ownership of.
func NewListener(nl net.Listener, cfg *Config) (*Listener, error) {
	c, err := newConfig(cfg, true)
	if err != nil {
		return nil, err
	}
	return newListener(nl, c), nil
}

func newListener(nl net.Listener, c *config) *Listener {
	l := &Listener{
		nl:       nl,
		cfg:      c,
		streams:  make(chan *Stream),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
		sessions: map[*Session]struct{}{},
		pending:  list.New(),
	}
	var flog logrus.FieldLogger
	if c.user {
		flog = c.log
	}
	l.failures = ratelog.New(flog, logrus.WarnLevel, "mux: TLS handshake failed", 0)
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	defer close(l.exited)
	var backoff time.Duration
	for {
		nc, err := l.nl.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				l.mu.Lock()
				l.loopErr = err
				l.mu.Unlock()
				return
			}
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff *= 2; backoff > time.Second {
				backoff = time.Second
			}
			l.cfg.log.WithField("err", err).Warnf("mux: accept failed; retrying in %v", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		l.wg.Add(1)
		l.mu.Lock()
		e := l.pending.PushBack(nc)
		var victim net.Conn
		if l.pending.Len() > l.cfg.MaxHandshakes {
			victim = l.pending.Remove(l.pending.Front()).(net.Conn)
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close() // shed the oldest handshake
		}
		go l.handshake(nc, e)
	}
}

// handshake runs the TLS handshake of nc and, if it succeeds, serves the
// session.
func (l *Listener) handshake(nc net.Conn, e *list.Element) {
	defer l.wg.Done()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	tc := tls.Server(nc, l.cfg.tls)
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.HandshakeTimeout)
	go func() { // Close interrupts the handshake
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := tc.HandshakeContext(ctx)
	cancel()
	l.mu.Lock()
	l.pending.Remove(e) // (no-op if it was shed)
	l.mu.Unlock()
	if err != nil {
		tc.Close()
		select {
		case <-l.done:
			return
		default:
		}
		l.failures.Event(ratelog.IP(nc.RemoteAddr()), tlsFailureReason(err), logrus.Fields{"remote": nc.RemoteAddr().String(), "err": err.Error()})
		return
	}
	s, err := newSession(&recConn{Conn: tc}, l.cfg, true)
	if err != nil {
		tc.Close()
		l.cfg.log.WithField("err", err).Error("mux: starting session")
		return
	}
	l.mu.Lock()
	select {
	case <-l.done:
		l.mu.Unlock()
		s.Close()
		return
	default:
	}
	l.sessions[s] = struct{}{}
	l.mu.Unlock()
	s.log.WithField("client", s.PeerCertificateSubject()).Info("mux: session opened")
	// The session's stream loop belongs to the session, not to the Listener:
	// it ends with the session.
	go l.serveSession(s)
}

// tlsFailureReason classifies a failed TLS handshake for the summary.
func tlsFailureReason(err error) string {
	var ae tls.AlertError
	var re tls.RecordHeaderError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ce):
		return "certificate"
	case errors.As(err, &ae):
		return "alert"
	case errors.As(err, &re):
		return "not_tls"
	}
	if s := err.Error(); strings.Contains(s, "certificate") || strings.Contains(s, "client didn't provide") {
		return "certificate"
	}
	return "other"
}

// serveSession accepts the streams of s until it ends. Accepting a stream
// acknowledges it at once; the stream is then handed to Accept.
func (l *Listener) serveSession(s *Session) {
	defer func() {
		l.mu.Lock()
		delete(l.sessions, s)
		l.mu.Unlock()
		s.log.WithField("err", errString(s.Err())).Info("mux: session closed")
	}()
	for {
		st, err := s.ys.AcceptStream()
		if err != nil {
			s.ys.Close()
			return
		}
		select {
		case l.streams <- newStream(st, s, true, StreamInfo{}):
		case <-l.done: // (Close has sent the session a go-away)
			st.Close()
		case <-s.Done():
			st.Close()
			return
		}
	}
}

// closeWhenIdle closes a session of a closed Listener once it carries no
// stream. It polls: a yamux session has no notification for that.
func closeWhenIdle(s *Session) {
	_ = s.ys.GoAway()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if s.NumStreams() == 0 {
			s.Close()
			return
		}
		select {
		case <-t.C:
		case <-s.Done():
			return
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Accept returns the next stream of any session.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case st := <-l.streams:
		return st, nil
	case <-l.done:
		return nil, fmt.Errorf("mux: accept: %w", net.ErrClosed)
	case <-l.exited:
		l.mu.Lock()
		err := l.loopErr
		l.mu.Unlock()
		if err == nil {
			err = net.ErrClosed
		}
		return nil, fmt.Errorf("mux: accept: %w", err)
	}
}

// Close stops accepting sessions and streams, and waits for the TLS
// handshakes in progress to end. Sessions stop taking new streams (a yamux
// go-away) and close once their open streams are closed: like the
// connections a socket listener accepted, streams already accepted stay
// open. [Listener.CloseSessions] closes them at once.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = l.nl.Close()
		l.wg.Wait()
		l.failures.Stop()
		l.mu.Lock()
		for s := range l.sessions {
			// Streams still open keep their session; it closes with the last.
			go closeWhenIdle(s)
		}
		l.mu.Unlock()
	})
	return l.closeErr
}

// CloseSessions closes every session and so every stream at once (a session
// first waits, at most a second, for the frames it has not finished writing).
func (l *Listener) CloseSessions() {
	l.mu.Lock()
	ss := make([]*Session, 0, len(l.sessions))
	for s := range l.sessions {
		ss = append(ss, s)
	}
	l.mu.Unlock()
	// Together: each may wait (at most a second) for frames it has not
	// finished writing to a peer that does not read.
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() { s.Close() })
	}
	wg.Wait()
}

// Sessions returns the open sessions.
func (l *Listener) Sessions() []*Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := make([]*Session, 0, len(l.sessions))
	for s := range l.sessions {
		ss = append(ss, s)
	}
	return ss
}

// NumSessions returns the number of open sessions.
func (l *Listener) NumSessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions)
}

// Addr returns the listener's TCP address.
func (l *Listener) Addr() net.Addr { return l.nl.Addr() }
