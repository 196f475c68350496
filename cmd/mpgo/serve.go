package main

import (
	"bytes"
	"context"
	"crypto/rand"
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
	)
	fs.StringVar(&address, "address", "127.0.0.1:50000", "listen address: HOST:PORT, a Unix socket path or @abstract")
	keyf.register(fs)
	fs.Var(&queues, "queue", "register a typeid NAME returning one shared queue (repeatable), like register('NAME', callable=lambda: queue)")
	fs.Var(&shared, "shared", sharedUsage)
	fs.StringVar(&logLevel, "log-level", "info", "log level: panic, fatal, error, warn, info, debug, trace")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", 5*time.Second, "on SIGINT/SIGTERM, how long calls in flight may take to finish")
	lim.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(sio.err, "usage: mpgo serve [--address HOST:PORT|/path.sock] [--authkey-file F | --authkey-hex H | $MPGO_AUTHKEY | --authkey K] [--queue NAME]... [--shared NAME=TYPE(ARGS)]... [--log-level L] [--log-format text|json] [limits]")
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

	log := logrus.New()
	log.SetOutput(sio.err)
	lvl, err := logrus.ParseLevel(logLevel)
	if err != nil {
		return usagef("bad --log-level %q", logLevel)
	}
	log.SetLevel(lvl)
	switch logFormat {
	case "text":
		log.SetFormatter(&logrus.TextFormatter{})
	case "json":
		log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return usagef("bad --log-format %q (text or json)", logFormat)
	}

	key, generated, err := serveKey(&keyf)
	if err != nil {
		return err
	}

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
		if err := reg.Register(name, managers.Singleton(managers.NewQueue(0))); err != nil {
			return usagef("--queue %q: %v", name, err)
		}
	}
	if err := registerShared(reg, shared, seen); err != nil {
		return err
	}

	network, addr := connection.ParseAddress(address)
	srv := &managers.Server{Registry: reg, Logger: log, MaxConnections: lim.maxConns}
	// The listener logs handshake failures itself, summarised (no second line here).
	l, err := connection.Listen(network, addr, lim.config(key, log))
	if err != nil {
		return err
	}
	pyAddr := pythonAddrLiteral(l.Addr())
	fmt.Fprintf(sio.out, "mpgo: serving on %s\n", l.Addr())
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

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
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
		if err != nil {
			log.WithError(err).Warn("mpgo: calls still in flight were cancelled")
		}
		return nil
	}
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
