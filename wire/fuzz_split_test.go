package wire_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/mpgo/mpgo/internal/capture"
	"github.com/mpgo/mpgo/wire"
)

// chunkReader returns its input in pieces: the sizes cycle through sizes (a
// size of 0 counts as 1), so a stream arrives the way a socket may deliver
// it. An empty sizes list delivers everything in one Read.
type chunkReader struct {
	in    []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := len(c.in)
	if len(c.sizes) > 0 {
		n = max(c.sizes[c.i%len(c.sizes)], 1)
		c.i++
	}
	n = min(n, len(p), len(c.in))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

// splitReader returns in[:at] from its first Read and the rest afterwards
// (what NATS's FuzzParser does to its parser with every split position).
func splitReader(in []byte, at int) io.Reader {
	return io.MultiReader(bytes.NewReader(in[:at]), bytes.NewReader(in[at:]))
}

// frameTrace reads frames from r until an error and records each payload
// and the final error, in a form two traces can be compared by.
func frameTrace(r io.Reader, max int, reuse bool) []string {
	var out []string
	var fr *wire.Reader
	if reuse {
		fr = wire.NewReader(r)
		fr.SetMaxFrameSize(max)
	}
	for range 10000 {
		var p []byte
		var err error
		if reuse {
			p, err = fr.ReadFrame()
		} else {
			p, err = wire.ReadFrame(r, max)
		}
		if err != nil {
			return append(out, "err: "+err.Error())
		}
		out = append(out, fmt.Sprintf("frame %x", p))
	}
	return append(out, "(stopped)")
}

func sameTrace(t *testing.T, how string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, whole input gave %d\ngot  %q\nwant %q", how, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: result %d is %q, whole input gave %q", how, i, got[i], want[i])
		}
	}
}

// FuzzFrameReaderSplit checks that how the stream is cut into reads never
// changes what a reader sees: the same frames and the same final error
// whether the input arrives whole, one byte at a time, split in two at any
// position, or in the chunk sizes the fuzzer chooses; for both
// wire.Reader.ReadFrame and wire.ReadFrame.
func FuzzFrameReaderSplit(f *testing.F) {
	for _, g := range golden {
		f.Add(capture.Hex(f, g.frame), 0, []byte{1})
		f.Add(capture.Hex(f, g.frame+g.frame), 0, []byte{3, 7})
	}
	f.Add(capture.Hex(f, "ffffffff0000000000000003616263"), 0, []byte{5})
	f.Add(capture.Hex(f, "fffffffe00000001"), 0, []byte{2})
	f.Add(capture.Hex(f, "7fffffff00"), 0, []byte{1})
	f.Add(capture.Hex(f, "7fffffff00"), 16, []byte{1})
	f.Add(capture.Hex(f, "80000000"), 0, []byte{1})
	f.Add(capture.Hex(f, "ffffffff8000000000000000"), 0, []byte{4})
	f.Add(capture.Hex(f, "0000000561626364650000"), 3, []byte{1, 2})
	f.Add(capture.Hex(f, "00000005616263"), 0, []byte{})
	f.Add(capture.Hex(f, "000000"), 0, []byte{1})
	f.Fuzz(func(t *testing.T, in []byte, limit int, sizes []byte) {
		if len(in) > 4096 {
			return
		}
		for _, reuse := range []bool{true, false} {
			want := frameTrace(bytes.NewReader(in), limit, reuse)
			sameTrace(t, "one byte at a time", frameTrace(iotest.OneByteReader(bytes.NewReader(in)), limit, reuse), want)
			cs := make([]int, len(sizes))
			for i, s := range sizes {
				cs[i] = int(s)
			}
			sameTrace(t, fmt.Sprintf("chunks %v", cs), frameTrace(&chunkReader{in: in, sizes: cs}, limit, reuse), want)
			// Every split position; for an input over 256 bytes, 256 spread over it. With a
			// limit of at most 64 KiB (a header announcing more fails at once), so that the
			// hundreds of reads do not each allocate the 1 MiB a large announcement costs;
			// the reads above cover the fuzzer's own limit.
			small := limit
			if small <= 0 || small > 1<<16 {
				small = 1 << 16
			}
			wantSmall := frameTrace(bytes.NewReader(in), small, reuse)
			step := max(len(in)/256, 1)
			for at := 0; at <= len(in); at += step {
				sameTrace(t, fmt.Sprintf("split at %d", at), frameTrace(splitReader(in, at), small, reuse), wantSmall)
			}
		}
	})
}
