package pymock

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mpgo/mpgo/pickle"
	"github.com/mpgo/mpgo/wire"
)

// Version is the CPython version a Peer imitates.
type Version struct {
	Major, Minor int
}

// Versions the tests use.
var (
	Py27  = Version{2, 7}
	Py36  = Version{3, 6}
	Py38  = Version{3, 8}
	Py313 = Version{3, 13}
	All   = []Version{Py27, Py36, Py38, Py313}
)

func (v Version) String() string { return fmt.Sprintf("py%d.%d", v.Major, v.Minor) }

// Protocol is the pickle protocol this version's clients send.
func (v Version) Protocol() int {
	switch {
	case v.Major == 2:
		return 2
	case v.Minor < 8:
		return 3
	}
	return 4
}

// Python2 reports whether the version is 2.x.
func (v Version) Python2() bool { return v.Major == 2 }

// modern reports whether the version uses the 3.12 "{digest}" handshake.
func (v Version) modern() bool { return v.Major == 3 && v.Minor >= 12 }

// Peer is one client connection. It is not safe for concurrent use.
type Peer struct {
	Conn    net.Conn
	Version Version
	Timeout time.Duration // per operation; 0: 10 s
}

// Dialer makes connections to a server.
type Dialer func(ctx context.Context) (net.Conn, error)

// TCP returns a Dialer for network/address.
func TCP(network, address string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
}

// Connect dials and, when key is not nil, runs the client side of the handshake.
func Connect(ctx context.Context, dial Dialer, key []byte, v Version) (*Peer, error) {
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	p := &Peer{Conn: c, Version: v}
	if key != nil {
		if err := p.handshake(key); err != nil {
			c.Close()
			return nil, err
		}
	}
	return p, nil
}

func (p *Peer) deadline() {
	d := p.Timeout
	if d == 0 {
		d = 10 * time.Second
	}
	p.Conn.SetDeadline(time.Now().Add(d))
}

// WriteFrame sends one raw frame.
func (p *Peer) WriteFrame(b []byte) error {
	p.deadline()
	return wire.WriteFrame(p.Conn, b)
}

// WriteRaw writes raw bytes (for example a bogus length header).
func (p *Peer) WriteRaw(b []byte) error {
	p.deadline()
	_, err := p.Conn.Write(b)
	return err
}

// ReadFrame reads one raw frame.
func (p *Peer) ReadFrame() ([]byte, error) {
	p.deadline()
	return wire.ReadFrame(p.Conn, 64<<20)
}

var (
	challenge = []byte("#CHALLENGE#")
	welcome   = []byte("#WELCOME#")
	failure   = []byte("#FAILURE#")
)

func response(key, msg []byte) []byte {
	if len(msg) == 20 || len(msg) == 16 {
		m := hmac.New(md5.New, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	if bytes.HasPrefix(msg, []byte("{sha256}")) {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return append([]byte("{sha256}"), m.Sum(nil)...)
	}
	if bytes.HasPrefix(msg, []byte("{md5}")) {
		m := hmac.New(md5.New, key)
		m.Write(msg)
		return append([]byte("{md5}"), m.Sum(nil)...)
	}
	return nil
}

// handshake is answer_challenge then deliver_challenge, as a CPython client does.
func (p *Peer) handshake(key []byte) error {
	msg, err := p.ReadFrame()
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challenge) {
		return fmt.Errorf("pymock: expected a challenge, got %q", msg)
	}
	resp := response(key, msg[len(challenge):])
	if resp == nil {
		return fmt.Errorf("pymock: unsupported challenge %q", msg)
	}
	if err := p.WriteFrame(resp); err != nil {
		return err
	}
	if msg, err = p.ReadFrame(); err != nil {
		return err
	}
	if !bytes.Equal(msg, welcome) {
		return fmt.Errorf("pymock: authentication failed: %q", msg)
	}
	var mine []byte
	if p.Version.modern() {
		mine = make([]byte, 40)
		rand.Read(mine)
		mine = append([]byte("{sha256}"), mine...)
	} else {
		mine = make([]byte, 20)
		rand.Read(mine)
	}
	if err := p.WriteFrame(append(append([]byte(nil), challenge...), mine...)); err != nil {
		return err
	}
	got, err := p.ReadFrame()
	if err != nil {
		return err
	}
	if !hmac.Equal(got, response(key, mine)) {
		p.WriteFrame(failure)
		return errors.New("pymock: server's digest was wrong")
	}
	return p.WriteFrame(welcome)
}

// Encode pickles v as this version's client would.
func (p *Peer) Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := pickle.NewEncoder(&buf)
	enc.SetProtocol(p.Version.Protocol())
	if p.Version.Python2() {
		enc.SetPython2(true)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Send pickles v and sends it.
func (p *Peer) Send(v any) error {
	b, err := p.Encode(v)
	if err != nil {
		return err
	}
	return p.WriteFrame(b)
}

// Recv reads and unpickles one frame.
func (p *Peer) Recv() (any, error) {
	b, err := p.ReadFrame()
	if err != nil {
		return nil, err
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// Reply is a decoded reply.
type Reply struct {
	Kind  string
	Value any
	Raw   []byte // the reply pickle
}

// Request sends (ident, name, args, kwargs) (ident "" is None) and reads the reply.
func (p *Peer) Request(ident, name string, args pickle.Tuple, kwargs *pickle.Dict) (Reply, error) {
	var id any
	if ident != "" {
		id = ident
	}
	if args == nil {
		args = pickle.Tuple{}
	}
	if kwargs == nil {
		kwargs = pickle.NewDict()
	}
	if err := p.Send(pickle.Tuple{id, name, args, kwargs}); err != nil {
		return Reply{}, err
	}
	return p.ReadReply()
}

// ReadReply reads one reply.
func (p *Peer) ReadReply() (Reply, error) {
	b, err := p.ReadFrame()
	if err != nil {
		return Reply{}, err
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		return Reply{}, fmt.Errorf("pymock: bad reply: %w", err)
	}
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return Reply{}, fmt.Errorf("pymock: reply is not a 2-tuple: %s", pickle.Repr(v))
	}
	kind, ok := str(t[0])
	if !ok {
		return Reply{}, fmt.Errorf("pymock: bad reply kind: %s", pickle.Repr(t[0]))
	}
	return Reply{Kind: kind, Value: t[1], Raw: b}, nil
}

// Close closes the connection.
func (p *Peer) Close() error { return p.Conn.Close() }

func str(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case pickle.Py2String:
		return string(s), true
	}
	return "", false
}

// Manager imitates a BaseManager client of one version.
type Manager struct {
	Dial    Dialer
	Key     []byte
	Version Version

	mu      sync.Mutex
	methods *Peer // the thread's method-call connection
}

// Public makes a one-shot call of a public function.
func (m *Manager) Public(ctx context.Context, name string, args ...any) (Reply, error) {
	p, err := Connect(ctx, m.Dial, m.Key, m.Version)
	if err != nil {
		return Reply{}, err
	}
	defer p.Close()
	return p.Request("", name, pickle.Tuple(args), nil)
}

// Create does what manager.typeid(*args) does: create, then incref and decref (the proxy's
// construction), returning the ident and exposed names.
func (m *Manager) Create(ctx context.Context, typeid string, args ...any) (string, []string, error) {
	r, err := m.Public(ctx, "create", append([]any{typeid}, args...)...)
	if err != nil {
		return "", nil, err
	}
	if r.Kind != "#RETURN" {
		return "", nil, fmt.Errorf("pymock: create %s: %s %v", typeid, r.Kind, r.Value)
	}
	t, ok := r.Value.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return "", nil, fmt.Errorf("pymock: create reply %s", pickle.Repr(r.Value))
	}
	ident, _ := str(t[0])
	var exposed []string
	if ex, ok := t[1].(pickle.Tuple); ok {
		for _, e := range ex {
			s, _ := str(e)
			exposed = append(exposed, s)
		}
	}
	for _, f := range []string{"incref", "decref"} {
		if r, err := m.Public(ctx, f, ident); err != nil || r.Kind != "#RETURN" {
			return "", nil, fmt.Errorf("pymock: %s %s: %v %v", f, ident, r, err)
		}
	}
	return ident, exposed, nil
}

// Call calls a method on the manager's method-call connection (opened on first use with
// accept_connection, as _callmethod does).
func (m *Manager) Call(ctx context.Context, ident, method string, args pickle.Tuple, kwargs *pickle.Dict) (Reply, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.methods == nil {
		p, err := Connect(ctx, m.Dial, m.Key, m.Version)
		if err != nil {
			return Reply{}, err
		}
		r, err := p.Request("", "accept_connection", pickle.Tuple{"MainProcess"}, nil)
		if err != nil || r.Kind != "#RETURN" {
			p.Close()
			return Reply{}, fmt.Errorf("pymock: accept_connection: %v %v", r, err)
		}
		m.methods = p
	}
	return m.methods.Request(ident, method, args, kwargs)
}

// Close closes the method-call connection.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.methods != nil {
		m.methods.Close()
		m.methods = nil
	}
}

// PipeListener is an in-memory net.Listener whose connections are net.Pipe pairs.
type PipeListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

// NewPipeListener returns an in-memory listener.
func NewPipeListener() *PipeListener {
	return &PipeListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// Accept returns the server end of the next Dial.
func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener.
func (l *PipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns a placeholder address.
func (l *PipeListener) Addr() net.Addr { return pipeAddr{} }

// Dial connects to the listener.
func (l *PipeListener) Dial(ctx context.Context) (net.Conn, error) {
	c1, c2 := net.Pipe()
	select {
	case l.ch <- c2:
		return c1, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
