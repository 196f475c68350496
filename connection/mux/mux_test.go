package mux_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

func TestPreambleRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		info mux.StreamInfo
	}{
		{"empty", mux.StreamInfo{}},
		{"preauth tcp", mux.StreamInfo{PreAuthenticated: true, Address: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, Peer: "127.0.0.1:41234"}},
		{"tcp6", mux.StreamInfo{Address: &net.TCPAddr{IP: net.IPv6loopback, Port: 1}}},
		{"unix", mux.StreamInfo{Address: &net.UnixAddr{Name: "/tmp/relay.sock", Net: "unix"}}},
		{"abstract", mux.StreamInfo{PreAuthenticated: true, Address: &net.UnixAddr{Name: "@relay", Net: "unix"}, Peer: strings.Repeat("p", 255)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.info.AppendPreamble(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > mux.MaxPreamble {
				t.Fatalf("preamble of %d bytes > MaxPreamble", len(b))
			}
			r := bytes.NewReader(append(b, "rest"...))
			got, err := mux.ReadPreamble(r)
			if err != nil {
				t.Fatal(err)
			}
			if got.PreAuthenticated != c.info.PreAuthenticated || got.Peer != c.info.Peer || addrStr(got.Address) != addrStr(c.info.Address) {
				t.Fatalf("got %+v, want %+v", got, c.info)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "rest" {
				t.Fatalf("ReadPreamble read past the preamble: %q left", rest)
			}
		})
	}
}

func addrStr(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network() + " " + a.String()
}

func TestPreambleRejects(t *testing.T) {
	good, _ := mux.StreamInfo{Address: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5}, Peer: "x"}.AppendPreamble(nil)
	mod := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	cases := map[string][]byte{
		"magic":         mod(0, 'X'),
		"version":       mod(4, 2),
		"flags":         mod(5, 0x82),
		"kind":          mod(6, 3),
		"kind none":     mod(6, 0),
		"empty":         {},
		"cut":           good[:len(good)-1],
		"bad tcp":       append([]byte("MPGO\x01\x00\x01\x05"), "x:1:2\x00"...),
		"tcp hostname":  append([]byte("MPGO\x01\x00\x01\x0b"), "example:123\x00"...),
		"unix nul":      append([]byte("MPGO\x01\x00\x02\x03"), "a\x00b\x00"...),
		"peer nonprint": append([]byte("MPGO\x01\x00\x00\x00\x02"), "a\n"...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if info, err := mux.ReadPreamble(bytes.NewReader(b)); err == nil {
				t.Fatalf("accepted %q as %+v", b, info)
			}
		})
	}
	if _, err := (mux.StreamInfo{Peer: "tab\t"}).AppendPreamble(nil); !errors.Is(err, mux.ErrBadPreamble) {
		t.Errorf("AppendPreamble with a bad peer: %v", err)
	}
	if _, err := (mux.StreamInfo{Address: &net.IPAddr{}}).AppendPreamble(nil); !errors.Is(err, mux.ErrBadPreamble) {
		t.Errorf("AppendPreamble with an IPAddr: %v", err)
	}
}

// TestGoClientOverSession: managers.Dial over a session's pre-authenticated streams; the
// #PROXY replies name the address the client dialled.
func TestGoClientOverSession(t *testing.T) {
	s := startServer(t, true)
	sess := dialSession(t, s.ml.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", "10.1.2.3:4567", &managers.ClientConfig{Dialer: sess.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lp, err := c.Create(ctx, "list", pickle.Tuple{pickle.NewList()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	inner, err := c.Create(ctx, "list", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	if _, err := lp.Call(ctx, "append", pickle.Tuple{inner}, nil); err != nil {
		t.Fatal(err)
	}
	// __getitem__ of a list holding a proxy returns that proxy: a '#PROXY' reply.
	v, err := lp.Call(ctx, "__getitem__", pickle.Tuple{int64(0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := v.(*managers.Proxy)
	if !ok {
		t.Fatalf("__getitem__ = %#v, want a proxy", v)
	}
	defer p.Close()
	if got := pickle.Repr(p.Token().Address); got != "('10.1.2.3', 4567)" {
		t.Errorf("#PROXY address = %s, want the dialled ('10.1.2.3', 4567)", got)
	}
	// A value larger than a yamux window and than MaxWriteChunk, both ways.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	qp, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer qp.Close()
	if _, err := qp.Call(ctx, "put", pickle.Tuple{big}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := qp.Call(ctx, "get", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := got.([]byte); !ok || !bytes.Equal(b, big) {
		t.Fatalf("1 MiB value came back as %T of %d bytes", got, len(b))
	}
}

// TestPreAuthenticatedNeedsTrust: a listener without TrustPreAuthenticated refuses
// pre-authenticated streams, and still serves streams that carry the handshake.
func TestPreAuthenticatedNeedsTrust(t *testing.T) {
	s := startServer(t, false)
	sess := dialSession(t, s.ml.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c, err := managers.Dial(ctx, "tcp", "127.0.0.1:1", &managers.ClientConfig{Dialer: sess.DialContext}); err == nil {
		c.Close()
		t.Fatal("a pre-authenticated stream was served by a listener that does not trust them")
	}
	handshake := func(ctx context.Context, network, address string) (net.Conn, error) {
		return sess.Open(ctx, mux.StreamInfo{})
	}
	c, err := managers.Dial(ctx, "tcp", "127.0.0.1:1", &managers.ClientConfig{AuthKey: testKey, Dialer: handshake})
	if err != nil {
		t.Fatalf("a stream with the handshake: %v", err)
	}
	c.Close()
	// A wrong key over a stream fails as over a socket.
	if c, err := managers.Dial(ctx, "tcp", "127.0.0.1:1", &managers.ClientConfig{AuthKey: []byte("wrong"), Dialer: handshake}); err == nil || !errors.Is(err, connection.ErrAuthFailed) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("wrong key over a stream: %v", err)
	}
}

// TestUntrustedClientCertificate: a client whose certificate another CA signed gets no
// session, and Dial says why.
func TestUntrustedClientCertificate(t *testing.T) {
	s := startServer(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := mux.Dial(ctx, "tcp", s.ml.Addr().String(), &mux.Config{TLS: pki.RogueTLS()})
	if err == nil {
		sess.Close()
		t.Fatal("a client with an untrusted certificate got a session")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error does not name the certificate: %v", err)
	}
	// No client certificate at all: refused by the config check before any dial.
	if _, err := mux.Dial(ctx, "tcp", s.ml.Addr().String(), &mux.Config{TLS: pki.ClientTLS().Clone()}); err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	if s.ml.NumSessions() > 1 {
		t.Errorf("%d sessions, want at most the trusted one", s.ml.NumSessions())
	}
}

// TestSessionCloseEndsStreams: closing the session fails a call in flight on one of its streams
// at once.
func TestSessionCloseEndsStreams(t *testing.T) {
	s := startServer(t, true)
	sess := dialSession(t, s.ml.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", "127.0.0.1:1", &managers.ClientConfig{Dialer: sess.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bp, err := c.Create(ctx, "Block", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := bp.Call(ctx, "wait", nil, nil); errc <- err }()
	select {
	case <-s.entered:
	case <-ctx.Done():
		t.Fatal("the call never reached the server")
	}
	sess.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the call returned a value from a closed session")
		}
	case <-ctx.Done():
		t.Fatal("the call still blocked after the session closed")
	}
	select {
	case <-sess.Done():
	default:
		t.Fatal("Done not closed")
	}
}

// TestIdleSocketsShed: sockets that never start TLS cannot keep a client out: beyond
// MaxHandshakes the oldest is closed.
func TestIdleSocketsShed(t *testing.T) {
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS(), MaxHandshakes: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Close()
	var idle []net.Conn
	for i := 0; i < 8; i++ {
		c, err := net.Dial("tcp", ml.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// The first four are shed as the next four arrive: reading them ends (EOF).
	for _, c := range idle[:4] {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("an old idle socket was not shed: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := mux.Dial(ctx, "tcp", ml.Addr().String(), &mux.Config{TLS: pki.ClientTLS()})
	if err != nil {
		t.Fatalf("a client behind idle sockets: %v", err)
	}
	s.Close()
}
