package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

func init() {
	commands["echo"] = command{
		summary: "run a multiprocessing.connection peer that sends back every message",
		run: func(ctx context.Context, args []string, sio stdio) error {
			return runEcho(ctx, args, sio.out, sio.err)
		},
	}
}

// echoUsage explains the echo rule; it is also the command's documentation.
const echoUsage = `usage: mpgo echo [flags]

Listens like Python's multiprocessing.connection.Listener and sends back every
message each client sends, until the client disconnects.

Echo rule: a frame that is a whole pickle as Connection.send writes it (it
starts with PROTO 2, 3, 4 or 5 and decodes to exactly the frame's end) is
decoded and re-encoded in the protocol it came in, so Python's recv() gets an
equal object back through mpgo's codec. Any other frame (send_bytes data,
protocol 0/1 pickles, anything that does not decode) comes back byte for
byte, so recv_bytes() gets exactly what was sent. With --raw every frame
comes back byte for byte.

The first line on stdout is JSON naming the bound address, e.g.
  {"event":"listening","network":"tcp","address":"127.0.0.1:36061","authenticated":true}
The key comes from --authkey-file, --authkey-hex, --authkey or $MPGO_AUTHKEY; with none
there is no handshake (Python's authkey=None). SIGINT/SIGTERM stop it.

flags:
`

func runEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	address := fs.String("address", "127.0.0.1:0", "address to listen on: HOST:PORT, a Unix socket path or @abstract")
	var keyf keyFlags
	keyf.register(fs)
	raw := fs.Bool("raw", false, "echo every frame byte for byte, without decoding pickles")
	verbose := fs.Bool("v", false, "log connections and messages to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, echoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	key, _, err := keyf.resolve() // none given: nil, no handshake
	if err != nil {
		return err
	}

	var logMu sync.Mutex
	logf := func(format string, a ...any) {
		if *verbose {
			logMu.Lock()
			fmt.Fprintf(stderr, "mpgo echo: "+format+"\n", a...)
			logMu.Unlock()
		}
	}
	network, addr := connection.ParseAddress(*address)
	l, err := connection.Listen(network, addr, &connection.Config{
		AuthKey: key,
		OnHandshakeError: func(remote net.Addr, err error) {
			logf("%v: %v", remote, err)
		},
	})
	if err != nil {
		return err
	}
	line, _ := json.Marshal(map[string]any{
		"event":         "listening",
		"network":       l.Addr().Network(),
		"address":       l.Addr().String(),
		"authenticated": key != nil,
	})
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		l.Close()
		return err
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[*connection.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	for {
		c, err := l.AcceptConn()
		if err != nil {
			l.Close()
			mu.Lock()
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		if ctx.Err() != nil {
			c.Close()
		}
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			logf("%v: connected", c.RemoteAddr())
			n, err := echoConn(c, *raw)
			if err != nil && !errors.Is(err, connection.ErrClosed) {
				logf("%v: %d messages, then: %v", c.RemoteAddr(), n, err)
				return
			}
			logf("%v: %d messages, disconnected", c.RemoteAddr(), n)
		}()
	}
}

// echoConn sends back every frame until the peer disconnects (nil error).
func echoConn(c *connection.Conn, raw bool) (int, error) {
	var buf []byte
	enc := pickle.NewEncoder(nil)
	for n := 0; ; n++ {
		p, err := c.ReadFrame()
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		out := p
		if !raw {
			if b, ok := echoRecode(enc, buf[:0], p); ok {
				out, buf = b, b
			}
		}
		if err := c.WriteFrame(out); err != nil {
			return n, err
		}
	}
}

// echoRecode re-encodes a frame that is a whole pickle with a PROTO 2..5 header
// in the same protocol; ok is false for any other frame.
func echoRecode(enc *pickle.Encoder, dst, p []byte) ([]byte, bool) {
	if len(p) < 2 || p[0] != 0x80 || p[1] < 2 || p[1] > 5 {
		return nil, false
	}
	d := pickle.NewDecoder(bytes.NewReader(p))
	var v any
	if err := d.Decode(&v); err != nil || d.InputOffset() != int64(len(p)) {
		return nil, false
	}
	enc.SetProtocol(int(p[1]))
	b, err := enc.AppendEncode(dst, v)
	if err != nil {
		return nil, false
	}
	return b, true
}
