package loadgen

import (
	"bufio"
	"io"
	"net"
)

// maxEchoFrame bounds the frames Echo accepts; a larger header ends the connection.
const maxEchoFrame = 16 << 20

// Echo writes every 4-byte length-prefixed frame read from c back to c with one Write, until
// c fails or sends a frame over 16 MiB. It is the loopback limit of the framing that the
// benchmarks compare mpgo against: no handshake, no pickle, no allocation per frame.
func Echo(c net.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	buf := make([]byte, 0, 4096)
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := int(uint32(hdr[0])<<24 | uint32(hdr[1])<<16 | uint32(hdr[2])<<8 | uint32(hdr[3]))
		if n > maxEchoFrame {
			return
		}
		buf = append(buf[:0], hdr[:]...)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(br, buf[4:]); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}
