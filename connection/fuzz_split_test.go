package connection

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/mpgo/mpgo/internal/capture"
	"github.com/mpgo/mpgo/wire"
)

// Fixed challenge messages, so that a handshake is a deterministic function
// of the peer's bytes (and a fuzzer can reach the accepting paths).
var (
	splitModernMsg = append([]byte("{sha256}"), bytes.Repeat([]byte{0x5a}, challengeRandLen)...)
	splitLegacyMsg = bytes.Repeat([]byte{0xa5}, 20)
)

// splitRoles are the handshake halves FuzzHandshakeSplit runs, chosen by
// the fuzzer's mode: a server (challenge, then answer the peer's) and a
// client (answer, then challenge), each with the 3.12+ "{sha256}" and the
// legacy MD5 challenge.
var splitRoles = []struct {
	name string
	run  func(rw io.ReadWriter) error
	msg  []byte
}{
	{"server_sha256", func(rw io.ReadWriter) error { return splitServer(rw, splitModernMsg) }, splitModernMsg},
	{"server_legacy", func(rw io.ReadWriter) error { return splitServer(rw, splitLegacyMsg) }, splitLegacyMsg},
	{"client_sha256", func(rw io.ReadWriter) error { return splitClient(rw, splitModernMsg) }, splitModernMsg},
	{"client_legacy", func(rw io.ReadWriter) error { return splitClient(rw, splitLegacyMsg) }, splitLegacyMsg},
}

func splitServer(rw io.ReadWriter, msg []byte) error {
	if err := deliverMessage(rw, key, msg); err != nil {
		return err
	}
	return AnswerChallenge(rw, key)
}

func splitClient(rw io.ReadWriter, msg []byte) error {
	if err := AnswerChallenge(rw, key); err != nil {
		return err
	}
	return deliverMessage(rw, key, msg)
}

// splitPeer feeds a handshake from r and records what it writes.
type splitPeer struct {
	r   io.Reader
	out bytes.Buffer
}

func (s *splitPeer) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *splitPeer) Write(p []byte) (int, error) { return s.out.Write(p) }

// chunked returns in through reads of the given sizes, cycled (0 counts as
// 1); no sizes: one read.
type chunked struct {
	in    []byte
	sizes []byte
	i     int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := len(c.in)
	if len(c.sizes) > 0 {
		n = max(int(c.sizes[c.i%len(c.sizes)]), 1)
		c.i++
	}
	n = min(n, len(p), len(c.in))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

// handshakeOutcome runs one role on input r: the error (or "ok"), its
// FailureReason, what the role wrote and how much it read.
func handshakeOutcome(run func(io.ReadWriter) error, r io.Reader, total int) string {
	cr := &countingReader{r: r}
	p := &splitPeer{r: cr}
	err := run(p)
	res := "ok"
	if err != nil {
		res = fmt.Sprintf("%v [%s]", err, FailureReason(err))
	}
	return fmt.Sprintf("%s; wrote %x; read %d of %d", res, p.out.Bytes(), cr.n, total)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// validTranscript is what an honest peer sends to role i, with key k:
// for a server, the response to its challenge, then a challenge, then
// "#WELCOME#"; for a client, a challenge, then "#WELCOME#", then the
// response to its challenge.
func validTranscript(i int, k []byte) []byte {
	role := splitRoles[i]
	resp := func(msg []byte) []byte {
		if len(msg) == 20 {
			return mac("md5", k, msg)
		}
		return append([]byte("{sha256}"), mac("sha256", k, msg)...)
	}
	peerMsg := append([]byte("{sha256}"), bytes.Repeat([]byte{0x33}, 40)...)
	if i%2 == 1 {
		peerMsg = bytes.Repeat([]byte{0x44}, 20)
	}
	var b []byte
	if i < 2 {
		b = wire.AppendFrame(b, resp(role.msg))
		b = wire.AppendFrame(b, append([]byte(challengePrefix), peerMsg...))
		b = wire.AppendFrame(b, []byte(welcome))
	} else {
		b = wire.AppendFrame(b, append([]byte(challengePrefix), peerMsg...))
		b = wire.AppendFrame(b, []byte(welcome))
		b = wire.AppendFrame(b, resp(role.msg))
	}
	return b
}

// FuzzHandshakeSplit runs both halves of both handshake schemes (server and
// client, "{sha256}" and legacy MD5 challenges) on the fuzzer's bytes
// delivered whole, one byte at a time, split in two at every position, and
// in the chunk sizes the fuzzer chooses: the outcome (accepted or the same
// error, the same bytes written, the same bytes consumed) must not depend
// on how the input was cut, nothing may panic, and a failure is always
// ErrAuthFailed.
func FuzzHandshakeSplit(f *testing.F) {
	for i := range splitRoles {
		f.Add(uint8(i), validTranscript(i, key), []byte{1})
		f.Add(uint8(i), validTranscript(i, key), []byte{5, 1, 13})
		f.Add(uint8(i), validTranscript(i, []byte("wrong")), []byte{2})
		v := validTranscript(i, key)
		f.Add(uint8(i), v[:len(v)-3], []byte{})                  // truncated
		f.Add(uint8(i), append(v, 0xde, 0xad), []byte{7})        // trailing bytes
		f.Add(uint8(i), capture.Hex(f, "7fffffff00"), []byte{1}) // 2 GiB header
		f.Add(uint8(i), capture.Hex(f, "80000000"), []byte{1})   // negative header
		f.Add(uint8(i), capture.Hex(f, "ffffffff0000000080000000"), []byte{3})
	}
	for _, g := range responderGolden {
		f.Add(uint8(2), capture.Hex(f, g.challenge+welcomeFrame), []byte{1})
		f.Add(uint8(0), capture.Hex(f, g.response+g.challenge+welcomeFrame), []byte{9})
	}
	for _, g := range challengerGolden {
		f.Add(uint8(0), capture.Hex(f, g.response), []byte{4})
	}
	f.Add(uint8(0), []byte("GET / HTTP/1.1\r\n\r\n"), []byte{1})
	f.Fuzz(func(t *testing.T, mode uint8, in []byte, sizes []byte) {
		if len(in) > 4096 {
			return
		}
		role := splitRoles[int(mode)%len(splitRoles)]
		run := func(rw io.ReadWriter) (err error) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s panicked on %x: %v", role.name, in, p)
				}
			}()
			err = role.run(rw)
			if err != nil && !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("%s: error %v does not wrap ErrAuthFailed", role.name, err)
			}
			return err
		}
		want := handshakeOutcome(run, bytes.NewReader(in), len(in))
		check := func(how string, r io.Reader) {
			if got := handshakeOutcome(run, r, len(in)); got != want {
				t.Fatalf("%s, %s: %s\nwhole input: %s", role.name, how, got, want)
			}
		}
		check("one byte at a time", iotest.OneByteReader(bytes.NewReader(in)))
		check(fmt.Sprintf("chunks %v", sizes), &chunked{in: in, sizes: sizes})
		for at := 0; at <= len(in); at++ {
			check(fmt.Sprintf("split at %d", at), io.MultiReader(bytes.NewReader(in[:at]), bytes.NewReader(in[at:])))
		}
	})
}

// TestHandshakeSplitTranscripts: the honest transcripts of the fuzz seeds
// are accepted (so the fuzzer starts from the accepting paths), and one
// made with another key is not.
func TestHandshakeSplitTranscripts(t *testing.T) {
	for i, role := range splitRoles {
		p := &splitPeer{r: bytes.NewReader(validTranscript(i, key))}
		if err := role.run(p); err != nil {
			t.Errorf("%s: honest transcript rejected: %v", role.name, err)
		}
		p = &splitPeer{r: bytes.NewReader(validTranscript(i, []byte("wrong")))}
		if err := role.run(p); FailureReason(err) != ReasonWrongKey {
			t.Errorf("%s: transcript of another key: %v (%q), want %s", role.name, err, FailureReason(err), ReasonWrongKey)
		}
	}
}
