package connection_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/mpgo/mpgo/connection"
)

// The round-trip benchmarks compare a Conn with a plain length-prefixed echo
// over the same socket type (the limit: one read of the header, one of the
// payload, one write). bench/conn_bench_test.go adds CPython's
// Listener/Client to the comparison.

func BenchmarkRoundTrip(b *testing.B) {
	for _, tr := range []string{"tcp", "unix"} {
		for _, size := range []int{16, 1024} {
			b.Run(tr+"/plain/"+itoa(size), func(b *testing.B) { benchPlain(b, tr, size) })
			b.Run(tr+"/conn_bytes/"+itoa(size), func(b *testing.B) { benchConnBytes(b, tr, size) })
		}
		b.Run(tr+"/conn_pickle", func(b *testing.B) { benchConnPickle(b, tr) })
	}
}

func itoa(n int) string {
	if n >= 1024 {
		return string(rune('0'+n/1024)) + "KiB"
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10)) + "B"
}

func benchConnBytes(b *testing.B, tr string, size int) {
	s, c := pair(b, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
	go func() {
		for {
			p, err := s.ReadFrame()
			if err != nil {
				return
			}
			if s.WriteFrame(p) != nil {
				return
			}
		}
	}()
	msg := make([]byte, size)
	buf := make([]byte, size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.WriteFrame(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := c.RecvBytesInto(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchConnPickle(b *testing.B, tr string) {
	s, c := pair(b, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
	go func() {
		for {
			v, err := s.Recv()
			if err != nil {
				return
			}
			if s.Send(v) != nil {
				return
			}
		}
	}()
	msg := []any{"put", int64(42), 2.5}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Send(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPlain is the limit: a hand-written length-prefixed echo over a raw
// socket, no buffering, no handshake.
func benchPlain(b *testing.B, tr string, size int) {
	var nl net.Listener
	var err error
	if tr == "tcp" {
		nl, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		nl, err = net.Listen("unix", sockPath(b))
	}
	if err != nil {
		b.Fatal(err)
	}
	defer nl.Close()
	go func() {
		sc, err := nl.Accept()
		if err != nil {
			return
		}
		defer sc.Close()
		PlainEcho(sc)
	}()
	cc, err := net.Dial(nl.Addr().Network(), nl.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	out := make([]byte, 4+size)
	binary.BigEndian.PutUint32(out, uint32(size))
	in := make([]byte, 4+size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := cc.Write(out); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(cc, in[:4]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(in)
		if _, err := io.ReadFull(cc, in[4:4+n]); err != nil {
			b.Fatal(err)
		}
	}
}

// PlainEcho echoes 4-byte length-prefixed frames on c until it fails.
func PlainEcho(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := io.ReadFull(c, buf[:4]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(buf))
		if 4+n > len(buf) {
			return
		}
		if _, err := io.ReadFull(c, buf[4:4+n]); err != nil {
			return
		}
		if _, err := c.Write(buf[:4+n]); err != nil {
			return
		}
	}
}
