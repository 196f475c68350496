package connection

// PreAuthenticator is implemented by connections whose transport may have
// authenticated the peer already, so that the multiprocessing handshake is
// skipped: the streams of package connection/mux, whose session was opened
// with a client certificate the server verified (mutual TLS), and whose
// opener (mpgo relay) answered the Python client's handshake itself.
//
// A [Listener] calls PreAuthenticated once per accepted connection that
// implements it, in that connection's own goroutine, before the handshake
// and under [Config.HandshakeTimeout] (the connection's deadline is set), so
// an implementation may read a transport preamble there. An error fails the
// connection as a failed handshake would (it is closed, logged in summary
// and reported to [Config.OnHandshakeError]). A true result skips the
// handshake only when the Listener's [Config.TrustPreAuthenticated] is set;
// otherwise the connection is refused. Nothing in the connection's bytes can
// make a Listener skip the handshake: only the net.Listener's own connection
// type and the Listener's configuration can.
type PreAuthenticator interface {
	PreAuthenticated() (bool, error)
}

// PeerWatcher is implemented by connections that are not sockets but can
// wait for their peer to go away without consuming data (the streams of
// package connection/mux). A manager server watches a connection whose call
// blocks (Queue.get, Lock.acquire) and cancels the call when the client has
// gone, so that the call does not take an item for nobody; for sockets it
// peeks at the socket, for a PeerWatcher it calls WaitPeerGone.
type PeerWatcher interface {
	// WaitPeerGone blocks until the peer has closed the connection or the
	// connection failed (true, nil), data has arrived (false, nil; the data
	// is left for the next Read), or the read deadline passed or was moved
	// into the past (an error wrapping os.ErrDeadlineExceeded).
	WaitPeerGone() (gone bool, err error)
}
