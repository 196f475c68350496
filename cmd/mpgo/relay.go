package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/connection/mux/relay"
)

func init() {
	commands["relay"] = command{summary: "carry local Python clients to a remote mpgo serve over one mutual-TLS session", run: runRelay}
}

func runRelay(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var (
		listen, server          string
		caFile, certFile, keyFl string
		keyf                    keyFlags
		logLevel, logFormat     string
		handshakeTimeout        time.Duration
		keepAlive, writeTimeout time.Duration
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:50000", "where local Python clients connect: HOST:PORT, a Unix socket path or @abstract")
	fs.StringVar(&server, "server", "", "the server's --mux-address, HOST:PORT (required)")
	fs.StringVar(&caFile, "tls-ca", "", "CA certificate(s) (PEM) that signed the server's certificate (required)")
	fs.StringVar(&certFile, "tls-cert", "", "the relay's client certificate (PEM), signed by the server's --tls-client-ca (required)")
	fs.StringVar(&keyFl, "tls-key", "", "the key of --tls-cert (PEM) (required)")
	keyf.register(fs)
	fs.DurationVar(&handshakeTimeout, "handshake-timeout", connection.DefaultHandshakeTimeout, "time a client has to authenticate, and to wait for a session when none is up")
	fs.DurationVar(&keepAlive, "keepalive", mux.DefaultKeepAliveInterval, "session ping interval; a ping unanswered within --write-timeout ends the session")
	fs.DurationVar(&writeTimeout, "write-timeout", mux.DefaultWriteTimeout, "how long session data (or a ping) may wait to be sent before the session is declared dead")
	fs.StringVar(&logLevel, "log-level", "info", "log level: panic, fatal, error, warn, info, debug, trace")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo relay --listen ADDR --server HOST:PORT --tls-ca F --tls-cert F --tls-key F [--authkey-file F | --authkey-hex H | $MPGO_AUTHKEY | --authkey K]")
		fmt.Fprintln(sio.err, "With the authkey the relay answers the clients' handshakes itself (no handshake crosses the link); without it, handshakes pass through.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if server == "" {
		return usagef("--server is required")
	}
	if handshakeTimeout <= 0 || keepAlive <= 0 || writeTimeout <= 0 {
		return usagef("--handshake-timeout, --keepalive and --write-timeout must be positive")
	}
	log, err := newLogger(sio.err, logLevel, logFormat)
	if err != nil {
		return err
	}
	cert, err := loadKeyPair(certFile, keyFl)
	if err != nil {
		return err
	}
	pool, err := loadCAPool("--tls-ca", caFile)
	if err != nil {
		return err
	}
	key, haveKey, err := keyf.resolve()
	if err != nil {
		return err
	}
	if !haveKey {
		key = nil
	}
	r, err := relay.New(&relay.Config{
		Server: server,
		Mux: mux.Config{
			TLS:               &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
			KeepAliveInterval: keepAlive,
			WriteTimeout:      writeTimeout,
			Logger:            log,
		},
		AuthKey:          key,
		HandshakeTimeout: handshakeTimeout,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer r.Close()
	network, addr := connection.ParseAddress(listen)
	l, err := listenPlain(network, addr)
	if err != nil {
		return err
	}
	mode := "handshakes pass through to the server"
	if key != nil {
		mode = "the relay answers handshakes (pre-authenticated streams)"
	}
	fmt.Fprintf(sio.out, "mpgo: relaying %s to %s; %s\n", l.Addr(), server, mode)
	errc := make(chan error, 1)
	go func() { errc <- r.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		log.Info("mpgo: relay shutting down")
		r.Close()
		<-errc
		return nil
	}
}

// listenPlain listens for local clients: TCP, a Unix socket path (removed on close) or an
// abstract name ("@name").
func listenPlain(network, address string) (net.Listener, error) {
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return l, nil
}
