package wire_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/mpgo/mpgo/internal/capture"
	"github.com/mpgo/mpgo/wire"
)

// FuzzReadFrame checks that any byte stream either yields frames that
// re-encode to exactly the bytes consumed, or fails with one of the
// documented errors, and never allocates from an announced length alone.
func FuzzReadFrame(f *testing.F) {
	for _, g := range golden {
		f.Add(capture.Hex(f, g.frame), 0)
	}
	f.Add(capture.Hex(f, "ffffffff0000000000000003616263"), 0)
	f.Add(capture.Hex(f, "fffffffe00000001"), 0)
	f.Add(capture.Hex(f, "7fffffff00"), 0)
	f.Add(capture.Hex(f, "0000000561626364650000"), 3)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		r := wire.NewReader(bytes.NewReader(in))
		r.SetMaxFrameSize(max)
		var out []byte
		consumed := 0
		for {
			p, err := r.ReadFrame()
			if err != nil {
				if err == io.EOF {
					if consumed != len(in) {
						t.Fatalf("io.EOF after %d of %d bytes", consumed, len(in))
					}
				} else if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, wire.ErrBadLength) && !errors.Is(err, wire.ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if max > 0 && len(p) > max {
				t.Fatalf("frame of %d bytes over limit %d", len(p), max)
			}
			// Re-encode; an extended header for a short payload is the only
			// non-canonical form a reader accepts.
			hl := 4
			if bytes.HasPrefix(in[consumed:], []byte{0xff, 0xff, 0xff, 0xff}) {
				hl = 12
			} else {
				out = wire.AppendFrame(out[:0], p)
				if !bytes.Equal(out, in[consumed:consumed+len(out)]) {
					t.Fatalf("re-encoded %x, consumed %x", out, in[consumed:consumed+len(out)])
				}
			}
			consumed += hl + len(p)
		}
	})
}
