package mux_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// ExampleListen serves a manager over mux sessions and reaches it from a Go client whose
// connections are streams of one session (pre-authenticated: no HMAC handshake per
// connection). The certificates come from a throw-away test CA.
func ExampleListen() {
	pki, err := testpki.NewSet()
	if err != nil {
		log.Fatal(err)
	}
	key := []byte("secret")
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS()})
	if err != nil {
		log.Fatal(err)
	}
	l, err := connection.NewListener(ml, &connection.Config{AuthKey: key, TrustPreAuthenticated: true})
	if err != nil {
		log.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		log.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := mux.Dial(ctx, "tcp", ml.Addr().String(), &mux.Config{TLS: pki.ClientTLS()})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	c, err := managers.Dial(ctx, "tcp", "127.0.0.1:50000", &managers.ClientConfig{Dialer: sess.DialContext})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	q, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	q.Call(ctx, "put", pickle.Tuple{"over one session"}, nil)
	v, err := q.Call(ctx, "get", nil, nil)
	fmt.Println(v, err, sess.NumStreams() >= 1)
	// Output: over one session <nil> true
}
