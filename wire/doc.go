// Package wire reads and writes the length-prefixed frames of Python's
// multiprocessing.connection protocol over any [io.Reader] / [io.Writer].
//
// It knows nothing about sockets, authentication or pickle: package
// connection builds on it for those.
//
// # Wire layout
//
// Every message (handshake token, pickled object, raw send_bytes payload) is
// one frame:
//
//	normal frame   : LEN (4 bytes, signed 32-bit big-endian, 0 <= LEN <= 0x7fffffff) | PAYLOAD
//	extended frame : ff ff ff ff | LEN64 (8 bytes, unsigned 64-bit big-endian)       | PAYLOAD
//
// An empty message is just 00 00 00 00. The extended form is written only for
// payloads larger than 2 GiB - 1 ([MaxShortLen]); only CPython 3.8+ can read
// it, and 2.7/3.6/3.7 peers are desynchronised by it, so writers here never use
// it for smaller payloads. Readers always accept it. A negative 4-byte length
// other than -1 is a protocol error ([ErrBadLength]); CPython 3.x would
// silently return an empty message there.
//
// # Errors
//
// [io.EOF] is returned only for a clean end of stream between frames. A stream
// that ends inside a header or payload gives [io.ErrUnexpectedEOF] (CPython's
// "got end of file during message"). A frame longer than the caller's limit
// gives an error wrapping [ErrFrameTooLarge]; its payload is left unread, as
// CPython's recv_bytes(maxlength) leaves it, so the stream cannot be used for
// further reads.
//
// # Buffers
//
// [ReadFrame] returns a freshly allocated payload that the caller owns.
// [Reader.ReadFrame] reuses an internal buffer: the returned slice is only
// valid until the next call on that Reader (compare x/net/http2's Framer).
// [WriteFrame] and [AppendFrame] never retain p.
//
// Memory is never allocated from a length taken off the wire alone: payloads
// larger than 1 MiB are read in growing chunks, so a peer that announces 2 GiB
// and sends 10 bytes costs about 1 MiB, not 2 GiB.
//
// See https://docs.python.org/3/library/multiprocessing.html#connection-objects
// and ../../shared/spec/PROTOCOL.md section 2.
package wire
