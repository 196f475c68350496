package relay_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/connection/mux/relay"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// ExampleNew relays local clients to a manager's mux listener. The client here is Go's
// managers.Dial; a CPython SyncManager(address=relay address, authkey=key) works the same,
// unchanged. The certificates come from a throw-away test CA.
func ExampleNew() {
	pki, err := testpki.NewSet()
	if err != nil {
		log.Fatal(err)
	}
	key := []byte("secret")

	// The server: a manager behind a mux listener (mpgo serve --mux-address).
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS()})
	if err != nil {
		log.Fatal(err)
	}
	sl, err := connection.NewListener(ml, &connection.Config{AuthKey: key, TrustPreAuthenticated: true})
	if err != nil {
		log.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		log.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	go srv.Serve(sl)
	defer srv.Close()

	// The relay, on the clients' machine (mpgo relay).
	r, err := relay.New(&relay.Config{Server: ml.Addr().String(), Mux: mux.Config{TLS: pki.ClientTLS()}, AuthKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go r.Serve(l)

	// A client of the relay, as if the manager were local.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", l.Addr().String(), &managers.ClientConfig{AuthKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	d, err := c.Create(ctx, "dict", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	d.Call(ctx, "__setitem__", pickle.Tuple{"via", "relay"}, nil)
	v, err := d.Call(ctx, "__getitem__", pickle.Tuple{"via"}, nil)
	fmt.Println(v, err)
	// Output: relay <nil>
}
