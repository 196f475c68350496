package managers

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
)

// DefaultMaxFrameSize is the request size limit of [Server.ListenAndServe] when
// Server.MaxFrameSize is 0.
const DefaultMaxFrameSize = 64 << 20

// Server is a multiprocessing manager server (CPython's multiprocessing.managers.Server) that
// hosts Go objects. The zero value is a valid configuration (no typeids, no authentication key,
// default limits); set the fields before calling Serve and do not change them afterwards.
//
// A Server is safe for concurrent use. Each accepted connection is served by its own goroutine
// (the one that authenticated it), so a blocking method blocks only its own connection; a call
// that runs longer than a few milliseconds gets a second, short-lived goroutine that watches
// for the peer going away.
type Server struct {
	// AuthKey is the manager's authentication key, used by ListenAndServe. nil means no
	// handshake (CPython servers always have a key; Python clients need one too).
	AuthKey []byte

	// Registry holds the typeids clients may create. nil: an empty registry.
	Registry *Registry

	// Logger receives connection events and failures that have no caller to return to
	// (fields remote, typeid, ident, method, err). nil discards.
	Logger logrus.FieldLogger

	// HandshakeTimeout bounds the authentication handshake of connections accepted by
	// ListenAndServe. 0: connection.DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// MaxFrameSize limits the size of a request for ListenAndServe; a larger request
	// disconnects its peer. 0: DefaultMaxFrameSize; negative: no limit. (Serve uses the
	// limit of the listener's own connection.Config.)
	MaxFrameSize int

	// MaxConnections limits the connections served at once; excess connections are closed
	// right after they are accepted, with a log line. 0: no limit.
	MaxConnections int

	initOnce sync.Once
	tab      *table
	baseCtx  context.Context
	cancel   context.CancelFunc

	mu        sync.Mutex
	closing   atomic.Bool // set (once) with mu held; read without it by connIdle
	listeners map[*connection.Listener]struct{}
	conns     map[*serverConn]struct{}
	wg        sync.WaitGroup // serving goroutines
	drained   chan struct{}  // signalled when a conn goes idle or ends during Shutdown
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.tab = newTable()
		s.baseCtx, s.cancel = context.WithCancel(context.Background())
		s.listeners = map[*connection.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
		s.drained = make(chan struct{}, 1)
	})
}

func (s *Server) log() logrus.FieldLogger {
	if s.Logger == nil {
		return discardLogger
	}
	return s.Logger
}

var discardLogger = func() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.PanicLevel)
	return l
}()

func (s *Server) registry() *Registry {
	if s.Registry == nil {
		return emptyRegistry
	}
	return s.Registry
}

var emptyRegistry = NewRegistry()

// ListenAndServe listens on network/address (see connection.Listen and
// connection.ParseAddress: "host:port" is TCP, "/path" a Unix socket, "@name" an abstract
// socket; an empty network is derived from the address) with the server's key and limits, and
// serves. It returns [ErrServerClosed] after Shutdown or Close.
func (s *Server) ListenAndServe(network, address string) error {
	s.init()
	if s.isClosing() {
		return ErrServerClosed
	}
	max := s.MaxFrameSize
	if max == 0 {
		max = DefaultMaxFrameSize
	} else if max < 0 {
		max = 0
	}
	l, err := connection.Listen(network, address, &connection.Config{
		AuthKey:          s.AuthKey,
		HandshakeTimeout: s.HandshakeTimeout,
		MaxFrameSize:     max,
		Logger:           s.Logger,
		OnHandshakeError: func(remote net.Addr, err error) {
			s.log().WithFields(logrus.Fields{"remote": addrString(remote), "err": err.Error()}).Warn("managers: handshake failed")
		},
	})
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine. l authenticates
// connections with its own configuration (key, handshake timeout, frame size limit). Serve
// takes ownership of l and closes it on return. It always returns a non-nil error: after
// Shutdown, Close, or a client's 'shutdown' request, [ErrServerClosed].
func (s *Server) Serve(l *connection.Listener) error {
	s.init()
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	s.log().WithField("addr", l.Addr().String()).Debug("managers: serving")
	// Each connection is served by the goroutine that authenticated it (see
	// connection.Listener.Serve); the listener retries transient accept failures itself.
	err := l.Serve(s.serveConn)
	if s.isClosing() {
		return ErrServerClosed
	}
	return err
}

// serveConn registers c and serves it in the calling goroutine (or refuses it).
func (s *Server) serveConn(c *connection.Conn) {
	remote := addrString(c.RemoteAddr())
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	if s.MaxConnections > 0 && len(s.conns) >= s.MaxConnections {
		s.mu.Unlock()
		s.log().WithField("remote", remote).Warnf("managers: refusing connection: %d connections already served (MaxConnections)", s.MaxConnections)
		c.Close()
		return
	}
	sc := newServerConn(s, c, remote)
	s.conns[sc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	sc.log.Debug("managers: connection accepted")
	sc.serve()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (s *Server) isClosing() bool { return s.closing.Load() }

// stop marks the server closing and closes its listeners and its idle connections (all
// connections, and cancels every call's context, when force is set). It does not wait.
func (s *Server) stop(force bool) {
	s.init()
	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	var toClose []*serverConn
	for c := range s.conns {
		if force || c.idle.Load() {
			toClose = append(toClose, c)
		}
	}
	s.mu.Unlock()
	if force {
		s.cancel()
	}
	for _, c := range toClose {
		c.close()
	}
}

// Shutdown stops the server gracefully, like http.Server.Shutdown: it closes the listeners,
// closes idle connections, waits for the method calls in flight to finish (closing each
// connection when its call is done), and returns once every connection goroutine has ended.
// If ctx ends first, the remaining connections are closed and their calls' contexts
// cancelled; Shutdown then waits for their goroutines and returns ctx.Err(). Serve returns
// [ErrServerClosed] at once. Shutdown may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop(false)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return nil
		case <-s.drained:
			s.stop(false) // close connections that went idle since
		case <-ctx.Done():
			s.stop(true)
			<-done
			return ctx.Err()
		}
	}
}

// Close stops the server at once: it closes the listeners and every connection and cancels
// the contexts of the calls in flight, then waits for the connection goroutines to end.
func (s *Server) Close() error {
	s.stop(true)
	s.wg.Wait()
	return nil
}

// connIdle records whether c waits for a request. It reports false when c must stop instead
// (the server is closing and c is idle). It takes no lock: c stores idle before it loads
// closing, and stop stores closing before it loads each idle, so either c sees closing or stop
// sees c idle and closes it (or both).
func (s *Server) connIdle(c *serverConn, idle bool) bool {
	c.idle.Store(idle)
	return !idle || !s.closing.Load()
}

// connDone unregisters c.
func (s *Server) connDone(c *serverConn) {
	s.mu.Lock()
	delete(s.conns, c)
	closing := s.closing.Load()
	s.mu.Unlock()
	if closing {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
	s.wg.Done()
}
