package connection

import (
	"fmt"
	"net"
	"time"

	"github.com/mpgo/mpgo/pickle"
	"github.com/sirupsen/logrus"
)

// DefaultHandshakeTimeout bounds the whole handshake when
// [Config.HandshakeTimeout] is zero.
const DefaultHandshakeTimeout = 5 * time.Second

// DefaultMaxUnauthenticatedPerAddress is [Config.MaxUnauthenticatedPerAddress]
// when it is zero. A handshake takes a millisecond on a LAN, so even a host
// that starts hundreds of clients at once stays far below it.
const DefaultMaxUnauthenticatedPerAddress = 256

// DefaultWriteTimeout is [Config.WriteTimeout] when it is zero (NATS's
// write_deadline default).
const DefaultWriteTimeout = 10 * time.Second

// DefaultKeepAlive is [Config.KeepAlive] when it is zero: the idle time
// before the first TCP keep-alive probe and the interval between probes
// (the net package's default). With Linux's 9 probes a vanished host is
// noticed after about 2.5 minutes.
const DefaultKeepAlive = 15 * time.Second

// minMaxUnauthenticated is the smallest default for
// [Config.MaxUnauthenticated], whatever the file-descriptor limit.
const minMaxUnauthenticated = 1024

// Config configures [Listen] and [Dial]. The zero value (and a nil *Config)
// is valid: no authentication, a 5 s handshake timeout, no frame size limit
// and the automatic pickle protocol.
type Config struct {
	// AuthKey is the shared secret of the HMAC handshake. nil means no
	// handshake at all (Python's authkey=None): the first frame is
	// application data. An empty non-nil key runs the handshake with the
	// empty key, as CPython 3.13 does.
	AuthKey []byte

	// HandshakeTimeout bounds the whole handshake (and, for Dial, only the
	// handshake; the dial itself is bounded by its context). 0 means
	// [DefaultHandshakeTimeout]; a negative value means no limit.
	HandshakeTimeout time.Duration

	// MaxFrameSize limits the payload of every frame read after the
	// handshake (Recv, RecvBytes, ReadFrame, ...). 0 means no limit beyond
	// memory safety (memory is allocated only as payload bytes arrive).
	MaxFrameSize int

	// Protocol is the pickle protocol Send uses. 0 (the default) means
	// automatic: protocol 2, which every CPython from 2.7 on can read, until
	// the first pickle received on the connection reveals the peer's
	// protocol; from then on Send uses that protocol (2 for Python 2.7, 3 for
	// 3.6/3.7, 4 for 3.8 to 3.13, 5 for 3.14). 1 to 5 fix the protocol.
	Protocol int

	// Python2 makes Send encode for a Python 2 peer (see
	// pickle.Encoder.SetPython2): ASCII strings and []byte become Python 2
	// str. Without it a Python 2 peer still reads everything Send writes at
	// protocol 2, with Go strings arriving as unicode.
	Python2 bool

	// MaxUnauthenticated bounds the connections a Listener holds that have
	// not finished their handshake. Every accepted connection starts its
	// handshake at once (there is no pool that idle peers could fill);
	// when the bound is reached, the oldest unauthenticated connection is
	// closed to make room for the new one, so an attacker holding idle
	// sockets loses them to real clients, whose handshakes take
	// milliseconds. 0 means the default: three quarters of the process's
	// file-descriptor limit (RLIMIT_NOFILE), at least 1024. Negative means no
	// bound.
	MaxUnauthenticated int

	// MaxUnauthenticatedPerAddress bounds the unauthenticated connections
	// from one remote IP address (TCP only), shedding that address's oldest
	// first. 0 means [DefaultMaxUnauthenticatedPerAddress]; negative means
	// no bound.
	MaxUnauthenticatedPerAddress int

	// MaxPendingHandshakes is ignored.
	//
	// Deprecated: a fixed pool of handshakes let idle peers keep every
	// client out; see MaxUnauthenticated.
	MaxPendingHandshakes int

	// WriteTimeout is the slow-reader cut of accepted connections: a frame
	// write that makes no progress for this long (the peer stopped reading
	// and the socket buffers are full) fails, and the connection is closed.
	// A reader that is slow but keeps reading is not cut. Since a
	// multiprocessing peer gets one reply per request, the bytes pending for
	// one connection are at most one reply. It does not apply while a user
	// deadline ([Conn.SetWriteDeadline]) is set. 0 means
	// [DefaultWriteTimeout]; negative means none. Dial's connections have
	// none unless it is set.
	WriteTimeout time.Duration

	// KeepAlive is the TCP keep-alive idle time and probe interval of
	// authenticated connections, so that a peer host that vanished is
	// noticed (a manager's method connections may legitimately sit idle for
	// hours, so there is no idle timeout). 0 means [DefaultKeepAlive];
	// negative disables keep-alive.
	KeepAlive time.Duration

	// FailureLogInterval is how often repeated handshake failures are
	// summarised in the log: the first failure of a quiet period is logged
	// in full, the rest as one line per interval with counts per remote
	// address and reason. 0 means ratelog.DefaultInterval (10 s).
	FailureLogInterval time.Duration

	// DisableQuickAck turns off TCP_QUICKACK on accepted TCP connections
	// (Linux). With it on (the default) the listener acknowledges every
	// read at once, so a CPython client, which does not set TCP_NODELAY and
	// writes '#WELCOME#' and its first request back to back, does not wait
	// for a delayed ACK (about 40 ms per connection).
	DisableQuickAck bool

	// OnHandshakeError, if set, is called (from the handshake goroutine)
	// for every accepted connection whose handshake fails, with an error
	// wrapping [ErrAuthFailed] ([FailureReason] classifies it). The
	// connection is already closed. It is not a logger: the Listener
	// logs failures itself (see FailureLogInterval).
	OnHandshakeError func(remote net.Addr, err error)

	// TrustPreAuthenticated lets a Listener skip the handshake of accepted
	// connections that report themselves authenticated by their transport
	// (see [PreAuthenticator]). Set it only on a Listener over a
	// net.Listener that vouches for its connections, such as a
	// connection/mux Listener, whose sessions carry a client certificate
	// verified against the server's CA. Without it such a connection is
	// refused with [ErrAuthFailed]. It has no effect on Dial.
	TrustPreAuthenticated bool

	// Registry, if set, maps Python classes to Go types in Recv (see
	// pickle.Decoder.SetRegistry).
	Registry *pickle.Registry

	// Logger receives accept retries and failed handshakes (summarised,
	// see FailureLogInterval); nil discards.
	Logger logrus.FieldLogger
}

// config is a validated copy of a Config with defaults filled in.
type config struct {
	Config
	handshakeTimeout time.Duration
	maxUnauth        int // < 0: no bound
	maxUnauthPerAddr int // < 0: no bound
	writeTimeout     time.Duration
	keepAlive        time.Duration
	userLogger       bool // Logger was set (else it discards)
}

func newConfig(c *Config) (*config, error) {
	cfg := &config{}
	if c != nil {
		cfg.Config = *c
	}
	if cfg.Protocol < 0 || cfg.Protocol > 5 {
		return nil, fmt.Errorf("connection: invalid pickle protocol %d (want 0 for automatic, or 1 to 5)", cfg.Protocol)
	}
	if cfg.MaxFrameSize < 0 {
		return nil, fmt.Errorf("connection: invalid MaxFrameSize %d", cfg.MaxFrameSize)
	}
	cfg.handshakeTimeout = cfg.HandshakeTimeout
	if cfg.handshakeTimeout == 0 {
		cfg.handshakeTimeout = DefaultHandshakeTimeout
	}
	cfg.maxUnauth = cfg.MaxUnauthenticated
	if cfg.maxUnauth == 0 {
		cfg.maxUnauth = DefaultMaxUnauthenticated()
	}
	cfg.maxUnauthPerAddr = cfg.MaxUnauthenticatedPerAddress
	if cfg.maxUnauthPerAddr == 0 {
		cfg.maxUnauthPerAddr = DefaultMaxUnauthenticatedPerAddress
	}
	cfg.writeTimeout = cfg.WriteTimeout
	if cfg.writeTimeout == 0 {
		cfg.writeTimeout = DefaultWriteTimeout
	}
	cfg.keepAlive = cfg.KeepAlive
	if cfg.keepAlive == 0 {
		cfg.keepAlive = DefaultKeepAlive
	}
	cfg.userLogger = cfg.Logger != nil
	if cfg.AuthKey != nil {
		cfg.AuthKey = append([]byte{}, cfg.AuthKey...)
	}
	if cfg.Logger == nil {
		l := logrus.New()
		l.Out = discard{}
		l.Level = logrus.PanicLevel
		cfg.Logger = l
	}
	return cfg, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// DefaultMaxUnauthenticated returns the bound on unauthenticated
// connections that a zero [Config.MaxUnauthenticated] means: three quarters
// of the process's current file-descriptor limit (the soft RLIMIT_NOFILE,
// which Go raises to the hard limit at start-up), at least 1024. The rest is
// left for the process's own files and outgoing connections; authenticated
// connections need no reserve, since an accept that fails for lack of
// descriptors sheds the oldest unauthenticated connection. What the bound
// limits is memory (about 8 KiB per connection in its handshake) and the
// churn of an attack: an attacker holding more sockets than the bound makes
// every one of its reconnections shed another of its sockets.
func DefaultMaxUnauthenticated() int {
	n := fdLimit() / 4 * 3
	if n < minMaxUnauthenticated {
		n = minMaxUnauthenticated
	}
	return n
}
