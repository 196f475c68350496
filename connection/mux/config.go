package mux

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/sirupsen/logrus"
)

// ALPN is the TLS application protocol both ends of a session name.
const ALPN = "mpgo-mux/1"

// Defaults of [Config]'s zero fields. Both ends of a session must agree on
// AcceptBacklog (yamux assumes it), which they do when both use the default.
const (
	// DefaultHandshakeTimeout bounds the TCP dial and the TLS handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultKeepAliveInterval is the interval of the session's pings.
	DefaultKeepAliveInterval = 15 * time.Second
	// DefaultWriteTimeout is yamux's ConnectionWriteTimeout: how long a
	// frame (or a ping's answer) may wait to be sent. It must exceed the
	// time the link needs to send what may be queued ahead of a ping: at
	// most 64 frames of [MaxWriteChunk] in yamux's queue and 256 KiB handed
	// to the connection, 4.25 MiB, 30 s at about 1.2 Mbit/s.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultStreamOpenTimeout is how long an opened stream may wait for
	// the server's acknowledgement before yamux closes the session.
	DefaultStreamOpenTimeout = 30 * time.Second
	// DefaultStreamCloseTimeout is how long a stream closed on one side may
	// wait for the other side's close before it is reset.
	DefaultStreamCloseTimeout = time.Minute
	// DefaultAcceptBacklog is the number of streams opened and not yet
	// accepted (and acknowledged) a session allows.
	DefaultAcceptBacklog = 256
	// DefaultStreamWindow is a stream's receive window (yamux's minimum).
	DefaultStreamWindow = 256 << 10
	// DefaultMaxHandshakes bounds the connections of a Listener in their TLS
	// handshake.
	DefaultMaxHandshakes = 1024
)

// MaxWriteChunk is the largest yamux data frame a [Stream] writes: a large
// write is split, so that one big value does not hold the session's only
// send queue, and every other stream (and the keep-alive pings) behind it,
// for the whole of its transfer.
const MaxWriteChunk = 64 << 10

// Config configures the sessions of [Listen] (server) and [Dial] (client).
// Only TLS is required; every other zero field means the documented default.
type Config struct {
	// TLS is the certificate configuration. A server needs Certificates
	// and ClientCAs (client certificates are required and verified against
	// them: a client without one signed by that CA is refused during the
	// TLS handshake); a client needs Certificates (its own) and RootCAs
	// (the server's CA). Either way TLS 1.3 is the minimum version and the
	// ALPN protocol is [ALPN]; the rest is left as given.
	TLS *tls.Config

	// HandshakeTimeout bounds the TCP dial and the TLS handshake of a
	// session. 0: [DefaultHandshakeTimeout].
	HandshakeTimeout time.Duration

	// KeepAliveInterval is how often each end pings the other. A ping not
	// answered within WriteTimeout closes the session, so a peer host that
	// vanished is noticed within KeepAliveInterval + WriteTimeout (45 s by
	// default; a closed or reset connection is noticed at once). Pings are
	// queued behind data already queued, which is why WriteTimeout must
	// allow for a full send queue. 0: [DefaultKeepAliveInterval];
	// negative: no pings.
	KeepAliveInterval time.Duration

	// WriteTimeout is yamux's ConnectionWriteTimeout (see
	// [DefaultWriteTimeout]). When it expires the session is closed: after
	// yamux.ErrConnectionWriteTimeout a stream's state is unreliable.
	// 0: [DefaultWriteTimeout].
	WriteTimeout time.Duration

	// StreamOpenTimeout: see [DefaultStreamOpenTimeout].
	StreamOpenTimeout time.Duration

	// StreamCloseTimeout: see [DefaultStreamCloseTimeout].
	StreamCloseTimeout time.Duration

	// AcceptBacklog: see [DefaultAcceptBacklog].
	AcceptBacklog int

	// MaxHandshakes bounds a Listener's connections in their TLS handshake;
	// at the bound the oldest is closed to admit the new one (an attacker's
	// idle socket is always older than a relay's handshake, which takes a
	// few round trips). 0: [DefaultMaxHandshakes].
	MaxHandshakes int

	// StreamWindow is each stream's receive window in bytes (at least
	// 256 KiB). 0: [DefaultStreamWindow].
	StreamWindow uint32

	// Logger receives session events (opened, closed, failed TLS handshakes
	// in summary) and yamux's own messages. nil discards.
	Logger logrus.FieldLogger
}

// config is a validated Config with defaults filled in.
type config struct {
	Config
	tls   *tls.Config
	yamux *yamux.Config
	log   logrus.FieldLogger
	user  bool // Logger was set
}

func newConfig(c *Config, server bool) (*config, error) {
	if c == nil || c.TLS == nil {
		return nil, errors.New("mux: Config.TLS is required")
	}
	cfg := &config{Config: *c}
	t := c.TLS.Clone()
	if t.MinVersion < tls.VersionTLS13 {
		t.MinVersion = tls.VersionTLS13
	}
	t.NextProtos = []string{ALPN}
	if server {
		if len(t.Certificates) == 0 && t.GetCertificate == nil {
			return nil, errors.New("mux: the server's TLS config has no certificate")
		}
		if t.ClientCAs == nil {
			return nil, errors.New("mux: the server's TLS config has no ClientCAs (client certificates are required)")
		}
		t.ClientAuth = tls.RequireAndVerifyClientCert
	} else if len(t.Certificates) == 0 && t.GetClientCertificate == nil {
		return nil, errors.New("mux: the client's TLS config has no certificate")
	}
	cfg.tls = t
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	y := yamux.DefaultConfig()
	y.LogOutput = nil
	y.Logger = nil
	switch {
	case cfg.KeepAliveInterval == 0:
		y.KeepAliveInterval = DefaultKeepAliveInterval
	case cfg.KeepAliveInterval < 0:
		y.EnableKeepAlive = false
	default:
		y.KeepAliveInterval = cfg.KeepAliveInterval
	}
	y.ConnectionWriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	y.StreamOpenTimeout = orDefault(cfg.StreamOpenTimeout, DefaultStreamOpenTimeout)
	y.StreamCloseTimeout = orDefault(cfg.StreamCloseTimeout, DefaultStreamCloseTimeout)
	y.AcceptBacklog = cfg.AcceptBacklog
	if y.AcceptBacklog == 0 {
		y.AcceptBacklog = DefaultAcceptBacklog
	}
	y.MaxStreamWindowSize = cfg.StreamWindow
	if y.MaxStreamWindowSize == 0 {
		y.MaxStreamWindowSize = DefaultStreamWindow
	}
	cfg.user = c.Logger != nil
	cfg.log = c.Logger
	if cfg.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		l.SetLevel(logrus.PanicLevel)
		cfg.log = l
	}
	y.Logger = yamuxLogger{cfg.log}
	if err := yamux.VerifyConfig(y); err != nil {
		return nil, fmt.Errorf("mux: %w", err)
	}
	cfg.yamux = y
	return cfg, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// yamuxLogger passes yamux's messages ("[ERR] yamux: ...") to logrus at
// debug level: the session's fate is logged by this package, with context.
type yamuxLogger struct{ l logrus.FieldLogger }

func (y yamuxLogger) Print(v ...any)                 { y.l.Debug(v...) }
func (y yamuxLogger) Printf(format string, v ...any) { y.l.Debugf(format, v...) }
func (y yamuxLogger) Println(v ...any)               { y.l.Debugln(v...) }
