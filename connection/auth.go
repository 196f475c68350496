package connection

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/mpgo/mpgo/wire"
)

// Handshake tokens (multiprocessing.connection's CHALLENGE, WELCOME, FAILURE).
const (
	challengePrefix = "#CHALLENGE#"
	welcome         = "#WELCOME#"
	failure         = "#FAILURE#"
)

// MaxHandshakeFrame is the largest frame read during the handshake; CPython
// reads every handshake message with recv_bytes(256).
const MaxHandshakeFrame = 256

// challengeRandLen is the number of random bytes in a challenge (CPython 3.12+
// uses 40; the legacy scheme used 20).
const challengeRandLen = 40

// minChallenge is the shortest challenge message a responder accepts
// (CPython 3.12+ rejects shorter ones as "challenge too short").
const minChallenge = 20

// DefaultDigest is the digest named in the challenges we send, as CPython
// 3.12+ does.
const DefaultDigest = "sha256"

// digests are the names CPython 3.12+ accepts in a "{name}" prefix
// (multiprocessing.connection._ALLOWED_DIGESTS).
var digests = map[string]func() hash.Hash{
	"md5":      md5.New,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() },
}

// maxDigestName is the length of the longest allowed digest name.
const maxDigestName = 8

// ErrAuthFailed is returned (wrapped, with the reason) when the handshake
// fails: a wrong key on either side, a malformed or unsupported message, a
// too-long frame or a peer that closes or stalls during the handshake. It
// plays the role of Python's AuthenticationError.
var ErrAuthFailed = errors.New("connection: authentication failed")

func authErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrAuthFailed}, args...)...)
}

// errWrongKey marks a handshake that failed on the MAC itself: the peer
// speaks the protocol but holds another key.
var errWrongKey = errors.New("wrong key")

// reasonError is the detail of an ErrAuthFailed that matches a reason's
// sentinel (errWrongKey) without showing it in the message.
type reasonError struct {
	msg    string
	reason error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.reason }

func wrongKeyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrAuthFailed, &reasonError{fmt.Sprintf(format, args...), errWrongKey})
}

// ErrShed is the cause of a handshake that was cut short because the
// Listener reached [Config.MaxUnauthenticated] or
// [Config.MaxUnauthenticatedPerAddress] and this was the oldest
// unauthenticated connection.
var ErrShed = errors.New("connection: shed to admit a newer connection (too many unauthenticated connections)")

// Handshake failure reasons returned by [FailureReason].
const (
	ReasonTimeout  = "timeout"   // the handshake did not finish within the timeout
	ReasonClosed   = "closed"    // the peer closed or reset the connection
	ReasonWrongKey = "wrong_key" // the peer answered with a MAC of another key
	ReasonProtocol = "protocol"  // a malformed, unsupported or oversized message
	ReasonShed     = "shed"      // closed to admit a newer connection (see ErrShed)
	ReasonOther    = "other"
)

// FailureReason classifies a handshake error (as passed to
// [Config.OnHandshakeError]) into one of the Reason constants, for logs
// and metrics with a bounded set of labels.
func FailureReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrShed):
		return ReasonShed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, errWrongKey):
		return ReasonWrongKey
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return ReasonClosed
	case errors.Is(err, ErrAuthFailed):
		return ReasonProtocol
	}
	return ReasonOther
}

// ioAuthErr wraps an I/O error that ended a handshake so that it matches
// both ErrAuthFailed and the underlying error (io.EOF, a timeout, ...).
func ioAuthErr(step string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrAuthFailed, step, err)
}

// classify splits a challenge or response into its digest name and payload
// (multiprocessing.connection._get_digest_name_and_payload): a 16- or
// 20-byte message is legacy MD5; otherwise it must start with "{name}" with
// an allowed name.
func classify(msg []byte) (name string, payload []byte, ok bool) {
	if len(msg) == 16 || len(msg) == 20 {
		return "md5", msg, true
	}
	if len(msg) > 0 && msg[0] == '{' {
		end := maxDigestName + 2
		if end > len(msg) {
			end = len(msg)
		}
		if i := bytes.IndexByte(msg[1:end], '}'); i >= 0 {
			name := string(msg[1 : 1+i])
			if _, ok := digests[name]; ok {
				return name, msg[2+i:], true
			}
		}
	}
	return "", nil, false
}

func mac(name string, key, msg []byte) []byte {
	m := hmac.New(digests[name], key)
	m.Write(msg)
	return m.Sum(nil)
}

// DeliverChallenge runs the challenger half of the handshake on rw
// (multiprocessing.connection.deliver_challenge): it sends
// "#CHALLENGE#{sha256}" + 40 random bytes, reads the peer's response (at most
// [MaxHandshakeFrame] bytes), checks it in constant time and answers
// "#WELCOME#" or "#FAILURE#". A legacy (2.7 to 3.11) peer answers with a raw
// 16-byte HMAC-MD5 of the whole prefixed message; a 3.12+ peer answers
// "{digest}" + HMAC, with any allowed digest. Failures wrap [ErrAuthFailed].
func DeliverChallenge(rw io.ReadWriter, key []byte) error {
	msg := make([]byte, 0, 2+len(DefaultDigest)+challengeRandLen)
	msg = append(msg, '{')
	msg = append(msg, DefaultDigest...)
	msg = append(msg, '}')
	msg = msg[:len(msg)+challengeRandLen]
	if _, err := rand.Read(msg[len(msg)-challengeRandLen:]); err != nil {
		return fmt.Errorf("connection: challenge: %w", err)
	}
	return deliverMessage(rw, key, msg)
}

// deliverMessage is DeliverChallenge with a given message (tests use it to
// act as a legacy challenger).
func deliverMessage(rw io.ReadWriter, key, msg []byte) error {
	if err := wire.WriteFrame(rw, append([]byte(challengePrefix), msg...)); err != nil {
		return ioAuthErr("sending challenge", err)
	}
	resp, err := wire.ReadFrame(rw, MaxHandshakeFrame)
	if err != nil {
		if errors.Is(err, wire.ErrFrameTooLarge) {
			_ = wire.WriteFrame(rw, []byte(failure))
		}
		return ioAuthErr("reading response", err)
	}
	name, got, ok := classify(resp)
	if !ok {
		_ = wire.WriteFrame(rw, []byte(failure))
		return authErr("unsupported message length, missing digest prefix, or unsupported digest in response of %d bytes", len(resp))
	}
	want := mac(name, key, msg)
	if !hmac.Equal(want, got) {
		_ = wire.WriteFrame(rw, []byte(failure))
		if len(want) != len(got) {
			return wrongKeyErr("expected %s digest of length %d, got %d", name, len(want), len(got))
		}
		return wrongKeyErr("digest received was wrong")
	}
	if err := wire.WriteFrame(rw, []byte(welcome)); err != nil {
		return ioAuthErr("sending welcome", err)
	}
	return nil
}

// AnswerChallenge runs the responder half of the handshake on rw
// (multiprocessing.connection.answer_challenge): it reads "#CHALLENGE#" +
// message, answers with a raw HMAC-MD5 for a legacy 20-byte message or with
// "{digest}" + HMAC for a prefixed one (the MAC always covers the whole
// message, prefix included), and expects "#WELCOME#". Failures wrap
// [ErrAuthFailed].
func AnswerChallenge(rw io.ReadWriter, key []byte) error {
	ch, err := wire.ReadFrame(rw, MaxHandshakeFrame)
	if err != nil {
		return ioAuthErr("reading challenge", err)
	}
	if !bytes.HasPrefix(ch, []byte(challengePrefix)) {
		return authErr("protocol error, expected challenge, got %d bytes starting %q", len(ch), prefixOf(ch))
	}
	msg := ch[len(challengePrefix):]
	if len(msg) < minChallenge {
		return authErr("challenge too short: %d bytes", len(msg))
	}
	name, _, ok := classify(msg)
	if !ok {
		return authErr("unsupported message length, missing digest prefix, or unsupported digest in challenge of %d bytes", len(msg))
	}
	var resp []byte
	if len(msg) == 16 || len(msg) == 20 {
		resp = mac("md5", key, msg)
	} else {
		resp = append([]byte("{"+name+"}"), mac(name, key, msg)...)
	}
	if err := wire.WriteFrame(rw, resp); err != nil {
		return ioAuthErr("sending response", err)
	}
	reply, err := wire.ReadFrame(rw, MaxHandshakeFrame)
	if err != nil {
		return ioAuthErr("reading welcome", err)
	}
	if string(reply) != welcome {
		return wrongKeyErr("digest sent was rejected")
	}
	return nil
}

func prefixOf(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

// ServerHandshake authenticates the peer as a Listener does: it delivers a
// challenge, then answers the peer's. A nil key skips the handshake (Python's
// authkey=None); an empty non-nil key runs it with the empty key, as CPython
// 3.13 does.
func ServerHandshake(rw io.ReadWriter, key []byte) error {
	if key == nil {
		return nil
	}
	if err := DeliverChallenge(rw, key); err != nil {
		return err
	}
	return AnswerChallenge(rw, key)
}

// ClientHandshake authenticates the peer as Python's Client() does: it
// answers the server's challenge, then delivers its own. A nil key skips the
// handshake.
func ClientHandshake(rw io.ReadWriter, key []byte) error {
	if key == nil {
		return nil
	}
	if err := AnswerChallenge(rw, key); err != nil {
		return err
	}
	return DeliverChallenge(rw, key)
}
