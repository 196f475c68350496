package connection

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/internal/ratelog"
)

// Listener accepts connections and authenticates them, like Python's
// multiprocessing.connection.Listener. It has the [net.Listener] method set.
//
// Connections are accepted and authenticated in the background: every
// accepted connection starts its handshake at once, in its own goroutine,
// under [Config.HandshakeTimeout], so a slow or silent client never delays
// the others. There is no fixed pool of handshakes that idle peers could
// fill: the unauthenticated connections are bounded in total
// ([Config.MaxUnauthenticated]) and per remote address
// ([Config.MaxUnauthenticatedPerAddress]), and when a bound is reached the
// oldest of them is closed ("shed") to admit the new one. A real client
// needs milliseconds to authenticate, an attacker's idle socket waits for
// its timeout, so it is the attacker's sockets that are shed. When accept
// fails for lack of file descriptors, the oldest unauthenticated
// connection is shed too and accept is retried at once.
//
// Accept returns connections in the order their handshakes complete.
// Clients that fail the handshake are closed and reported to
// [Config.OnHandshakeError] and, summarised, to the logger (see
// [Config.FailureLogInterval]); Accept does not return their errors. [Listener.Serve] is the alternative to Accept that
// runs a handler in the handshake's goroutine. A Listener is safe for
// concurrent use.
type Listener struct {
	nl  net.Listener
	cfg *config

	handler atomic.Pointer[func(*Conn)] // set by Serve

	// lazyKeepAlive: the listener (made by Listen) leaves TCP keep-alive to us. Connections
	// returned by Accept get the net package's default keep-alive; connections given to a
	// Serve handler get it before they read their second frame, so that the many one-shot
	// connections of a manager (one request, then close) skip its four system calls.
	lazyKeepAlive bool

	ready  chan *Conn
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the accept loop returns

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // the accept loop and the handshakes

	failures *ratelog.Aggregator // handshake failures, summarised

	mu       sync.Mutex
	oldest   *pendingConn // connections being authenticated, oldest first
	newest   *pendingConn
	npending int
	byAddr   map[netip.Addr]*addrQueue // the same, per remote IP (TCP only)
	last     net.Addr
	loopErr  error
}

// pendingConn is an accepted connection in its handshake. It is on two
// lists, both in accept order: all pending connections, and those from
// its remote address. The links are guarded by Listener.mu.
type pendingConn struct {
	nc           net.Conn
	addr         netip.Addr // remote IP; invalid for non-TCP connections
	prev, next   *pendingConn
	aprev, anext *pendingConn
	removed      bool // off the lists (its handshake ended, or it was shed)
	shed         bool // closed to make room for a newer connection
}

// addrQueue is the list of one address's pending connections.
type addrQueue struct {
	oldest, newest *pendingConn
	n              int
}

// insert appends p to the lists. l.mu must be held.
func (l *Listener) insert(p *pendingConn) {
	p.prev = l.newest
	if l.newest != nil {
		l.newest.next = p
	} else {
		l.oldest = p
	}
	l.newest = p
	l.npending++
	if !p.addr.IsValid() {
		return
	}
	q := l.byAddr[p.addr]
	if q == nil {
		q = &addrQueue{}
		l.byAddr[p.addr] = q
	}
	p.aprev = q.newest
	if q.newest != nil {
		q.newest.anext = p
	} else {
		q.oldest = p
	}
	q.newest = p
	q.n++
}

// remove takes p off the lists. l.mu must be held.
func (l *Listener) remove(p *pendingConn) {
	if p.removed {
		return
	}
	p.removed = true
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		l.oldest = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		l.newest = p.prev
	}
	p.prev, p.next = nil, nil
	l.npending--
	if !p.addr.IsValid() {
		return
	}
	q := l.byAddr[p.addr]
	if p.aprev != nil {
		p.aprev.anext = p.anext
	} else {
		q.oldest = p.anext
	}
	if p.anext != nil {
		p.anext.aprev = p.aprev
	} else {
		q.newest = p.aprev
	}
	p.aprev, p.anext = nil, nil
	if q.n--; q.n == 0 {
		delete(l.byAddr, p.addr)
	}
}

// shed takes p off the lists and marks it shed; the caller closes p.nc
// (after releasing l.mu), which ends its handshake. l.mu must be held.
func (l *Listener) shed(p *pendingConn) *pendingConn {
	l.remove(p)
	p.shed = true
	return p
}

// admit makes room for one more unauthenticated connection from addr,
// shedding the oldest of that address and/or the oldest of all as the
// bounds require. It returns the connections to close. l.mu must be held.
func (l *Listener) admit(addr netip.Addr) (victims [2]*pendingConn) {
	if max := l.cfg.maxUnauthPerAddr; max > 0 && addr.IsValid() {
		if q := l.byAddr[addr]; q != nil && q.n >= max {
			victims[0] = l.shed(q.oldest)
		}
	}
	if max := l.cfg.maxUnauth; max > 0 && l.npending >= max && l.oldest != nil {
		victims[1] = l.shed(l.oldest)
	}
	return victims
}

// shedOldest closes the oldest unauthenticated connection, if there is
// one, to free a file descriptor.
func (l *Listener) shedOldest() bool {
	l.mu.Lock()
	p := l.oldest
	if p != nil {
		l.shed(p)
	}
	l.mu.Unlock()
	if p == nil {
		return false
	}
	p.nc.Close()
	return true
}

// Listen announces on the local network address and returns a Listener
// whose Accept yields authenticated connections. network is "tcp", "tcp4",
// "tcp6" or "unix"; a unix address is a filesystem path (removed again by
// Close) or, on Linux, an abstract name written "@name" or "\x00name". An
// empty network is derived from the address by [ParseAddress].
func Listen(network, address string, cfg *Config) (*Listener, error) {
	c, err := newConfig(cfg)
	if err != nil {
		return nil, err
	}
	if network == "" {
		network, address = ParseAddress(address)
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return nil, fmt.Errorf("connection: unsupported network %q (want tcp, tcp4, tcp6 or unix)", network)
	}
	address = normalizeUnix(network, address)
	// Keep-alive is set per connection once it is known to live (see lazyKeepAlive), not by
	// net at accept time.
	lc := net.ListenConfig{KeepAlive: -1}
	nl, err := lc.Listen(context.Background(), network, address)
	if err != nil {
		return nil, fmt.Errorf("connection: listen: %w", err)
	}
	return newListener(nl, c, network != "unix"), nil
}

// NewListener wraps an existing net.Listener (for example one with custom
// socket options) so that its connections are authenticated per cfg. The
// Listener takes ownership of nl.
func NewListener(nl net.Listener, cfg *Config) (*Listener, error) {
	c, err := newConfig(cfg)
	if err != nil {
		return nil, err
	}
	return newListener(nl, c, false), nil
}

func newListener(nl net.Listener, cfg *config, lazyKeepAlive bool) *Listener {
	l := &Listener{
		nl:            nl,
		cfg:           cfg,
		lazyKeepAlive: lazyKeepAlive,
		ready:         make(chan *Conn),
		done:          make(chan struct{}),
		exited:        make(chan struct{}),
		byAddr:        make(map[netip.Addr]*addrQueue),
	}
	var flog logrus.FieldLogger
	if cfg.userLogger {
		flog = cfg.Logger
	}
	l.failures = ratelog.New(flog, logrus.WarnLevel, "connection: handshake failed", cfg.FailureLogInterval)
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *Listener) log() logrus.FieldLogger { return l.cfg.Logger }

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
			// Out of file descriptors: the oldest unauthenticated connection
			// gives its own up, and accept is retried at once.
			if isFDExhaustion(err) && l.shedOldest() {
				continue
			}
			// Resource exhaustion (EMFILE, ...) and aborted connections are
			// transient: retry with backoff, as net/http does.
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff *= 2; backoff > time.Second {
				backoff = time.Second
			}
			l.log().WithField("err", err).Warnf("connection: accept failed; retrying in %v", backoff)
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
		p := &pendingConn{nc: nc, addr: ratelog.IP(nc.RemoteAddr())}
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			nc.Close()
			return
		default:
		}
		victims := l.admit(p.addr)
		l.insert(p)
		l.wg.Add(1)
		l.mu.Unlock()
		for _, v := range victims {
			if v != nil {
				v.nc.Close()
			}
		}
		go l.serveHandshake(p)
	}
}

// isFDExhaustion reports whether an accept error means the process or the
// system is out of file descriptors.
func isFDExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

func (l *Listener) serveHandshake(p *pendingConn) {
	nc := p.nc
	c := newConn(nc, l.cfg, true)
	pre, err := l.preAuthenticated(nc)
	if err == nil && !pre {
		err = c.handshake(context.Background(), true)
	}
	l.mu.Lock()
	shed := p.shed
	l.remove(p)
	l.mu.Unlock()
	if shed {
		// Shed while (or just after) authenticating: its socket is closed.
		err = fmt.Errorf("%w: %w", ErrAuthFailed, ErrShed)
	}
	if err != nil {
		defer l.wg.Done()
		nc.Close()
		select {
		case <-l.done:
			return // closed under us: not the client's fault
		default:
		}
		l.failures.Event(p.addr, FailureReason(err), logrus.Fields{"remote": addrString(nc.RemoteAddr()), "err": err.Error()})
		if h := l.cfg.OnHandshakeError; h != nil {
			h(nc.RemoteAddr(), err)
		}
		return
	}
	if h := l.handler.Load(); h != nil {
		// Serve: this goroutine becomes the connection's. It no longer
		// belongs to the listener, whose Close must not wait for it.
		if l.lazyKeepAlive {
			c.keepAliveAfter = 2
		}
		select {
		case <-l.done:
			l.wg.Done()
			c.Close()
			return
		default:
		}
		l.wg.Done()
		(*h)(c)
		return
	}
	defer l.wg.Done()
	if l.lazyKeepAlive {
		c.enableKeepAlive()
	}
	select {
	case l.ready <- c:
	case <-l.done:
		c.Close()
	}
}

// preAuthenticated asks a connection that implements [PreAuthenticator]
// whether its transport authenticated the peer, under the handshake timeout.
// A pre-authenticated connection is refused unless the Listener trusts them.
func (l *Listener) preAuthenticated(nc net.Conn) (bool, error) {
	pa, ok := nc.(PreAuthenticator)
	if !ok {
		return false, nil
	}
	if l.cfg.handshakeTimeout > 0 {
		_ = nc.SetDeadline(time.Now().Add(l.cfg.handshakeTimeout))
	}
	pre, err := pa.PreAuthenticated()
	_ = nc.SetDeadline(time.Time{})
	switch {
	case err != nil:
		return false, fmt.Errorf("%w: %w", ErrAuthFailed, err)
	case pre && !l.cfg.TrustPreAuthenticated:
		return false, authErr("pre-authenticated connection on a listener that does not trust them (Config.TrustPreAuthenticated)")
	}
	return pre, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Accept waits for the next authenticated connection and returns it as a
// [net.Conn] whose dynamic type is *[Conn]. After Close it returns an error
// wrapping [ErrClosed].
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptConn()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptConn is [Listener.Accept] returning the *[Conn] type.
func (l *Listener) AcceptConn() (*Conn, error) {
	select {
	case c := <-l.ready:
		l.mu.Lock()
		l.last = c.RemoteAddr()
		l.mu.Unlock()
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	case <-l.exited:
		select {
		case <-l.done:
			return nil, ErrClosed
		default:
		}
		l.mu.Lock()
		err := l.loopErr
		l.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return nil, fmt.Errorf("connection: accept: %w", err)
	}
}

// Serve calls handler for every authenticated connection until l is closed,
// like [net/http.Serve] with its "go c.serve()", except that handler runs in
// the goroutine that has just authenticated the connection: a connection
// passes through no other goroutine (no hand-off through Accept), which
// makes short-lived connections cheaper. handler owns the connection and
// must close it; handlers run concurrently and keep running after Close.
//
// Serve returns an error wrapping [ErrClosed] after Close, or the failure
// that stopped the accept loop. It may be called only once, and Accept must
// not be used alongside it (a connection Accept took would miss handler).
func (l *Listener) Serve(handler func(*Conn)) error {
	if handler == nil {
		return errors.New("connection: Serve with a nil handler")
	}
	if !l.handler.CompareAndSwap(nil, &handler) {
		return errors.New("connection: Serve called twice")
	}
	for {
		// Handshakes that finished before the handler was set wait here.
		c, err := l.AcceptConn()
		if err != nil {
			return err
		}
		go handler(c)
	}
}

// AcceptContext is [Listener.AcceptConn] ended early by ctx.
func (l *Listener) AcceptContext(ctx context.Context) (*Conn, error) {
	select {
	case c := <-l.ready:
		l.mu.Lock()
		l.last = c.RemoteAddr()
		l.mu.Unlock()
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, ErrClosed
	case <-l.exited:
		return l.AcceptConn()
	}
}

// Close stops listening, closes connections still in their handshake (and
// authenticated ones not yet returned by Accept), removes a Unix socket
// file, and waits for its goroutines to exit. Connections already returned
// by Accept stay open.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		close(l.done)
		for p := l.oldest; p != nil; p = p.next {
			p.nc.Close()
		}
		l.mu.Unlock()
		l.closeErr = l.nl.Close()
		l.wg.Wait()
		l.failures.Stop()
	})
	return l.closeErr
}

// Addr returns the listener's network address. For an abstract Unix socket
// the name starts with "@".
func (l *Listener) Addr() net.Addr { return l.nl.Addr() }

// Address returns the listener's address as Python reports it
// (Listener.address): see [PythonAddress].
func (l *Listener) Address() any { return PythonAddress(l.nl.Addr()) }

// PendingHandshakes returns the number of accepted connections still in
// their handshake (not yet authenticated, failed or shed), for metrics.
func (l *Listener) PendingHandshakes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.npending
}

// LastAccepted returns the remote address of the connection most recently
// returned by Accept (Python's Listener.last_accepted), or nil.
func (l *Listener) LastAccepted() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
