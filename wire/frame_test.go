package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/internal/capture"
	"github.com/mpgo/mpgo/wire"
)

// Frames copied from ../../shared/spec/captures/handshake_py313.txt and
// handshake_py311.txt.
var golden = []struct {
	name    string
	frame   string
	payload string
}{
	{"welcome", "000000092357454c434f4d4523", "#WELCOME#"},
	{"failure", "00000009234641494c55524523", "#FAILURE#"},
	{"empty", "00000000", ""},
	{"pickle_hello_p4", "0000001480049509000000000000008c0568656c6c6f942e", ""},
	{"challenge_sha256", "0000003b234348414c4c454e4745237b7368613235367d1ca5106c0c0c091ff1e365be9f4f152cbf1bc34ab3aa81b8c73b65499f0a33c9c8147b784999f892", ""},
	{"challenge_legacy", "0000001f234348414c4c454e474523711d4cba0df5c052954cb369b38461b7f06938cc", ""},
	{"md5_response", "00000010305f7f5da9901bc50f86552002ea0fea", ""},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			frame := capture.Hex(t, g.frame)
			p, err := wire.ReadFrame(bytes.NewReader(frame), 0)
			if err != nil {
				t.Fatal(err)
			}
			if g.payload != "" && string(p) != g.payload {
				t.Fatalf("payload %q, want %q", p, g.payload)
			}
			if !bytes.Equal(p, frame[4:]) {
				t.Fatalf("payload %x, want %x", p, frame[4:])
			}
			if got := wire.AppendFrame(nil, p); !bytes.Equal(got, frame) {
				t.Fatalf("AppendFrame = %x, want %x", got, frame)
			}
			var buf bytes.Buffer
			if err := wire.WriteFrame(&buf, p); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), frame) {
				t.Fatalf("WriteFrame = %x, want %x", buf.Bytes(), frame)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want error
	}{
		{"clean_eof", "", 0, io.EOF},
		{"partial_header", "0000", 0, io.ErrUnexpectedEOF},
		{"partial_payload", "00000005616263", 0, io.ErrUnexpectedEOF},
		{"partial_ext_header", "ffffffff0000", 0, io.ErrUnexpectedEOF},
		{"negative", "fffffffe", 0, wire.ErrBadLength},
		{"min_int32", "80000000", 0, wire.ErrBadLength},
		{"ext_too_big", "ffffffff8000000000000000", 0, wire.ErrBadLength},
		{"too_large", "000000056162636465", 4, wire.ErrFrameTooLarge},
		{"ext_too_large", "ffffffff00000000000000056162636465", 4, wire.ErrFrameTooLarge},
		{"huge_announced_short", "7fffffff616263", 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.ReadFrame(bytes.NewReader(capture.Hex(t, tt.in)), tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			r := wire.NewReader(bytes.NewReader(capture.Hex(t, tt.in)))
			r.SetMaxFrameSize(tt.max)
			_, err = r.ReadFrame()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Reader: err = %v, want %v", err, tt.want)
			}
			if got, want := r.InFrame(), tt.want != io.EOF; got != want {
				t.Fatalf("InFrame = %v, want %v", got, want)
			}
		})
	}
}

func TestExtendedHeaderRead(t *testing.T) {
	// A small payload in the extended form: writers never produce it, but
	// readers must accept it (CPython 3.8+ reads it too).
	in := capture.Hex(t, "ffffffff0000000000000003616263"+"00000002686a")
	r := wire.NewReader(bytes.NewReader(in))
	for _, want := range []string{"abc", "hj"} {
		p, err := r.ReadFrame()
		if err != nil || string(p) != want {
			t.Fatalf("got %q, %v; want %q", p, err, want)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatalf("err = %v, want io.EOF", err)
	}
}

func TestAppendHeader(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "00000000"},
		{9, "00000009"},
		{wire.MaxShortLen, "7fffffff"},
		{wire.MaxShortLen + 1, "ffffffff0000000080000000"},
		{1 << 33, "ffffffff0000000200000000"},
	} {
		if got := hex.EncodeToString(wire.AppendHeader(nil, tt.n)); got != tt.want {
			t.Errorf("AppendHeader(%d) = %s, want %s", tt.n, got, tt.want)
		}
		var b [wire.ExtHeaderLen]byte
		off := wire.PutHeader(b[:], tt.n)
		if got := hex.EncodeToString(b[off:]); got != tt.want {
			t.Errorf("PutHeader(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestWriteFrameOneWrite(t *testing.T) {
	for _, n := range []int{0, 1, 100, 16384, 16385, 1 << 20} {
		var w countingWriter
		p := bytes.Repeat([]byte{'x'}, n)
		if err := wire.WriteFrame(&w, p); err != nil {
			t.Fatal(err)
		}
		if w.writes != 1 {
			t.Fatalf("n=%d: %d writes, want 1", n, w.writes)
		}
		got, err := wire.ReadFrame(&w.Buffer, 0)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("n=%d: round trip failed: %v", n, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := errWriter{}
	if err := wire.WriteFrame(w, []byte("x")); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestLargeFrameGrowing(t *testing.T) {
	p := make([]byte, 5<<20+3)
	for i := range p {
		p[i] = byte(i * 7)
	}
	frame := wire.AppendFrame(nil, p)
	got, err := wire.ReadFrame(bytes.NewReader(frame), 0)
	if err != nil || !bytes.Equal(got, p) {
		t.Fatalf("large frame: %v", err)
	}
	r := wire.NewReader(bytes.NewReader(frame))
	got, err = r.ReadFrame()
	if err != nil || !bytes.Equal(got, p) {
		t.Fatalf("large frame via Reader: %v", err)
	}
}

func TestReaderHeaderPayload(t *testing.T) {
	in := wire.AppendFrame(wire.AppendFrame(wire.AppendFrame(nil, []byte("hello")), []byte("skip me")), []byte("world!"))
	r := wire.NewReader(bytes.NewReader(in))
	n, err := r.ReadHeader()
	if err != nil || n != 5 {
		t.Fatalf("ReadHeader = %d, %v", n, err)
	}
	if !r.InFrame() {
		t.Fatal("InFrame false with payload pending")
	}
	buf := make([]byte, 16)
	p, err := r.ReadPayload(buf)
	if err != nil || string(p) != "hello" || &p[0] != &buf[0] {
		t.Fatalf("ReadPayload = %q, %v (in place: %v)", p, err, err == nil && &p[0] == &buf[0])
	}
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if err := r.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	p, err = r.ReadPayload(buf[:0:2])
	if err != nil || string(p) != "world!" {
		t.Fatalf("ReadPayload into short buffer = %q, %v", p, err)
	}
	if r.InFrame() {
		t.Fatal("InFrame true after the payload was read")
	}
}

func TestReaderZeroAlloc(t *testing.T) {
	frame := wire.AppendFrame(nil, bytes.Repeat([]byte("a"), 200))
	src := bytes.NewReader(frame)
	r := wire.NewReader(src)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(frame)
		r.Reset(src)
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Reader.ReadFrame allocates %v times per frame, want 0", allocs)
	}
}

func BenchmarkReaderReadFrame(b *testing.B) {
	frame := wire.AppendFrame(nil, bytes.Repeat([]byte("a"), 64))
	src := bytes.NewReader(frame)
	r := wire.NewReader(src)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(frame)
		r.Reset(src)
		if _, err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	p := bytes.Repeat([]byte("a"), 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := wire.WriteFrame(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
