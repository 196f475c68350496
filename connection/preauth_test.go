package connection_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
)

// preConn is a connection whose transport claims (or fails) to have authenticated the peer.
type preConn struct {
	net.Conn
	pre bool
	err error
}

func (c *preConn) PreAuthenticated() (bool, error) { return c.pre, c.err }

// chanListener hands out the connections sent on its channel.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { close(l.done); return nil }
func (l *chanListener) Addr() net.Addr { return &net.UnixAddr{Name: "chan", Net: "unix"} }

func TestPreAuthenticated(t *testing.T) {
	key := []byte("key")
	cases := []struct {
		name     string
		trust    bool
		pre      bool
		err      error
		accepted bool // else refused
		clientHS bool // the client runs the handshake
	}{
		{name: "trusted", trust: true, pre: true, accepted: true},
		{name: "not trusted", trust: false, pre: true},
		{name: "not pre-authenticated", trust: true, pre: false, accepted: true, clientHS: true},
		{name: "transport error", trust: true, err: errors.New("bad preamble")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused := make(chan error, 1)
			cl := &chanListener{conns: make(chan net.Conn), done: make(chan struct{})}
			l, err := connection.NewListener(cl, &connection.Config{AuthKey: key, TrustPreAuthenticated: c.trust,
				OnHandshakeError: func(_ net.Addr, err error) { refused <- err }})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			s, p := net.Pipe()
			defer p.Close()
			cl.conns <- &preConn{Conn: s, pre: c.pre, err: c.err}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if c.clientHS {
				go func() {
					cc, err := connection.NewConn(ctx, p, false, &connection.Config{AuthKey: key})
					if err == nil {
						cc.Send("hello")
					}
				}()
			} else {
				go func() {
					cc, _ := connection.NewConn(ctx, p, false, nil)
					cc.Send("hello")
				}()
			}
			accepted := make(chan *connection.Conn, 1)
			go func() {
				if sc, err := l.AcceptContext(ctx); err == nil {
					accepted <- sc
				}
			}()
			select {
			case sc := <-accepted:
				if !c.accepted {
					t.Fatal("accepted")
				}
				v, err := sc.Recv()
				if err != nil || v != "hello" {
					t.Fatalf("Recv = %v, %v", v, err)
				}
				sc.Close()
			case err := <-refused:
				if c.accepted {
					t.Fatalf("refused: %v", err)
				}
				if !errors.Is(err, connection.ErrAuthFailed) {
					t.Fatalf("refusal %v does not wrap ErrAuthFailed", err)
				}
			case <-ctx.Done():
				t.Fatal("neither accepted nor refused")
			}
		})
	}
}
