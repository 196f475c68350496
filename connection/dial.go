package connection

import (
	"context"
	"fmt"
	"net"
)

// Dial connects to a multiprocessing Listener (or a manager) and runs the
// client side of the handshake, like Python's Client(address, authkey).
// network and address are as for [Listen]; an empty network is derived from
// the address by [ParseAddress]. ctx bounds the dial and the handshake;
// [Config.HandshakeTimeout] bounds the handshake too. Once Dial returns, ctx
// no longer affects the connection.
func Dial(ctx context.Context, network, address string, cfg *Config) (*Conn, error) {
	c, err := newConfig(cfg)
	if err != nil {
		return nil, err
	}
	if network == "" {
		network, address = ParseAddress(address)
	}
	address = normalizeUnix(network, address)
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("connection: dial: %w", err)
	}
	conn := newConn(nc, c, false)
	if err := conn.handshake(ctx, false); err != nil {
		nc.Close()
		return nil, err
	}
	return conn, nil
}

// NewConn runs the handshake over an already established connection and
// returns it as a Conn; server selects the Listener's role (challenge
// first) rather than the client's. The Conn takes ownership of nc (it is
// closed if the handshake fails). It is how a net.Pipe or a custom
// transport becomes a Conn.
func NewConn(ctx context.Context, nc net.Conn, server bool, cfg *Config) (*Conn, error) {
	c, err := newConfig(cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	conn := newConn(nc, c, server)
	if err := conn.handshake(ctx, server); err != nil {
		nc.Close()
		return nil, err
	}
	return conn, nil
}
