package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"
)

// EmbeddedConfig configures [StartEmbedded].
type EmbeddedConfig struct {
	// Dir is the JetStream file storage directory.
	Dir string
	// Listen is the client address, HOST:PORT (port 0: any free port); "" opens no client port
	// (the in-process connection only).
	Listen string
	// SyncAlways makes JetStream fsync every write (`--fsync always`); otherwise it syncs
	// periodically (every 2 minutes by default): a put survives a crash of the process, not
	// necessarily a power loss.
	SyncAlways bool
	// Logger receives the server's logs; nil is silent.
	Logger logrus.FieldLogger
}

// Embedded is a JetStream server running in this process with a connection to it.
type Embedded struct {
	// Server is the running server (Server.ClientURL() is its client URL when Listen was set).
	Server *server.Server
	// Conn is the in-process connection.
	Conn *nats.Conn
	// JetStream is the JetStream context on Conn.
	JetStream jetstream.JetStream
}

// embeddedStartTimeout bounds the server's start (recovering a large store takes a while).
const embeddedStartTimeout = 2 * time.Minute

// StartEmbedded starts a JetStream server storing in cfg.Dir and connects to it in-process.
// Without cfg.Listen the server opens no port at all.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Dir == "" {
		return nil, errors.New("natsqueue: the embedded JetStream needs a storage directory")
	}
	opts := &server.Options{
		ServerName: "mpgo",
		JetStream:  true,
		StoreDir:   cfg.Dir,
		SyncAlways: cfg.SyncAlways,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsqueue: listen address %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("natsqueue: listen address %q: bad port", cfg.Listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsqueue: embedded JetStream: %w", err)
	}
	if cfg.Logger != nil {
		s.SetLoggerV2(serverLogger{cfg.Logger.WithField("component", "nats")}, false, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(embeddedStartTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natsqueue: embedded JetStream in %s not ready after %v", cfg.Dir, embeddedStartTimeout)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name("mpgo"), nats.MaxReconnects(-1))
	if err != nil {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natsqueue: connecting to the embedded JetStream: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natsqueue: %w", err)
	}
	return &Embedded{Server: s, Conn: nc, JetStream: js}, nil
}

// closeTimeout bounds the drain of a connection at Close.
const closeTimeout = 10 * time.Second

// Close drains the connection, shuts the server down and waits for it.
func (e *Embedded) Close() {
	drain(e.Conn)
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
}

// drain drains nc and waits (bounded) until it is closed.
func drain(nc *nats.Conn) {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(closeTimeout):
		nc.Close()
	}
}

// serverLogger adapts a logrus logger to the NATS server's. The server's notices (its
// thirty-line start-up banner, stream restores) are Debug: at Info, `mpgo serve` keeps to one
// line per event of its own; warnings and errors keep their level.
type serverLogger struct{ l logrus.FieldLogger }

func (s serverLogger) Noticef(format string, v ...any) { s.l.Debugf(format, v...) }
func (s serverLogger) Warnf(format string, v ...any)   { s.l.Warnf(format, v...) }
func (s serverLogger) Fatalf(format string, v ...any)  { s.l.Errorf(format, v...) }
func (s serverLogger) Errorf(format string, v ...any)  { s.l.Errorf(format, v...) }
func (s serverLogger) Debugf(format string, v ...any)  { s.l.Debugf(format, v...) }
func (s serverLogger) Tracef(format string, v ...any)  { s.l.Debugf(format, v...) }

// reconnectWait is the pause between two reconnection attempts to the same server (nats.go
// waits 2s by default): a queue should come back soon after NATS does.
const reconnectWait = 250 * time.Millisecond

// connectRetry is the pause between two attempts to reach JetStream at Connect.
const connectRetry = 500 * time.Millisecond

// Connect connects to the NATS servers at urls (with the credentials file creds if not "")
// and waits, bounded by ctx, until JetStream answers, logging what it waits for. The
// connection reconnects forever, and publishes fail at once while it is disconnected (no
// reconnect buffer: a put that returned an error was not stored later behind the caller's back).
func Connect(ctx context.Context, urls []string, creds string, log logrus.FieldLogger) (*nats.Conn, jetstream.JetStream, error) {
	if log == nil {
		l := logrus.New()
		l.SetOutput(discard{})
		log = l
	}
	if len(urls) == 0 {
		return nil, nil, errors.New("natsqueue: no NATS URL")
	}
	opts := []nats.Option{
		nats.Name("mpgo"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.WithField("err", err).Warn("natsqueue: disconnected from NATS")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.WithField("url", nc.ConnectedUrlRedacted()).Info("natsqueue: reconnected to NATS")
		}),
	}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	url := strings.Join(urls, ",")
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("natsqueue: connecting to %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("natsqueue: %w", err)
	}
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = js.AccountInfo(actx)
		cancel()
		if err == nil {
			log.WithField("url", nc.ConnectedUrlRedacted()).Info("natsqueue: JetStream answers")
			return nc, js, nil
		}
		if attempt%10 == 0 {
			log.WithFields(logrus.Fields{"urls": url, "status": nc.Status().String(), "err": err}).
				Info("natsqueue: waiting for NATS JetStream")
		}
		t := time.NewTimer(connectRetry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			why := fmt.Sprintf("no NATS server reachable (connection %s)", strings.ToLower(nc.Status().String()))
			if nc.IsConnected() {
				why = fmt.Sprintf("connected to %s, but JetStream did not answer: %v", nc.ConnectedUrlRedacted(), err)
			}
			nc.Close()
			return nil, nil, fmt.Errorf("natsqueue: NATS JetStream at %s did not answer before the wait ended (%w): %s", url, ctx.Err(), why)
		}
	}
}
