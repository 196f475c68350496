package mux_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/mpgo/mpgo/connection/mux"
)

// FuzzReadPreamble: the parser never panics, never reads past MaxPreamble, and what it accepts
// encodes back to exactly the bytes it consumed.
func FuzzReadPreamble(f *testing.F) {
	for _, info := range []mux.StreamInfo{
		{},
		{PreAuthenticated: true, Address: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, Peer: "127.0.0.1:40000"},
		{Address: &net.TCPAddr{IP: net.IPv6loopback, Port: 7}},
		{PreAuthenticated: true, Address: &net.UnixAddr{Name: "/tmp/r.sock", Net: "unix"}},
		{Address: &net.UnixAddr{Name: "@abstract", Net: "unix"}, Peer: "@"},
	} {
		b, err := info.AppendPreamble(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(b, "trailing"...))
	}
	f.Add([]byte("MPGO\x01\x00\x01\x0b1.2.3.4:567\x00"))
	f.Add([]byte("MPGO\x02\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		info, err := mux.ReadPreamble(r)
		used := len(b) - r.Len()
		if used > mux.MaxPreamble {
			t.Fatalf("read %d bytes, more than MaxPreamble", used)
		}
		if err != nil {
			return
		}
		again, err := info.AppendPreamble(nil)
		if err != nil {
			t.Fatalf("accepted %+v but cannot encode it: %v", info, err)
		}
		if !bytes.Equal(again, b[:used]) {
			// The only other spelling of an accepted address is a TCP address's (e.g. a
			// zero-padded or IPv4-mapped IP); it must decode to the same value.
			info2, err := mux.ReadPreamble(bytes.NewReader(again))
			if err != nil || addrStr(info2.Address) != addrStr(info.Address) || info2.Peer != info.Peer || info2.PreAuthenticated != info.PreAuthenticated {
				t.Fatalf("%q decoded to %+v, re-encoded as %q, which decodes to %+v (%v)", b[:used], info, again, info2, err)
			}
		}
	})
}
