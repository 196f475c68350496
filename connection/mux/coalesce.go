package mux

import (
	"encoding/binary"
	"net"
)

// yamux frame header layout (spec.md): version, type, flags (2), stream ID (4), length (4).
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

// coalescer sits between a yamux session and its TLS connection. yamux's
// send loop writes a data frame's 12-byte header and its body in two
// calls; each would become a TLS record and a system call of its own. The
// coalescer holds such a header back and writes it with the body that
// always follows it, so a frame costs one record and one write. Only
// yamux's send loop writes, so it needs no lock; reads pass through.
type coalescer struct {
	net.Conn
	hdr [yamuxHeaderSize]byte
	buf []byte
	has bool
}

func (c *coalescer) Write(p []byte) (int, error) {
	if !c.has {
		if len(p) == yamuxHeaderSize && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
			copy(c.hdr[:], p)
			c.has = true
			return len(p), nil
		}
		return c.Conn.Write(p)
	}
	c.has = false
	// One copy (a body is at most a stream window, MaxWriteChunk when our
	// Stream wrote it) saves a system call and a TLS record per frame.
	c.buf = append(append(c.buf[:0], c.hdr[:]...), p...)
	n, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 4*MaxWriteChunk {
		c.buf = nil
	}
	return max(n-yamuxHeaderSize, 0), err
}
