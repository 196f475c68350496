package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strings"
	"time"
)

// Conn is one client connection speaking the multiprocessing framing. It
// reuses one read buffer and writes each precomputed frame with one Write.
// It is not safe for concurrent use.
type Conn struct {
	NC  net.Conn
	br  *bufio.Reader
	hdr [4]byte
	buf []byte
}

// NewConn wraps nc; readSize is the bufio size (0: 4096).
func NewConn(nc net.Conn, readSize int) *Conn {
	if readSize <= 0 {
		readSize = 4096
	}
	return &Conn{NC: nc, br: bufio.NewReaderSize(nc, readSize)}
}

// Dial connects over TCP (or unix for an address starting with '/' or '@')
// and, when key is not nil, runs the client side of the HMAC handshake.
func Dial(ctx context.Context, addr string, key []byte) (*Conn, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@") {
		network = "unix"
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := NewConn(nc, 0)
	if key != nil {
		if dl, ok := ctx.Deadline(); ok {
			nc.SetDeadline(dl)
		}
		if err := c.handshake(key); err != nil {
			nc.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		nc.SetDeadline(time.Time{})
	}
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.NC.Close() }

// DropReader releases the read buffer (for idle connections held in bulk);
// the next read allocates a small one again.
func (c *Conn) DropReader() { c.br = nil; c.buf = nil }

// Write sends one precomputed frame (header included).
func (c *Conn) Write(frame []byte) error {
	_, err := c.NC.Write(frame)
	return err
}

// WritePayload frames p and sends it with one Write.
func (c *Conn) WritePayload(p []byte) error { return c.Write(Frame(p)) }

// ReadFrame reads one frame; the payload is valid until the next read.
func (c *Conn) ReadFrame() ([]byte, error) {
	if c.br == nil {
		c.br = bufio.NewReaderSize(c.NC, 512)
	}
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(c.hdr[:])))
	if n < 0 || n > 64<<20 {
		return nil, fmt.Errorf("loadgen: bad frame length %d", n)
	}
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	b := c.buf[:n]
	if _, err := io.ReadFull(c.br, b); err != nil {
		return nil, err
	}
	return b, nil
}

var (
	challenge = []byte("#CHALLENGE#")
	welcome   = []byte("#WELCOME#")
)

func (c *Conn) handshake(key []byte) error {
	// answer_challenge
	msg, err := c.ReadFrame()
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challenge) {
		return fmt.Errorf("expected challenge, got %q", msg)
	}
	msg = msg[len(challenge):]
	var resp []byte
	if len(msg) == 16 || len(msg) == 20 {
		resp = mac(md5.New, key, msg)
	} else {
		end := bytes.IndexByte(msg, '}')
		if msg[0] != '{' || end < 0 {
			return fmt.Errorf("unsupported challenge %q", msg)
		}
		name := string(msg[1:end])
		h, ok := digests[name]
		if !ok {
			return fmt.Errorf("unsupported digest %q", name)
		}
		resp = append([]byte("{"+name+"}"), mac(h, key, msg)...)
	}
	if err := c.WritePayload(resp); err != nil {
		return err
	}
	if r, err := c.ReadFrame(); err != nil {
		return err
	} else if !bytes.Equal(r, welcome) {
		return fmt.Errorf("digest sent was rejected: %q", r)
	}
	// deliver_challenge: a legacy 20-byte challenge, which every version answers with raw MD5.
	ours := make([]byte, 20)
	rand.Read(ours)
	if err := c.WritePayload(append(append([]byte{}, challenge...), ours...)); err != nil {
		return err
	}
	r, err := c.ReadFrame()
	if err != nil {
		return err
	}
	ok := false
	switch {
	case len(r) == 16:
		ok = hmac.Equal(r, mac(md5.New, key, ours))
	case bytes.HasPrefix(r, []byte("{sha256}")):
		ok = hmac.Equal(r[8:], mac(sha256.New, key, ours))
	case bytes.HasPrefix(r, []byte("{md5}")):
		ok = hmac.Equal(r[5:], mac(md5.New, key, ours))
	}
	if !ok {
		c.WritePayload([]byte("#FAILURE#"))
		return errors.New("digest received was wrong")
	}
	return c.WritePayload(welcome)
}

var digests = map[string]func() hash.Hash{"md5": md5.New, "sha256": sha256.New}

func mac(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// RemoteError is a reply whose kind is not '#RETURN'.
type RemoteError struct{ Kind, Text string }

func (e *RemoteError) Error() string { return "loadgen: " + e.Kind + ": " + e.Text }

// Call sends one request pickle and returns the reply's strings
// (see [Strings]); a non-#RETURN reply is a *RemoteError.
func (c *Conn) Call(req []byte) ([]string, error) {
	if err := c.WritePayload(req); err != nil {
		return nil, err
	}
	p, err := c.ReadFrame()
	if err != nil {
		return nil, err
	}
	return checkReply(p)
}

func checkReply(p []byte) ([]string, error) {
	s, err := Strings(p, 64)
	if len(s) == 0 {
		if err == nil {
			err = errScan
		}
		return nil, fmt.Errorf("%w: % x", err, p[:min(len(p), 64)])
	}
	if s[0] != "#RETURN" {
		return s, &RemoteError{Kind: s[0], Text: strings.Join(s[1:], " ")}
	}
	return s, nil
}

// OneShot opens a connection, sends one public-function request and
// returns the reply strings.
func OneShot(ctx context.Context, addr string, key []byte, name string, args ...any) ([]string, error) {
	c, err := Dial(ctx, addr, key)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.NC.SetDeadline(dl)
	}
	return c.Call(Request("", name, args...))
}

// Create creates a shared object of typeid with a one-shot create and
// returns its ident.
func Create(ctx context.Context, addr string, key []byte, typeid string, args ...any) (string, error) {
	s, err := OneShot(ctx, addr, key, "create", append([]any{typeid}, args...)...)
	if err != nil {
		return "", err
	}
	if len(s) < 2 {
		return "", fmt.Errorf("loadgen: create reply without ident: %q", s)
	}
	return s[1], nil
}

// AcceptConnection turns c into a method-call connection.
func (c *Conn) AcceptConnection(name string) error {
	_, err := c.Call(Request("", "accept_connection", name))
	return err
}
