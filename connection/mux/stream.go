package mux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
)

// Stream is one stream of a [Session]: a [net.Conn] carrying one
// multiprocessing connection. On the server (from [Listener.Accept]) it
// starts with the opener's preamble, which is read on first use, by
// [Stream.PreAuthenticated] (as connection.Listener calls it, under its
// handshake timeout) or by the first Read; its [StreamInfo] then gives the
// stream's LocalAddr (the address the client knows the server by).
//
// Writes are split into yamux frames of at most [MaxWriteChunk] bytes.
// A write that fails with yamux.ErrConnectionWriteTimeout closes the whole
// session: after it, yamux's stream state is unreliable. Deadline errors
// wrap [os.ErrDeadlineExceeded], as a socket's do.
//
// A Stream is safe for concurrent use as a net.Conn is: one reader and one
// writer at a time, Close and the deadline setters from any goroutine.
type Stream struct {
	st     *yamux.Stream
	sess   *Session
	server bool

	once    sync.Once
	info    StreamInfo
	infoErr error
	read    atomic.Bool // once has run: info and infoErr are set

	pmu    sync.Mutex
	peeked []byte // read by WaitPeerGone, returned first by Read
}

func newStream(st *yamux.Stream, sess *Session, server bool, info StreamInfo) *Stream {
	s := &Stream{st: st, sess: sess, server: server, info: info}
	if !server {
		s.once.Do(func() { s.read.Store(true) })
	}
	return s
}

// readPreamble reads the server stream's preamble once.
func (s *Stream) readPreamble() error {
	s.once.Do(func() {
		s.info, s.infoErr = ReadPreamble(readerFunc(s.st.Read))
		if s.infoErr != nil {
			s.infoErr = s.mapErr(s.infoErr)
		}
		s.read.Store(true)
	})
	return s.infoErr
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// PreAuthenticated reports whether the stream's opener authenticated the
// multiprocessing client itself (see [StreamInfo]); on the server it reads
// the preamble first. It implements connection.PreAuthenticator: a
// connection.Listener with TrustPreAuthenticated skips the handshake of such
// a stream. Every session's client certificate has been verified against the
// server's ClientCAs before any of its streams is accepted.
func (s *Stream) PreAuthenticated() (bool, error) {
	if err := s.readPreamble(); err != nil {
		return false, err
	}
	return s.info.PreAuthenticated, nil
}

// Info returns what the stream's opener said about it (on the server, after
// reading the preamble).
func (s *Stream) Info() (StreamInfo, error) {
	err := s.readPreamble()
	return s.info, err
}

// Session returns the session the stream belongs to.
func (s *Stream) Session() *Session { return s.sess }

// Read reads stream data (on the server, after the preamble).
func (s *Stream) Read(p []byte) (int, error) {
	if err := s.readPreamble(); err != nil {
		return 0, err
	}
	s.pmu.Lock()
	if len(s.peeked) > 0 {
		n := copy(p, s.peeked)
		s.peeked = s.peeked[n:]
		s.pmu.Unlock()
		return n, nil
	}
	s.pmu.Unlock()
	n, err := s.st.Read(p)
	if err != nil {
		err = s.mapErr(err)
	}
	return n, err
}

// WaitPeerGone waits until the peer closes the stream or the session ends
// (true), or data arrives (false; kept for the next Read), or the read
// deadline passes (an error wrapping os.ErrDeadlineExceeded). It implements
// connection.PeerWatcher: a manager server cancels a blocking call whose
// client went away. It must not run concurrently with Read.
func (s *Stream) WaitPeerGone() (bool, error) {
	if err := s.readPreamble(); err != nil {
		return true, nil
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if len(s.peeked) > 0 {
		return false, nil
	}
	var b [1]byte
	n, err := s.st.Read(b[:])
	if n > 0 {
		s.peeked = append(s.peeked, b[0])
		return false, nil
	}
	if errors.Is(err, yamux.ErrTimeout) {
		return false, s.mapErr(err)
	}
	return true, nil
}

// Write writes p in chunks of at most [MaxWriteChunk] bytes.
func (s *Stream) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		end := min(len(p), n+MaxWriteChunk)
		m, err := s.st.Write(p[n:end])
		n += m
		if err != nil {
			return n, s.mapErr(err)
		}
	}
	return n, nil
}

// Close closes the stream (a FIN to the peer; a stream the peer does not
// close in turn is reset after Config.StreamCloseTimeout).
func (s *Stream) Close() error {
	err := s.st.Close()
	if err != nil && !errors.Is(err, yamux.ErrSessionShutdown) && !errors.Is(err, yamux.ErrStreamClosed) {
		return s.mapErr(err)
	}
	return nil
}

// known reports whether the preamble has been read, and read well. The
// address methods use it: they never wait for the preamble (a
// connection.Listener asks for RemoteAddr in its accept loop).
func (s *Stream) known() bool { return s.read.Load() && s.infoErr == nil }

// LocalAddr is, on the server, the address the client knows the server by
// (StreamInfo.Address) when the opener named one, else the session's local
// address; on the client, the session's local address. On the server it is
// final once the preamble has been read (by PreAuthenticated, Info or Read).
func (s *Stream) LocalAddr() net.Addr {
	if s.server && s.known() && s.info.Address != nil {
		return s.info.Address
	}
	return s.sess.LocalAddr()
}

// RemoteAddr is an [Addr] naming the session's peer, the stream and, on the
// server, the opener's client (StreamInfo.Peer). It is not a *net.TCPAddr:
// per-address limits apply to sessions, not to their streams.
func (s *Stream) RemoteAddr() net.Addr {
	a := &Addr{Session: s.sess.RemoteAddr().String(), Stream: s.st.StreamID()}
	if s.server && s.known() {
		a.Peer = s.info.Peer
	}
	return a
}

// SetDeadline sets the read and write deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.st.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.st.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline: it bounds a write that waits for
// the peer's window, as a socket's bounds a write into a full buffer.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.st.SetWriteDeadline(t) }

// mapErr turns yamux errors into the errors code written for sockets
// expects, and closes the session after a connection write timeout.
func (s *Stream) mapErr(err error) error {
	switch {
	case err == io.EOF:
		return err
	case errors.Is(err, yamux.ErrTimeout):
		return fmt.Errorf("mux: stream %d: %w", s.st.StreamID(), os.ErrDeadlineExceeded)
	case errors.Is(err, yamux.ErrConnectionWriteTimeout):
		s.sess.fail(err)
		return fmt.Errorf("mux: stream %d: %w: %w", s.st.StreamID(), err, ErrSessionClosed)
	case errors.Is(err, yamux.ErrSessionShutdown), errors.Is(err, yamux.ErrStreamClosed):
		return fmt.Errorf("mux: stream %d: %w: %w", s.st.StreamID(), err, net.ErrClosed)
	case errors.Is(err, yamux.ErrConnectionReset):
		return fmt.Errorf("mux: stream %d: %w: %w", s.st.StreamID(), err, syscall.ECONNRESET)
	}
	return err
}

// Addr is the remote address of a [Stream].
type Addr struct {
	Session string // the session's remote address
	Stream  uint32 // the stream's yamux ID
	Peer    string // the opener's client, if it named one
}

// Network returns "mux".
func (a *Addr) Network() string { return "mux" }

// String returns "SESSION#STREAM", followed by "/PEER" when there is a peer.
func (a *Addr) String() string {
	s := fmt.Sprintf("%s#%d", a.Session, a.Stream)
	if a.Peer != "" {
		s += "/" + a.Peer
	}
	return s
}
