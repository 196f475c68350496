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

// DefaultMaxPendingHandshakes bounds the handshakes a [Listener] runs at
// once when [Config.MaxPendingHandshakes] is zero.
const DefaultMaxPendingHandshakes = 64

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

	// MaxPendingHandshakes bounds the handshakes a Listener runs
	// concurrently; when they are all busy it stops accepting, so the
	// kernel's backlog holds further clients. 0 means
	// [DefaultMaxPendingHandshakes].
	MaxPendingHandshakes int

	// DisableQuickAck turns off TCP_QUICKACK on accepted TCP connections
	// (Linux). With it on (the default) the listener acknowledges every
	// read at once, so a CPython client, which does not set TCP_NODELAY and
	// writes '#WELCOME#' and its first request back to back, does not wait
	// for a delayed ACK (about 40 ms per connection).
	DisableQuickAck bool

	// OnHandshakeError, if set, is called (from the handshake goroutine)
	// for every accepted connection whose handshake fails, with an error
	// wrapping [ErrAuthFailed]. The connection is already closed.
	OnHandshakeError func(remote net.Addr, err error)

	// Registry, if set, maps Python classes to Go types in Recv (see
	// pickle.Decoder.SetRegistry).
	Registry *pickle.Registry

	// Logger receives accept retries and failed handshakes; nil discards.
	Logger logrus.FieldLogger
}

// config is a validated copy of a Config with defaults filled in.
type config struct {
	Config
	handshakeTimeout time.Duration
	maxPending       int
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
	if cfg.MaxPendingHandshakes < 0 {
		return nil, fmt.Errorf("connection: invalid MaxPendingHandshakes %d", cfg.MaxPendingHandshakes)
	}
	cfg.handshakeTimeout = cfg.HandshakeTimeout
	if cfg.handshakeTimeout == 0 {
		cfg.handshakeTimeout = DefaultHandshakeTimeout
	}
	cfg.maxPending = cfg.MaxPendingHandshakes
	if cfg.maxPending == 0 {
		cfg.maxPending = DefaultMaxPendingHandshakes
	}
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
