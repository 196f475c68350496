package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/managers"
)

func init() {
	commands["serve"] = command{summary: "run a SyncManager-compatible server (the quick start)", run: runServe}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var pyIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func runServe(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	var (
		address             string
		keyf                keyFlags
		logLevel, logFormat string
		queues              stringList
		shared              sharedList
		shutdownTimeout     time.Duration
		lim                 limitFlags
		web                 httpFlags
		muxAddress          string
		tlsCert, tlsKey     string
		tlsClientCA         string
		reclaimAfter        time.Duration
		store               storeFlags
	)
	fs.StringVar(&address, "address", "127.0.0.1:50000", "listen address: HOST:PORT, a Unix socket path or @abstract")
	keyf.register(fs)
	fs.Var(&queues, "queue", "register a typeid NAME returning one shared queue (repeatable), like register('NAME', callable=lambda: queue)")
	fs.Var(&shared, "shared", sharedUsage)
	fs.StringVar(&logLevel, "log-level", "info", "log level: panic, fatal, error, warn, info, debug, trace")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", 5*time.Second, "on SIGINT/SIGTERM, how long calls in flight may take to finish")
	lim.register(fs)
	web.register(fs)
	fs.StringVar(&muxAddress, "mux-address", "", "also accept relays (mpgo relay) and Go clients on HOST:PORT: yamux sessions over mutual TLS 1.3 (needs --tls-cert, --tls-key, --tls-client-ca)")
	fs.StringVar(&tlsCert, "tls-cert", "", "the server's certificate (PEM) for --mux-address")
	fs.StringVar(&tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fs.StringVar(&tlsClientCA, "tls-client-ca", "", "CA certificate(s) (PEM) that must have signed a client's certificate for --mux-address")
	store.register(fs)
	fs.DurationVar(&reclaimAfter, "reclaim-after", 0, "release objects that no live connection has used for this long: those of clients killed without their decrefs, but also those of live clients' never-called proxies (README, \"Objects of dead clients\"; 0: never)")
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo serve [--address HOST:PORT|/path.sock] [--authkey-file F | --authkey-hex H | $MPGO_AUTHKEY | --authkey K] [--queue NAME]... [--shared NAME=TYPE(ARGS)]... [--store DIR [--fsync always] [--nats-listen HOST:PORT] | --nats URL[,URL...] [--replicas N] [--nats-creds F]] [--log-level L] [--log-format text|json] [--http HOST:PORT] [limits] [--mux-address HOST:PORT --tls-cert F --tls-key F --tls-client-ca F]")
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
	if err := lim.validate(); err != nil {
		return err
	}
	if err := store.validate(); err != nil {
		return err
	}
	if muxAddress == "" && (tlsCert != "" || tlsKey != "" || tlsClientCA != "") {
		return usagef("--tls-cert, --tls-key and --tls-client-ca need --mux-address")
	}

	log, err := newLogger(sio.err, logLevel, logFormat)
	if err != nil {
		return err
	}

	key, generated, err := serveKey(&keyf)
	if err != nil {
		return err
	}

	dur, err := openDurable(ctx, &store, log, sio.out)
	if err != nil {
		return err
	}
	defer dur.close() // after srv.Shutdown: no call uses a queue any more

	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, name := range queues {
		if !pyIdentifier.MatchString(name) {
			return usagef("--queue %q: not a Python identifier", name)
		}
		if seen[name] {
			return usagef("--queue %q given twice", name)
		}
		seen[name] = true
		q, err := dur.newQueueObject(ctx, name, 0)
		if err != nil {
			return fmt.Errorf("--queue %s: %w", name, err)
		}
		if err := reg.Register(name, managers.Singleton(q)); err != nil {
			return usagef("--queue %q: %v", name, err)
		}
	}
	if err := registerShared(ctx, reg, shared, seen, dur); err != nil {
		return err
	}

	network, addr := connection.ParseAddress(address)
	srv := &managers.Server{Registry: reg, Logger: log, MaxConnections: lim.maxConns, ReclaimAfter: reclaimAfter}
	// The listener logs handshake failures itself, summarised (no second line here).
	cfg := lim.config(key, log)
	cfg.OnHandshakeError = srv.HandshakeFailed // counted for --http's metrics (not logged again)
	l, err := connection.Listen(network, addr, cfg)
	if err != nil {
		return err
	}
	var ml *connection.Listener
	if muxAddress != "" {
		mcfg := lim.config(key, log)
		mcfg.OnHandshakeError = srv.HandshakeFailed
		ml, err = listenMux(muxAddress, tlsCert, tlsKey, tlsClientCA, mcfg, log)
		if err != nil {
			l.Close()
			return err
		}
	}
	pyAddr := pythonAddrLiteral(l.Addr())
	fmt.Fprintf(sio.out, "mpgo: serving on %s\n", l.Addr())
	if ml != nil {
		fmt.Fprintf(sio.out, "mpgo: accepting relays on %s (mutual TLS)\n", ml.Addr())
	}
	stopHTTP, err := web.start(srv, l.Addr(), sio, log)
	if err != nil {
		l.Close()
		if ml != nil {
			ml.Close()
		}
		return err
	}
	defer stopHTTP() // after srv.Shutdown: /healthz says 503 while the server drains
	keyExpr := "<your authkey as bytes>"
	if generated {
		fmt.Fprintf(sio.out, "mpgo: generated authkey (hex): %x\n", key)
		keyExpr = fmt.Sprintf("bytes.fromhex('%x')", key)
	}
	var snippet bytes.Buffer
	fmt.Fprintf(&snippet, "mpgo: connect from Python:\n")
	fmt.Fprintf(&snippet, "    from multiprocessing.managers import SyncManager\n")
	fmt.Fprintf(&snippet, "    m = SyncManager(address=%s, authkey=%s); m.connect()\n", pyAddr, keyExpr)
	fmt.Fprintf(&snippet, "    q = m.Queue()\n")
	for _, name := range queues {
		fmt.Fprintf(&snippet, "mpgo: shared queue %q:\n", name)
		fmt.Fprintf(&snippet, "    from multiprocessing.managers import BaseManager\n")
		fmt.Fprintf(&snippet, "    class QueueManager(BaseManager): pass\n")
		fmt.Fprintf(&snippet, "    QueueManager.register('%s')\n", name)
		fmt.Fprintf(&snippet, "    m = QueueManager(address=%s, authkey=%s); m.connect()\n", pyAddr, keyExpr)
		fmt.Fprintf(&snippet, "    q = m.%s(); q.put('hello')\n", name)
	}
	writeSharedSnippet(&snippet, shared, pyAddr, keyExpr)
	sio.out.Write(snippet.Bytes())

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(l) }()
	if ml != nil {
		go func() { errc <- srv.Serve(ml) }()
	}
	select {
	case err := <-errc:
		// A client sent 'shutdown' (or the listener failed): wait for the connections.
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if errors.Is(err, managers.ErrServerClosed) {
			log.Info("mpgo: server shut down by a client")
			return nil
		}
		return err
	case <-ctx.Done():
		log.Info("mpgo: shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		<-errc
		if ml != nil {
			<-errc
		}
		if err != nil {
			log.WithError(err).Warn("mpgo: calls still in flight were cancelled")
		}
		return nil
	}
}

// listenMux listens for mux sessions (mutual TLS 1.3, yamux) whose streams are served like the
// connections of the main listener (same key and limits), pre-authenticated ones included: a
// session exists only for a client certificate signed by the --tls-client-ca.
func listenMux(address, certFile, keyFile, caFile string, cfg *connection.Config, log logrus.FieldLogger) (*connection.Listener, error) {
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	pool, err := loadCAPool("--tls-client-ca", caFile)
	if err != nil {
		return nil, err
	}
	ml, err := mux.Listen("tcp", address, &mux.Config{
		TLS:    &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool},
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	cfg.TrustPreAuthenticated = true
	return connection.NewListener(ml, cfg)
}

// serveKey resolves the key (see keyFlags), else generates 32 random bytes.
func serveKey(k *keyFlags) (key []byte, generated bool, err error) {
	key, ok, err := k.resolve()
	if err != nil || ok {
		return key, false, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// pythonAddrLiteral renders an address as Python source: ('127.0.0.1', 50000) or '/path'.
func pythonAddrLiteral(a net.Addr) string {
	switch v := connection.PythonAddress(a).(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []byte:
		return "bytes.fromhex('" + hex.EncodeToString(v) + "')"
	default:
		if ta, ok := a.(*net.TCPAddr); ok {
			host := ta.IP.String()
			if ta.IP == nil || ta.IP.IsUnspecified() {
				host = "127.0.0.1"
			}
			return fmt.Sprintf("('%s', %d)", host, ta.Port)
		}
		return fmt.Sprintf("%q", a.String())
	}
}
