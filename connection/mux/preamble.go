package mux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

// The stream preamble (docs/relay.md): what the opener of a stream tells the
// server before the stream's first multiprocessing byte.
//
//	offset  size  field
//	0       4     magic "MPGO"
//	4       1     version (1)
//	5       1     flags: bit 0 = pre-authenticated; the other bits must be 0
//	6       1     address kind: 0 none, 1 TCP ("ip:port"), 2 Unix (a path, or "@name")
//	7       1     address length A (0 with kind 0, else 1 to 255)
//	8       A     address
//	8+A     1     peer length P (0 to 255)
//	9+A     P     peer: the opener's client, for logs (printable ASCII)
//
// It is at most 519 bytes, read with exact reads (nothing past it), and
// rejected whole if any field is out of range.
const (
	preambleMagic   = "MPGO"
	preambleVersion = 1

	flagPreAuthenticated = 1 << 0
	knownFlags           = flagPreAuthenticated

	addrNone = 0
	addrTCP  = 1
	addrUnix = 2

	preambleHeader = 8
	// MaxPreamble is the largest stream preamble.
	MaxPreamble = preambleHeader + 255 + 1 + 255
)

// ErrBadPreamble is returned (wrapped, with the reason) for a stream whose
// preamble is malformed: wrong magic, unknown version or flags, an invalid
// address or peer. The stream is refused.
var ErrBadPreamble = errors.New("mux: bad stream preamble")

func badPreamble(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadPreamble}, args...)...)
}

// StreamInfo is what the opener of a stream tells the server about it, in
// the stream preamble.
type StreamInfo struct {
	// PreAuthenticated says that the opener answered the client's
	// multiprocessing handshake itself (mpgo relay with the authkey): the
	// stream carries no handshake. A server honours it only with
	// connection.Config.TrustPreAuthenticated.
	PreAuthenticated bool

	// Address is the address the client knows the server by (the relay's
	// listen address as the client reached it): a *net.TCPAddr with an IP
	// or a *net.UnixAddr. The server reports it as the stream's LocalAddr,
	// so it is the address '#PROXY' replies name. nil: none (the server
	// reports the address of its mux listener).
	Address net.Addr

	// Peer describes the opener's own client (a Python process's address),
	// for the server's logs; at most 255 printable ASCII bytes.
	Peer string
}

// AppendPreamble appends the preamble of i to dst.
func (i StreamInfo) AppendPreamble(dst []byte) ([]byte, error) {
	kind, addr, err := encodeAddr(i.Address)
	if err != nil {
		return dst, err
	}
	if err := checkPeer(i.Peer); err != nil {
		return dst, err
	}
	var flags byte
	if i.PreAuthenticated {
		flags |= flagPreAuthenticated
	}
	dst = append(dst, preambleMagic...)
	dst = append(dst, preambleVersion, flags, kind, byte(len(addr)))
	dst = append(dst, addr...)
	dst = append(dst, byte(len(i.Peer)))
	return append(dst, i.Peer...), nil
}

func encodeAddr(a net.Addr) (kind byte, s string, err error) {
	switch a := a.(type) {
	case nil:
		return addrNone, "", nil
	case *net.TCPAddr:
		if a == nil {
			return addrNone, "", nil
		}
		ap := a.AddrPort()
		if !ap.Addr().IsValid() {
			return 0, "", badPreamble("TCP address %v has no IP", a)
		}
		return addrTCP, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
	case *net.UnixAddr:
		if a == nil {
			return addrNone, "", nil
		}
		if err := checkUnix(a.Name); err != nil {
			return 0, "", err
		}
		return addrUnix, a.Name, nil
	}
	return 0, "", badPreamble("address type %T (want *net.TCPAddr or *net.UnixAddr)", a)
}

func checkUnix(name string) error {
	if name == "" || len(name) > 255 || strings.IndexByte(name, 0) >= 0 {
		return badPreamble("Unix address %q: empty, longer than 255 bytes or with a NUL byte", name)
	}
	return nil
}

func checkPeer(p string) error {
	if len(p) > 255 {
		return badPreamble("peer longer than 255 bytes")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			return badPreamble("peer has a non-printable byte 0x%02x", p[i])
		}
	}
	return nil
}

// ReadPreamble reads one stream preamble from r, reading exactly its bytes
// and no more, and validates it.
func ReadPreamble(r io.Reader) (StreamInfo, error) {
	var buf [MaxPreamble]byte
	h := buf[:preambleHeader]
	if _, err := io.ReadFull(r, h); err != nil {
		return StreamInfo{}, fmt.Errorf("mux: reading stream preamble: %w", err)
	}
	if string(h[:4]) != preambleMagic {
		return StreamInfo{}, badPreamble("magic %q", h[:4])
	}
	if h[4] != preambleVersion {
		return StreamInfo{}, badPreamble("unknown version %d", h[4])
	}
	flags, kind, alen := h[5], h[6], int(h[7])
	if flags&^knownFlags != 0 {
		return StreamInfo{}, badPreamble("unknown flags 0x%02x", flags)
	}
	if (kind == addrNone) != (alen == 0) || kind > addrUnix {
		return StreamInfo{}, badPreamble("address kind %d with length %d", kind, alen)
	}
	rest := buf[preambleHeader : preambleHeader+alen+1]
	if _, err := io.ReadFull(r, rest); err != nil {
		return StreamInfo{}, fmt.Errorf("mux: reading stream preamble: %w", noEOF(err))
	}
	info := StreamInfo{PreAuthenticated: flags&flagPreAuthenticated != 0}
	addr := string(rest[:alen])
	switch kind {
	case addrTCP:
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return StreamInfo{}, badPreamble("TCP address %q: %v", addr, err)
		}
		info.Address = net.TCPAddrFromAddrPort(ap)
	case addrUnix:
		if err := checkUnix(addr); err != nil {
			return StreamInfo{}, err
		}
		info.Address = &net.UnixAddr{Name: addr, Net: "unix"}
	}
	if plen := int(rest[alen]); plen > 0 {
		p := buf[preambleHeader+alen+1 : preambleHeader+alen+1+plen]
		if _, err := io.ReadFull(r, p); err != nil {
			return StreamInfo{}, fmt.Errorf("mux: reading stream preamble: %w", noEOF(err))
		}
		if err := checkPeer(string(p)); err != nil {
			return StreamInfo{}, err
		}
		info.Peer = string(p)
	}
	return info, nil
}

// noEOF turns an EOF inside the preamble into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
