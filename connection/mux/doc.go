// Package mux carries multiprocessing connections as streams of one long-lived,
// mutually authenticated session: yamux (github.com/hashicorp/yamux v0.1.2) over TLS 1.3 with
// client certificates. It is the transport under `mpgo serve --mux-address` and `mpgo relay`
// (package [github.com/mpgo/mpgo/connection/mux/relay]), and a Go client's dialer
// (managers.ClientConfig.Dialer).
//
// A fresh TCP connection and a two-way HMAC handshake per call cost a CPython client about 30
// round trips for connect() + m.Queue() + put + get; over a session a stream opens in no round
// trip, and a stream the relay marks pre-authenticated needs no handshake at all. Everything
// between relay and server is encrypted: no plaintext pickle crosses the network.
//
// # Server
//
//	ml, err := mux.Listen("tcp", ":7000", &mux.Config{TLS: &tls.Config{
//		Certificates: []tls.Certificate{serverCert},
//		ClientCAs:    clientCAPool, // a client certificate signed by this CA is required
//	}})
//	l, err := connection.NewListener(ml, &connection.Config{AuthKey: key, TrustPreAuthenticated: true})
//	err = srv.Serve(l) // a managers.Server, beside its plain listener
//
// [Listener] is a [net.Listener] whose connections are [Stream]s: connection.Listener serves
// them like sockets (same handshake timeout, limits, logs). A client whose certificate was not
// signed by one of the ClientCAs fails the TLS handshake and gets no session.
//
// # Client
//
//	sess, err := mux.Dial(ctx, "tcp", "server:7000", &mux.Config{TLS: &tls.Config{
//		Certificates: []tls.Certificate{clientCert}, RootCAs: serverCAPool}})
//	c, err := managers.Dial(ctx, "tcp", "server:50000", &managers.ClientConfig{Dialer: sess.DialContext})
//
// # Streams and their preamble
//
// Every stream starts with a preamble from its opener (docs/relay.md has the byte layout): a
// version, whether the opener has authenticated the multiprocessing client itself
// ([StreamInfo].PreAuthenticated), and the address the client knows the server by. The server
// reads it in the stream's own goroutine under the handshake timeout (the stream implements
// connection.PreAuthenticator), never in the accept loop. The address becomes the stream's
// LocalAddr, which is what a manager names in '#PROXY' replies, so proxies returned to a relayed
// Python client point at the relay. A pre-authenticated stream skips the handshake only on a
// listener with connection.Config.TrustPreAuthenticated; the session it arrived on carries a
// verified client certificate.
//
// # Settings, and the yamux traps they avoid
//
// Every [Config] field has a documented default:
//
//	HandshakeTimeout    10 s     TCP dial and TLS handshake
//	MaxHandshakes       1024     server connections in their TLS handshake (the oldest is shed)
//	KeepAliveInterval   15 s     session pings; an unanswered ping ends the session
//	WriteTimeout        30 s     yamux ConnectionWriteTimeout (frames and ping answers)
//	StreamOpenTimeout   30 s     an unacknowledged stream ends the session
//	StreamCloseTimeout  1 min    a half-closed stream is reset
//	AcceptBacklog       256      streams opened and not yet accepted (both ends must agree)
//	StreamWindow        256 KiB  per-stream receive window
//
// They are chosen against yamux's known traps:
//
//   - A stream that is never accepted closes the whole session after the opener's
//     StreamOpenTimeout, so the Listener accepts (and so acknowledges) streams in a loop per
//     session that never waits for anything else; TLS handshakes and preambles run elsewhere.
//   - One large Write would be sent as frames as large as the stream window, each holding the
//     session's single send queue: a [Stream] writes at most [MaxWriteChunk] (64 KiB) per frame.
//   - After yamux.ErrConnectionWriteTimeout a stream's state is unreliable: the session is
//     closed, and with it every stream.
//   - Pings wait behind queued data, up to 64 frames of 64 KiB and 256 KiB being written:
//     WriteTimeout must cover sending 4.25 MiB on the slowest link expected (30 s: about
//     1.2 Mbit/s). A vanished peer is noticed
//     within KeepAliveInterval + WriteTimeout (45 s); a closed or reset connection at once.
//
// A data frame's 12-byte header and its body are written to TLS together, and frames queued
// while a write is in progress leave together in the next: one TLS record and one system call
// for several frames on a busy session, none held back to wait for more. A manager call blocked on a stream (Queue.get) ends when its client
// closes the stream or the session dies: [Stream] implements connection.PeerWatcher.
package mux
