package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxShortLen is the largest payload length that fits the normal 4-byte
// header (2 GiB - 1). Longer payloads use the extended header.
const MaxShortLen = 0x7fffffff

// HeaderLen is the size of a normal frame header; ExtHeaderLen the size of an
// extended one (ff ff ff ff + 8-byte length).
const (
	HeaderLen    = 4
	ExtHeaderLen = 12
)

// ErrFrameTooLarge is returned (wrapped, with the sizes) when a frame is
// longer than the reader's limit.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// ErrBadLength is returned (wrapped, with the value) for a negative 4-byte
// length other than -1 or an extended length that does not fit in an int.
var ErrBadLength = errors.New("wire: bad frame length")

// chunk is the largest allocation made before the payload bytes have
// actually arrived.
const chunk = 1 << 20

// headerLenFor returns the header size needed for an n-byte payload.
func headerLenFor(n int) int {
	if uint64(n) > MaxShortLen {
		return ExtHeaderLen
	}
	return HeaderLen
}

// AppendHeader appends the header for an n-byte payload to dst: the 4-byte
// form, or the extended form when n > [MaxShortLen].
func AppendHeader(dst []byte, n int) []byte {
	if uint64(n) > MaxShortLen {
		dst = append(dst, 0xff, 0xff, 0xff, 0xff)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// PutHeader writes the header for an n-byte payload at the end of
// dst[:ExtHeaderLen] and returns the offset where it starts (0 for an
// extended header, 8 for a normal one). It lets a writer reserve
// [ExtHeaderLen] bytes, append the payload after them, and then send
// dst[off:] as one frame without moving the payload.
func PutHeader(dst []byte, n int) (off int) {
	_ = dst[ExtHeaderLen-1]
	if uint64(n) > MaxShortLen {
		binary.BigEndian.PutUint32(dst[0:], 0xffffffff)
		binary.BigEndian.PutUint64(dst[4:], uint64(n))
		return 0
	}
	binary.BigEndian.PutUint32(dst[8:], uint32(n))
	return 8
}

// AppendFrame appends the frame for payload p (header and payload) to dst
// and returns the extended slice.
func AppendFrame(dst, p []byte) []byte {
	dst = AppendHeader(dst, len(p))
	return append(dst, p...)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled is the largest buffer returned to the pool.
const maxPooled = 64 << 10

// WriteFrame writes p as one frame to w with a single Write call (header and
// payload copied together into a pooled buffer), so that a peer with
// TCP_NODELAY or Nagle never sees a lone header segment. It does not retain
// p.
func WriteFrame(w io.Writer, p []byte) error {
	bp := bufPool.Get().(*[]byte)
	b := AppendFrame((*bp)[:0], p)
	_, err := w.Write(b)
	if cap(b) <= maxPooled {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	if err != nil {
		return err
	}
	return nil
}

// ReadFrame reads one frame from r and returns its payload, which the caller
// owns. max > 0 limits the payload length ([ErrFrameTooLarge]); max <= 0
// means no limit. io.EOF is returned only when r ends cleanly before the
// first header byte.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var fr Reader
	fr.r = r
	fr.max = max
	n, err := fr.ReadHeader()
	if err != nil {
		return nil, err
	}
	return fr.readPayload(nil, n, false)
}

// Reader reads frames from an underlying reader, reusing one payload buffer.
// It is not safe for concurrent use.
type Reader struct {
	r       io.Reader
	max     int
	hdr     [8]byte
	buf     []byte
	pending int  // payload bytes announced by the last header and not yet read
	have    bool // a header was read and its payload is pending
	broken  bool // the stream position is inside a frame after an error
}

// NewReader returns a Reader that reads frames from r with no size limit.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Reset discards the Reader's state and makes it read from r, keeping its
// buffer and limit.
func (r *Reader) Reset(rd io.Reader) {
	r.r = rd
	r.pending, r.have, r.broken = 0, false, false
}

// SetMaxFrameSize sets the largest payload accepted; n <= 0 means no limit.
func (r *Reader) SetMaxFrameSize(n int) { r.max = n }

// MaxFrameSize returns the limit set by [Reader.SetMaxFrameSize].
func (r *Reader) MaxFrameSize() int { return r.max }

// InFrame reports whether the stream is positioned inside a frame: a read
// failed after consuming part of a frame, a header was rejected as too large,
// or [Reader.ReadHeader] was called and the payload not yet read. Such a
// stream cannot yield further frames until the payload is read.
func (r *Reader) InFrame() bool { return r.broken || r.have }

// ReadFrame reads the next frame and returns its payload. The slice is backed
// by the Reader's buffer and is valid only until the next call on r.
func (r *Reader) ReadFrame() ([]byte, error) {
	n, err := r.ReadHeader()
	if err != nil {
		return nil, err
	}
	return r.readPayload(r.buf, n, true)
}

// ReadHeader reads the next frame header and returns the payload length,
// which the caller must then read with [Reader.ReadPayload]. A length above
// the limit returns an error wrapping [ErrFrameTooLarge] and leaves the
// payload unread (the stream is then unusable, as in CPython).
func (r *Reader) ReadHeader() (int, error) {
	if r.have {
		return 0, errors.New("wire: ReadHeader called with a payload pending")
	}
	if r.broken {
		return 0, errors.New("wire: stream broken inside a frame")
	}
	n, err := io.ReadFull(r.r, r.hdr[:4])
	if err != nil {
		if n > 0 {
			r.broken = true
		}
		if err == io.EOF && n == 0 {
			return 0, io.EOF
		}
		return 0, err
	}
	l := int64(int32(binary.BigEndian.Uint32(r.hdr[:4])))
	if l == -1 {
		if _, err := io.ReadFull(r.r, r.hdr[:8]); err != nil {
			r.broken = true
			return 0, unexpected(err)
		}
		u := binary.BigEndian.Uint64(r.hdr[:8])
		if u > uint64(maxInt) {
			r.broken = true
			return 0, fmt.Errorf("%w: extended length %d", ErrBadLength, u)
		}
		l = int64(u)
	} else if l < 0 {
		r.broken = true
		return 0, fmt.Errorf("%w: %d", ErrBadLength, l)
	}
	if r.max > 0 && l > int64(r.max) {
		r.broken = true
		return 0, fmt.Errorf("%w: %d bytes (limit %d)", ErrFrameTooLarge, l, r.max)
	}
	r.have, r.pending = true, int(l)
	return int(l), nil
}

// ReadPayload reads the payload announced by the last [Reader.ReadHeader].
// When dst is large enough the payload is read into dst[:n] and that slice
// is returned; otherwise a new slice is allocated (and owned by the caller).
func (r *Reader) ReadPayload(dst []byte) ([]byte, error) {
	if !r.have {
		return nil, errors.New("wire: ReadPayload without a header")
	}
	return r.readPayload(dst, r.pending, false)
}

// Discard skips the payload announced by the last [Reader.ReadHeader].
func (r *Reader) Discard() error {
	if !r.have {
		return errors.New("wire: Discard without a header")
	}
	n, err := io.CopyN(io.Discard, r.r, int64(r.pending))
	if err != nil {
		r.broken = true
		r.have = false
		if n < int64(r.pending) && err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	r.have, r.pending = false, 0
	return nil
}

const maxInt = int(^uint(0) >> 1)

// keepBuf is the largest buffer a Reader keeps between frames.
const keepBuf = 4 << 20

// readPayload reads n payload bytes into dst when it is large enough, else
// into a new slice grown as data arrives. reuse records the result as the
// Reader's buffer.
func (r *Reader) readPayload(dst []byte, n int, reuse bool) ([]byte, error) {
	r.have, r.pending = false, 0
	var p []byte
	if cap(dst) >= n {
		p = dst[:n]
		if _, err := io.ReadFull(r.r, p); err != nil {
			r.broken = true
			return nil, unexpected(err)
		}
	} else {
		var err error
		p, err = readGrowing(r.r, n)
		if err != nil {
			r.broken = true
			return nil, err
		}
	}
	if reuse {
		if cap(p) <= keepBuf {
			r.buf = p[:0]
		} else {
			r.buf = nil
		}
	}
	return p, nil
}

// readGrowing reads exactly n bytes into a new slice without allocating more
// than about twice what has actually arrived.
func readGrowing(r io.Reader, n int) ([]byte, error) {
	if n <= chunk {
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, unexpected(err)
		}
		return p, nil
	}
	p := make([]byte, 0, chunk)
	for len(p) < n {
		if len(p) == cap(p) {
			c := 2 * cap(p)
			if c > n {
				c = n
			}
			np := make([]byte, len(p), c)
			copy(np, p)
			p = np
		}
		m, err := io.ReadFull(r, p[len(p):cap(p)])
		p = p[:len(p)+m]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	return p, nil
}

// unexpected turns io.EOF into io.ErrUnexpectedEOF: the caller is inside a frame.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
