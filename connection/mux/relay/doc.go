// Package relay is `mpgo relay`: it runs on the Python clients' machine, accepts their
// connections (TCP or a Unix socket) unchanged, and carries each as a stream of one long-lived
// session (package [github.com/mpgo/mpgo/connection/mux]: yamux over mutual TLS 1.3) to a remote
// `mpgo serve --mux-address`.
//
// With the manager's authkey ([Config].AuthKey) the relay answers each client's HMAC handshake
// itself, on the local machine, and opens a pre-authenticated stream: no handshake crosses the
// link, and a stream opens in no round trip, so a CPython client's connect() + m.Queue() + put +
// get costs about 8 round trips of the link instead of about 31. Without the key every stream
// carries the client's handshake end to end (a dumb pipe, still encrypted).
//
// Each stream's preamble names the address the client reached the relay at, so the manager's
// '#PROXY' replies (nested proxies, method_to_typeid results) name the relay, which the client
// can reach.
//
// # Session loss
//
// The relay keeps one session up. When it is lost (the link broke, a ping went unanswered, the
// server went away), every client connection bound to it is closed at once, so Python raises
// (EOFError, ConnectionResetError) instead of hanging, and the relay redials with exponential
// backoff (MinBackoff to MaxBackoff) and jitter. Bytes are never replayed on a new session: a
// put is not idempotent, and a connection's state on the server (its thread, its locks) is gone.
// A client that arrives while no session is up waits for one up to HandshakeTimeout, then its
// connection is closed. When the server sends a go-away (its mux listener is closing), the relay
// dials a new session for new clients and leaves the old one to the clients still on it.
//
//	r, err := relay.New(&relay.Config{
//		Server:  "manager.example:7000",
//		Mux:     mux.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}},
//		AuthKey: key,
//	})
//	l, err := net.Listen("tcp", "127.0.0.1:50000")
//	err = r.Serve(l)
package relay
