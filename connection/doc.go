// Package connection is a Go peer for Python's multiprocessing.connection:
// [Listen] and [Dial] speak the same framing and HMAC handshake as CPython's
// Listener and Client (2.7 and 3.6 to 3.13), and [Conn] exchanges pickled
// objects ([Conn.Send], [Conn.Recv]) and raw messages ([Conn.SendBytes],
// [Conn.RecvBytes], [Conn.RecvBytesInto]) with them.
//
// # Usage
//
//	l, err := connection.Listen("tcp", "127.0.0.1:6000", &connection.Config{AuthKey: []byte("secret")})
//	...
//	c, err := l.AcceptConn()     // authenticated
//	v, err := c.Recv()           // what Python's conn.send(obj) sent
//	err = c.Send([]any{"echo", v})
//
//	c, err := connection.Dial(ctx, "unix", "/tmp/app.sock", &connection.Config{AuthKey: key})
//
// Python's side of the same exchange:
//
//	from multiprocessing.connection import Client
//	with Client(('127.0.0.1', 6000), authkey=b'secret') as c:
//	    c.send([2.25, None, 'junk', float]); print(c.recv())
//
// # Addresses
//
// TCP ("host:port"), Unix socket paths, and on Linux abstract Unix names,
// written "@name" (Go's spelling) or "\x00name" (Python's). [ParseAddress]
// turns a user-written address into a network and address; [PythonAddress]
// gives the value Python uses for an address (a (host, port) tuple, a path
// string, or bytes for an abstract name).
//
// # Frames
//
// Each message is one frame of package wire: a 4-byte signed big-endian
// length and the payload, or ff ff ff ff and an 8-byte length for payloads
// over 2 GiB - 1 (readable by CPython 3.8+ only; never used for smaller
// payloads). Every frame goes out in one write, so no peer ever sees a lone
// header segment.
//
// # Handshake
//
// With a non-nil [Config.AuthKey] both sides prove they know the key, in
// two half-handshakes of three frames each. The server speaks first:
//
//	S->C  "#CHALLENGE#" + MESSAGE        (we send MESSAGE = "{sha256}" + 40 random bytes)
//	C->S  RESPONSE                       (a MAC of the whole MESSAGE)
//	S->C  "#WELCOME#" or "#FAILURE#"
//	then the same three frames with the roles swapped.
//
// A 16- or 20-byte MESSAGE or RESPONSE is the legacy scheme (Python 2.7 and
// 3.6 to 3.11): a raw HMAC-MD5. Anything else must start with "{digest}"
// naming md5, sha256, sha384, sha3_256 or sha3_384 (the 3.12+ scheme), and
// the response is "{digest}" + HMAC-digest(key, MESSAGE). As challenger we
// accept either form; as responder we answer in the form of the challenge.
// So every pair among 2.7, 3.6 to 3.13 and mpgo authenticates. MACs are
// compared with hmac.Equal, handshake frames are limited to 256 bytes, and
// the whole handshake to [Config.HandshakeTimeout] (5 s by default).
// Nothing is unpickled before the handshake has succeeded. A failure is an
// error wrapping [ErrAuthFailed]. With a nil key there is no handshake
// (Python's authkey=None). [ServerHandshake], [ClientHandshake],
// [DeliverChallenge] and [AnswerChallenge] run the handshake over any
// io.ReadWriter.
//
// # Pickle protocol
//
// [Conn.Recv] reads any protocol (0 to 5). [Conn.Send] uses
// [Config.Protocol] when set; by default it writes protocol 2, which every
// CPython can read, until the first pickle received reveals the peer's
// protocol (2 from Python 2.7, 3 from 3.6/3.7, 4 from 3.8 to 3.13), and then
// matches it.
//
// # Accepting
//
// A [Listener] accepts in the background and runs each handshake in its own
// goroutine, so a slow or silent client never blocks others. Idle peers
// cannot fill a pool either: unauthenticated connections are bounded in
// total and per remote address ([Config.MaxUnauthenticated],
// [Config.MaxUnauthenticatedPerAddress]) by closing the oldest of them, which
// are an attacker's idle sockets, never a real client's millisecond
// handshake. Handshake failures are logged in summary (one line per
// interval, counts per address and [FailureReason]), so a flood of wrong
// keys cannot fill a disk.
//
// # Pre-authenticated connections
//
// A transport that authenticates its peers itself (package connection/mux: streams of a session
// whose client certificate the server verified, opened by a relay that answered the Python
// client's handshake) marks its connections: they implement [PreAuthenticator]. A Listener with
// [Config.TrustPreAuthenticated] skips the handshake of a connection that reports itself
// pre-authenticated; without it, such a connection is refused. The decision is the Listener's
// configuration and the net.Listener's connection type, never the peer's bytes.
//
// # Limits
//
// Every limit is a [Config] field whose zero value is a documented default:
//
//	HandshakeTimeout              5 s      the whole handshake of an accepted connection
//	MaxUnauthenticated            3/4 RLIMIT_NOFILE (>= 1024)   connections in their handshake
//	MaxUnauthenticatedPerAddress  256      the same, per remote IP
//	MaxFrameSize                  none     a frame's payload (managers: 64 MiB)
//	WriteTimeout                  10 s     a write without progress (slow-reader cut)
//	KeepAlive                     15 s     TCP keep-alive of authenticated connections
//	FailureLogInterval            10 s     summary interval of handshake failure logs
//
// On Linux, accepted TCP connections use TCP_QUICKACK, re-armed after
// every read: a CPython client does not set TCP_NODELAY and writes "#WELCOME#" and its first request back to back, so
// with the kernel's delayed ACK it would wait about 40 ms per connection.
//
// # Deadlines and cancellation
//
// Conn has the [net.Conn] deadline methods, and *Context variants of the
// blocking calls use context.AfterFunc to move the deadline into the past.
// A deadline or cancellation between frames leaves the connection usable;
// one that interrupts a frame half-way breaks it: the connection is closed
// and later calls return an error wrapping [ErrBroken] (the protocol has no
// message IDs to resynchronise on).
//
// See https://docs.python.org/3/library/multiprocessing.html#module-multiprocessing.connection
// and ../../shared/spec/PROTOCOL.md sections 1 to 3.
package connection
