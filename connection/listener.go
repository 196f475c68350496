package connection

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Listener accepts connections and authenticates them, like Python's
// multiprocessing.connection.Listener. It has the [net.Listener] method set.
//
// Connections are accepted and authenticated in the background: each
// handshake runs in its own goroutine under [Config.HandshakeTimeout], at
// most [Config.MaxPendingHandshakes] at once, so a slow or silent client
// never delays the others. Accept returns connections in the order their
// handshakes complete. Clients that fail the handshake are closed and
// reported to [Config.OnHandshakeError] and the logger; Accept does not
// return their errors. [Listener.Serve] is the alternative to Accept that
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

	mu      sync.Mutex
	pending map[net.Conn]struct{} // connections being authenticated
	last    net.Addr
	loopErr error
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
		pending:       make(map[net.Conn]struct{}),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *Listener) log() logrus.FieldLogger { return l.cfg.Logger }

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	defer close(l.exited)
	sem := make(chan struct{}, l.cfg.maxPending)
	var backoff time.Duration
	for {
		select {
		case sem <- struct{}{}:
		case <-l.done:
			return
		}
		nc, err := l.nl.Accept()
		if err != nil {
			<-sem
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
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			nc.Close()
			return
		default:
		}
		l.pending[nc] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serveHandshake(nc, sem)
	}
}

func (l *Listener) serveHandshake(nc net.Conn, sem chan struct{}) {
	c := newConn(nc, l.cfg, true)
	err := c.handshake(context.Background(), true)
	l.mu.Lock()
	delete(l.pending, nc)
	l.mu.Unlock()
	<-sem
	if err != nil {
		defer l.wg.Done()
		nc.Close()
		select {
		case <-l.done:
			return // closed under us: not the client's fault
		default:
		}
		l.log().WithFields(logrus.Fields{"remote": addrString(nc.RemoteAddr()), "err": err}).Warn("connection: handshake failed")
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
		for nc := range l.pending {
			nc.Close()
		}
		l.mu.Unlock()
		l.closeErr = l.nl.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

// Addr returns the listener's network address. For an abstract Unix socket
// the name starts with "@".
func (l *Listener) Addr() net.Addr { return l.nl.Addr() }

// Address returns the listener's address as Python reports it
// (Listener.address): see [PythonAddress].
func (l *Listener) Address() any { return PythonAddress(l.nl.Addr()) }

// LastAccepted returns the remote address of the connection most recently
// returned by Accept (Python's Listener.last_accepted), or nil.
func (l *Listener) LastAccepted() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
