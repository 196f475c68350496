package managers

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/ratelog"
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

	// The limits below apply to the listener of ListenAndServe (Serve uses those of its
	// listener's own connection.Config, which has the same fields and defaults). 0 always means
	// the documented default; see connection.Config for the details of each.

	// HandshakeTimeout bounds the authentication handshake of each accepted connection.
	// 0: connection.DefaultHandshakeTimeout (5 s).
	HandshakeTimeout time.Duration

	// MaxUnauthenticated bounds the connections still in their handshake; at the bound the
	// oldest is shed to admit a new one. 0: connection.DefaultMaxUnauthenticated() (three quarters of the
	// file-descriptor limit, at least 1024); negative: no bound.
	MaxUnauthenticated int

	// MaxUnauthenticatedPerAddress bounds the same per remote IP. 0:
	// connection.DefaultMaxUnauthenticatedPerAddress (256); negative: no bound.
	MaxUnauthenticatedPerAddress int

	// WriteTimeout is the slow-reader cut: a reply whose write makes no progress for this long
	// disconnects its client. 0: connection.DefaultWriteTimeout (10 s); negative: none.
	WriteTimeout time.Duration

	// KeepAlive is the TCP keep-alive interval of authenticated connections (there is no idle
	// timeout: method connections legitimately sit idle for hours). 0:
	// connection.DefaultKeepAlive (15 s); negative: off.
	KeepAlive time.Duration

	// MaxFrameSize limits the size of a request for ListenAndServe; a larger request
	// disconnects its peer. 0: DefaultMaxFrameSize; negative: no limit. (Serve uses the
	// limit of the listener's own connection.Config.)
	MaxFrameSize int

	// MaxConnections limits the authenticated connections served at once. A connection over
	// the limit has its first request answered with a '#TRACEBACK' naming the limit (a
	// RemoteError in Python) and is closed; refusals are logged in summary. It applies to Serve
	// too. 0: no limit (beyond file descriptors).
	MaxConnections int

	// ReclaimAfter, when positive, releases the objects of clients that died without sending
	// their decrefs (a process killed with SIGKILL never sends them; CPython keeps such objects
	// forever, gh-81158). An object is released once every connection that used it (created
	// it, incref'd or decref'd it, called its methods, passed or received a proxy of it) has
	// closed and ReclaimAfter has passed since the last of them closed (a request naming it
	// makes its connection a user again). Releasing drops all the clients' references at once,
	// as if every outstanding decref had arrived (references taken through Server.Create and
	// Server.Incref stay), and logs one line (Info: typeid, ident, and the refcount dropped).
	// One sweeper runs every ReclaimAfter/2, so an object goes between ReclaimAfter and 1.5
	// ReclaimAfter after its last use; a sweep visits only the objects that are due, so objects
	// in use cost it nothing. The entry of a [Singleton] (an object the server holds itself) is
	// not forgotten, only its refcount: it keeps its ident and proxies to it keep working.
	//
	// It can release an object that a live client still holds, because a proxy keeps no
	// connection open until it calls a method. A CPython proxy opens its thread's method
	// connection on its first method call (one connection per thread and server, shared by
	// all the proxies of that thread); create, incref and decref use one-shot connections that
	// close at once. So a proxy that was created or received (unpickled) but never called, a
	// proxy whose only calls came from a thread that has ended, or any proxy of a process
	// without a method connection uses no connection; if it also goes unnamed for
	// ReclaimAfter, its object is released and its next call fails with a KeyError (a
	// RemoteError in Python). That includes the moment between a proxy's creation and its
	// first call: a client stopped there for longer than ReclaimAfter (SIGSTOP, a debugger, an
	// overloaded host) loses the object. A proxy called at least once from a thread whose
	// connection is still open is safe however long it stays idle. The Go [Client] is the same:
	// its proxies count through the pooled connections they were called on, and the pool closes
	// connections beyond ClientConfig.MaxIdleConns. Choose ReclaimAfter longer than any client
	// keeps a proxy it has not called yet (minutes or hours, not seconds). See the README,
	// "Objects of dead clients".
	//
	// 0 (or negative): off, the default; nothing is recorded and no sweeper runs. Set it before
	// the first Serve (or any other use of the Server).
	ReclaimAfter time.Duration

	initOnce sync.Once
	refused  *ratelog.Aggregator // MaxConnections refusals
	dropped  *ratelog.Aggregator // connections dropped for a bad frame (oversized, cut short, ...)
	stats    *serverStats
	tab      *table
	baseCtx  context.Context
	cancel   context.CancelFunc

	mu        sync.Mutex
	closing   atomic.Bool // set (once) with mu held; read without it by connIdle
	listeners map[*connection.Listener]struct{}
	conns     map[*serverConn]struct{}
	wg        sync.WaitGroup // serving goroutines and the sweeper
	drained   chan struct{}  // signalled when a conn goes idle or ends during Shutdown

	sweepStop    chan struct{} // closed to stop the sweeper (ReclaimAfter); nil: not started
	sweepStopped bool
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.tab = newTable()
		s.stats = newServerStats()
		s.tab.reclaim = s.ReclaimAfter > 0
		s.baseCtx, s.cancel = context.WithCancel(context.Background())
		s.listeners = map[*connection.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
		s.drained = make(chan struct{}, 1)
		var log logrus.FieldLogger
		if s.Logger != nil {
			log = s.Logger
		}
		s.refused = ratelog.New(log, logrus.WarnLevel, "managers: refusing connection over MaxConnections", 0)
		s.dropped = ratelog.New(log, logrus.InfoLevel, "managers: dropping connection", 0)
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
	// The listener logs handshake failures itself (summarised): no second line here.
	l, err := connection.Listen(network, address, &connection.Config{
		AuthKey:                      s.AuthKey,
		HandshakeTimeout:             s.HandshakeTimeout,
		MaxFrameSize:                 max,
		MaxUnauthenticated:           s.MaxUnauthenticated,
		MaxUnauthenticatedPerAddress: s.MaxUnauthenticatedPerAddress,
		WriteTimeout:                 s.WriteTimeout,
		KeepAlive:                    s.KeepAlive,
		OnHandshakeError:             s.HandshakeFailed,
		Logger:                       s.Logger,
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
	s.startSweeper()
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
		s.refuse(c, remote)
		return
	}
	sc := newServerConn(s, c, remote)
	s.conns[sc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	sc.log.Debug("managers: connection accepted")
	sc.serve()
}

// refuseReadTimeout bounds the wait for the first request of a connection refused over
// MaxConnections.
const refuseReadTimeout = 5 * time.Second

// refuse answers the first request of a connection over MaxConnections with a '#TRACEBACK'
// naming the limit, and closes it. The request is read first: closing a socket with unread
// data resets it, and the client would see a reset instead of the reason.
func (s *Server) refuse(c *connection.Conn, remote string) {
	defer c.Close()
	s.refused.Event(ratelog.IP(c.RemoteAddr()), "max_connections", logrus.Fields{"remote": remote, "limit": s.MaxConnections})
	_ = c.SetDeadline(time.Now().Add(refuseReadTimeout))
	frame, err := c.ReadFrame()
	if err != nil {
		return
	}
	sc := &serverConn{srv: s, c: c, remote: remote, log: s.log().WithField("remote", remote)}
	sc.dialect = detectDialect(frame)
	sc.ctx, sc.cancel = context.WithCancel(s.baseCtx)
	defer sc.cancel()
	sc.send(tracebackReply("serve_client", "if len(self.connections) >= self.max_connections: raise RuntimeError(...)",
		NewPyException("builtins", "RuntimeError", fmt.Sprintf("mpgo: too many connections: %d already served (MaxConnections)", s.MaxConnections))))
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
	s.stopSweeper()
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
	s.refused.Stop()
	s.dropped.Stop()
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
	s.tab.leave(&c.uses)
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
