package managers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

// ErrClientClosed is returned by calls on a [Client] (and its proxies) after [Client.Close].
var ErrClientClosed = errors.New("managers: client closed")

// ErrProxyClosed is returned by [Proxy.Call] after [Proxy.Close].
var ErrProxyClosed = errors.New("managers: proxy closed")

// Dialect selects how a [Client] encodes its requests.
type Dialect int

const (
	// DialectAuto (the zero value) speaks Python 3 (pickle protocol 4, as CPython 3.8+ does) unless
	// the reply to the first request shows a Python 2 server (a protocol 2 reply to a protocol 4
	// request: only CPython 2.7 answers that way); then it speaks [DialectPython2].
	DialectAuto Dialect = iota
	// DialectPython3 always speaks Python 3: pickle protocol 4 (or ClientConfig.Protocol).
	DialectPython3
	// DialectPython2 speaks to a CPython 2.7 server: pickle protocol 2, Python 2 module names
	// (__builtin__, exceptions, Queue) and ASCII text as Python 2 str.
	DialectPython2
)

func (d Dialect) String() string {
	switch d {
	case DialectAuto:
		return "auto"
	case DialectPython3:
		return "python3"
	case DialectPython2:
		return "python2"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// ClientConfig configures a [Client]. A nil *ClientConfig and the zero value are valid: no
// authentication key (only for servers without one, which CPython managers never are), Python 3
// dialect with automatic detection of a Python 2 server, default limits.
type ClientConfig struct {
	// AuthKey is the manager's authentication key (BaseManager's authkey). nil: no handshake.
	AuthKey []byte
	// Logger receives what has no caller to return to (failed decrefs while closing). nil: discard.
	Logger logrus.FieldLogger
	// HandshakeTimeout bounds the HMAC handshake of every connection. 0: connection's default (5 s).
	HandshakeTimeout time.Duration
	// Dialect selects the pickle dialect of requests; see [DialectAuto].
	Dialect Dialect
	// Protocol is the pickle protocol of requests. 0: 4 for Python 3, 2 for Python 2 (the maximum a
	// Python 2 server reads; larger values are lowered to 2 there).
	Protocol int
	// MaxIdleConns caps the method-call connections kept open between calls. 0: 4. Negative: keep
	// none (every method call opens and closes its own connection).
	MaxIdleConns int
	// MaxConcurrentDials caps the connections being opened (dialled and authenticated) at once.
	// A CPython server accepts with a small backlog (16 before 3.13), so a burst of new
	// connections (many goroutines starting blocking calls together) overflows it and stalls the
	// handshakes. 0: 8.
	MaxConcurrentDials int
	// MaxFrameSize caps a reply frame. 0: no limit beyond memory safety.
	MaxFrameSize int
	// Serializer is the serializer of the server (BaseManager's serializer argument):
	// [SerializerPickle] or [SerializerXMLRPCLib] (requests and replies as XML-RPC documents;
	// see package doc for what such a connection can carry). "": pickle.
	Serializer string
	// Name is sent with accept_connection (CPython sends the process and thread name; the server
	// only uses it to name its thread). "": "MainProcess|mpgo".
	Name string
	// ServerAddress is the Python address value of the server used in tokens: the address inside
	// proxies passed as arguments, which a Python server compares with its own address to recognise
	// its objects. nil: derived from the dialled address: a tuple (IP, port) of the address actually
	// reached for TCP (what a Python server bound to that IP reports), the path for a Unix socket, and
	// bytes "\x00name" for an abstract socket.
	ServerAddress any
	// Dialer, if set, opens the client's connections instead of a TCP or Unix dial: it is called
	// with the network and address given to Dial, and the connection it returns is authenticated
	// as usual, unless it implements connection.PreAuthenticator and reports itself
	// pre-authenticated (then no handshake is run; the transport has authenticated both ends).
	// The streams of a connection/mux Session do: Dialer: session.DialContext. nil: net.Dialer.
	Dialer func(ctx context.Context, network, address string) (net.Conn, error)
	// ProxyTypes maps typeids to the Python proxy class named when a proxy of that typeid is sent as
	// an argument (the client-side registry of BaseManager.register(proxytype=...)). Entries override
	// the SyncManager defaults (list: ListProxy, dict: DictProxy, Lock: AcquirerProxy, ...); a typeid
	// in neither uses AutoProxy with its exposed names. A value names a class of
	// multiprocessing.managers, or "module.Name".
	ProxyTypes map[string]string
}

// Client is a connection to a Python (or mpgo) manager server, like a connected BaseManager on
// the client side. It creates objects ([Client.Create]), calls the server's public functions, and
// keeps a small pool of method-call connections used by its proxies.
//
// A Client is safe for concurrent use by multiple goroutines. As CPython keeps one method-call
// connection per thread, every method call in flight has a connection of its own, so a blocking
// call (Queue.get, Lock.acquire, Event.wait) never delays calls of other goroutines; idle
// connections are kept up to ClientConfig.MaxIdleConns.
type Client struct {
	network, address string
	cfg              ClientConfig
	connCfg          connection.Config
	log              logrus.FieldLogger
	pyAddr           any
	dialSem          chan struct{}
	xml              bool // ClientConfig.Serializer is xmlrpclib

	mu       sync.Mutex
	py2      bool
	idle     []*connection.Conn
	busy     map[*connection.Conn]struct{}
	proxies  map[*Proxy]struct{}
	closed   bool
	closeErr error
}

// Dial connects to the manager server at address on network ("tcp", "tcp4", "unix"; see
// connection.ParseAddress for turning "host:port" or a path into these) and checks it with the
// public function dummy, as BaseManager.connect() does. cfg may be nil.
func Dial(ctx context.Context, network, address string, cfg *ClientConfig) (*Client, error) {
	c := &Client{network: network, address: address, busy: map[*connection.Conn]struct{}{}, proxies: map[*Proxy]struct{}{}}
	if cfg != nil {
		c.cfg = *cfg
	}
	switch c.cfg.Dialect {
	case DialectAuto, DialectPython3:
	case DialectPython2:
		c.py2 = true
	default:
		return nil, fmt.Errorf("managers: unknown dialect %d", c.cfg.Dialect)
	}
	switch c.cfg.Serializer {
	case "", SerializerPickle:
	case SerializerXMLRPCLib:
		c.xml = true
	default:
		return nil, fmt.Errorf("managers: unknown serializer %q (pickle or xmlrpclib)", c.cfg.Serializer)
	}
	if c.cfg.Protocol < 0 || c.cfg.Protocol > 5 {
		return nil, fmt.Errorf("managers: pickle protocol %d out of range 0..5", c.cfg.Protocol)
	}
	c.log = c.cfg.Logger
	if c.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		c.log = l
	}
	nd := c.cfg.MaxConcurrentDials
	if nd <= 0 {
		nd = 8
	}
	c.dialSem = make(chan struct{}, nd)
	c.connCfg = connection.Config{AuthKey: c.cfg.AuthKey, HandshakeTimeout: c.cfg.HandshakeTimeout, MaxFrameSize: c.cfg.MaxFrameSize}

	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.pyAddr = c.cfg.ServerAddress
	if c.pyAddr == nil {
		c.pyAddr = pythonAddressOf(network, address, conn.RemoteAddr())
	}
	detect := c.cfg.Dialect == DialectAuto && !c.xml
	_, err = c.exchange(ctx, conn, nil, "dummy", nil, nil, detect)
	conn.Close()
	if err != nil && c.Python2() && detect {
		// A Python 2 server could not read the protocol 4 request: say it again in its dialect.
		_, err = c.CallPublic(ctx, "dummy", nil, nil)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// pythonAddressOf is the Python address value of a dialled server (see ClientConfig.ServerAddress).
func pythonAddressOf(network, address string, remote net.Addr) any {
	switch network {
	case "unix", "unixpacket":
		if strings.HasPrefix(address, "@") {
			return []byte("\x00" + address[1:])
		}
		if strings.HasPrefix(address, "\x00") {
			return []byte(address)
		}
		return address
	}
	if ta, ok := remote.(*net.TCPAddr); ok {
		ip := ta.IP.String()
		if v4 := ta.IP.To4(); v4 != nil {
			ip = v4.String()
		}
		return pickle.Tuple{ip, int64(ta.Port)}
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	p, _ := strconv.Atoi(port)
	return pickle.Tuple{host, int64(p)}
}

// Address returns the Python address value of the server used in tokens (see
// ClientConfig.ServerAddress).
func (c *Client) Address() any { return c.pyAddr }

// Python2 reports whether the client speaks the Python 2 dialect (configured, or detected by
// [DialectAuto]).
func (c *Client) Python2() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.py2
}

func (c *Client) dial(ctx context.Context) (*connection.Conn, error) {
	select {
	case c.dialSem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("managers: dial %s %s: %w", c.network, c.address, context.Cause(ctx))
	}
	cfg := c.connCfg
	var conn *connection.Conn
	var err error
	if c.cfg.Dialer == nil {
		conn, err = connection.Dial(ctx, c.network, c.address, &cfg)
	} else {
		conn, err = c.dialWith(ctx, &cfg)
	}
	<-c.dialSem
	if err != nil {
		return nil, fmt.Errorf("managers: dial %s %s: %w", c.network, c.address, err)
	}
	return conn, nil
}

// dialWith opens a connection with ClientConfig.Dialer and authenticates it, unless the
// connection says its transport already has (connection.PreAuthenticator).
func (c *Client) dialWith(ctx context.Context, cfg *connection.Config) (*connection.Conn, error) {
	nc, err := c.cfg.Dialer(ctx, c.network, c.address)
	if err != nil {
		return nil, err
	}
	if pa, ok := nc.(connection.PreAuthenticator); ok {
		pre, err := pa.PreAuthenticated()
		if err != nil {
			nc.Close()
			return nil, err
		}
		if pre {
			cfg.AuthKey = nil
		}
	}
	return connection.NewConn(ctx, nc, false, cfg)
}

// encodeRequest pickles (ident, name, args, kwargs) in the client's dialect.
func (c *Client) encodeRequest(ident any, name string, args pickle.Tuple, kwargs *pickle.Dict) ([]byte, error) {
	if c.xml {
		return encodeXMLRequest(ident, name, args, kwargs)
	}
	c.mu.Lock()
	py2 := c.py2
	c.mu.Unlock()
	proto := c.cfg.Protocol
	if proto == 0 {
		proto = 4
		if py2 {
			proto = 2
		}
	}
	if py2 && proto > 2 {
		proto = 2
	}
	if args == nil {
		args = pickle.Tuple{}
	}
	if kwargs == nil {
		kwargs = pickle.NewDict()
	}
	data, err := encodePickle(pickle.Tuple{ident, name, args, kwargs}, proto, py2)
	if err != nil {
		return nil, fmt.Errorf("managers: encode %s request: %w", name, err)
	}
	return data, nil
}

// reply is a decoded (kind, payload) reply.
type reply struct {
	kind     string
	payload  any
	hasProxy bool // the frame may hold a pickled proxy (RebuildProxy)
}

// exchange sends one request on conn and reads one reply. It honours ctx by setting a deadline
// on conn when ctx ends; the returned poisoned flag tells the caller that conn must not be reused
// (an I/O error, or ctx ended while the call was in flight). detect enables Python 2 detection.
func (c *Client) exchange(ctx context.Context, conn *connection.Conn, ident any, name string, args pickle.Tuple, kwargs *pickle.Dict, detect bool) (rep reply, err error) {
	rep, poisoned, err := c.roundTrip(ctx, conn, ident, name, args, kwargs, detect)
	_ = poisoned
	if err != nil {
		return rep, err
	}
	return rep, replyError(rep)
}

func (c *Client) roundTrip(ctx context.Context, conn *connection.Conn, ident any, name string, args pickle.Tuple, kwargs *pickle.Dict, detect bool) (rep reply, poisoned bool, err error) {
	if err := ctx.Err(); err != nil {
		return rep, false, err
	}
	req, err := c.encodeRequest(ident, name, args, kwargs)
	if err != nil {
		return rep, false, err
	}
	if err := conn.WriteFrameContext(ctx, req); err != nil {
		return rep, true, fmt.Errorf("managers: send %s: %w", name, err)
	}
	// From here on the server owes a reply: any failure leaves the connection out of step.
	frame, err := conn.ReadFrameContext(ctx)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return rep, true, fmt.Errorf("managers: reply to %s: %w", name, err)
	}
	if detect && len(frame) >= 2 && frame[0] == 0x80 && frame[1] == 2 {
		// Only CPython 2.7 answers a protocol 4 request with protocol 2.
		c.mu.Lock()
		c.py2 = true
		c.mu.Unlock()
		c.log.WithField("remote", c.address).Debug("managers: Python 2 server detected")
	}
	if c.xml {
		return decodeXMLReply(frame, name)
	}
	var v any
	if err := connection.UnmarshalFrame(frame, &v); err != nil {
		return rep, true, fmt.Errorf("managers: decode reply to %s: %w", name, err)
	}
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return rep, true, fmt.Errorf("managers: reply to %s is %s, not a (kind, value) pair", name, pickle.TypeName(v))
	}
	kind, ok := asStr(t[0])
	if !ok {
		return rep, true, fmt.Errorf("managers: reply kind to %s is %s, not str", name, pickle.TypeName(t[0]))
	}
	return reply{kind: kind, payload: t[1], hasProxy: bytes.Contains(frame, rebuildProxyName)}, false, nil
}

var rebuildProxyName = []byte("RebuildProxy")

// replyError converts a non-#RETURN/#PROXY reply into an error, as convert_to_error does.
func replyError(rep reply) error {
	switch rep.kind {
	case KindReturn, KindProxy:
		return nil
	case KindError:
		exc, ok := PyExceptionFromValue(rep.payload)
		if !ok {
			exc = &PyException{Module: "builtins", Name: pickle.TypeName(rep.payload), Args: pickle.Tuple{rep.payload}}
		}
		return &RemoteError{Kind: KindError, Exception: exc}
	case KindTraceback, KindUnserializable:
		s, ok := asStr(rep.payload)
		if !ok {
			return fmt.Errorf("managers: result %s (kind '%s') type is %s, not str", pickle.Repr(rep.payload), rep.kind, pickle.TypeName(rep.payload))
		}
		return &RemoteError{Kind: rep.kind, Traceback: s}
	}
	return fmt.Errorf("managers: unrecognized message type %q", rep.kind)
}

// CallPublic calls the public server function name on a one-shot connection, as dispatch(conn,
// None, name, args, kwds) does in CPython, and returns its result. Errors from the server are
// [*RemoteError]s.
func (c *Client) CallPublic(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	if c.isClosed() {
		return nil, ErrClientClosed
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rep, err := c.exchange(ctx, conn, nil, name, args, kwargs, false)
	if err != nil {
		return nil, err
	}
	if rep.kind != KindReturn {
		return nil, fmt.Errorf("managers: unexpected %s reply to %s", rep.kind, name)
	}
	return rep.payload, nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// NumberOfObjects returns the number of objects the server tracks (number_of_objects).
func (c *Client) NumberOfObjects(ctx context.Context) (int, error) {
	v, err := c.CallPublic(ctx, "number_of_objects", nil, nil)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("managers: number_of_objects returned %s", pickle.TypeName(v))
	}
	return int(n), nil
}

// DebugInfo returns the server's debug_info text: one entry per tracked object with its
// refcount and the start of its str().
func (c *Client) DebugInfo(ctx context.Context) (string, error) {
	v, err := c.CallPublic(ctx, "debug_info", nil, nil)
	if err != nil {
		return "", err
	}
	s, ok := asStr(v)
	if !ok {
		return "", fmt.Errorf("managers: debug_info returned %s", pickle.TypeName(v))
	}
	return s, nil
}

// GetMethods returns the exposed method names of the object token names (get_methods).
func (c *Client) GetMethods(ctx context.Context, token Token) ([]string, error) {
	v, err := c.CallPublic(ctx, "get_methods", pickle.Tuple{token}, nil)
	if err != nil {
		return nil, err
	}
	return stringList(v)
}

// Shutdown asks the server to stop (shutdown). It reads only the first reply, as CPython's client
// does. The client is not closed.
func (c *Client) Shutdown(ctx context.Context) error {
	_, err := c.CallPublic(ctx, "shutdown", nil, nil)
	return err
}

// stringList converts a tuple or list of str into []string.
func stringList(v any) ([]string, error) {
	var items []any
	switch t := v.(type) {
	case pickle.Tuple:
		items = t
	case *pickle.List:
		items = t.Items
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("managers: expected a tuple of names, got %s", pickle.TypeName(v))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := asStr(it)
		if !ok {
			return nil, fmt.Errorf("managers: expected a method name, got %s", pickle.TypeName(it))
		}
		out = append(out, s)
	}
	return out, nil
}

// Create creates an object of typeid on the server (create) with constructor args and kwargs and
// returns a proxy for it. As CPython's client does, it then increfs the object for the proxy and
// decrefs the reference create left, so the object's refcount is the proxy's own reference.
func (c *Client) Create(ctx context.Context, typeid string, args pickle.Tuple, kwargs *pickle.Dict) (*Proxy, error) {
	cargs := make(pickle.Tuple, 0, len(args)+1)
	cargs = append(cargs, typeid)
	cargs = append(cargs, args...)
	v, err := c.CallPublic(ctx, "create", cargs, kwargs)
	if err != nil {
		return nil, err
	}
	t, ok := v.(pickle.Tuple)
	if l, isList := v.(*pickle.List); isList { // xmlrpclib
		t, ok = pickle.Tuple(l.Items), true
	}
	if !ok || len(t) != 2 {
		return nil, fmt.Errorf("managers: create returned %s, not (ident, exposed)", pickle.Repr(v))
	}
	id, ok := asStr(t[0])
	if !ok {
		return nil, fmt.Errorf("managers: create returned ident %s", pickle.Repr(t[0]))
	}
	exposed, err := stringList(t[1])
	if err != nil {
		return nil, err
	}
	return c.adopt(ctx, Token{TypeID: typeid, Address: c.pyAddr, ID: id}, exposed)
}

// adopt makes a proxy for an object that holds one reference on the proxy's behalf (create or
// #PROXY): incref for the proxy, then decref of that reference.
func (c *Client) adopt(ctx context.Context, tok Token, exposed []string) (*Proxy, error) {
	p, err := c.newProxy(ctx, tok, exposed, true)
	// Release the reference create/#PROXY left even when the incref failed.
	_, derr := c.CallPublic(context.WithoutCancel(ctx), "decref", pickle.Tuple{tok.ID}, nil)
	if err != nil {
		return nil, err
	}
	if derr != nil {
		p.Close()
		return nil, derr
	}
	return p, nil
}

// newProxy registers a proxy, increfing it first when incref is set.
func (c *Client) newProxy(ctx context.Context, tok Token, exposed []string, incref bool) (*Proxy, error) {
	if incref {
		if _, err := c.CallPublic(ctx, "incref", pickle.Tuple{tok.ID}, nil); err != nil {
			return nil, err
		}
	}
	p := &Proxy{client: c, token: tok, exposed: exposed}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		// Give the reference back; the client is going away.
		_, _ = c.callPublicClosed(ctx, "decref", pickle.Tuple{tok.ID})
		return nil, ErrClientClosed
	}
	c.proxies[p] = struct{}{}
	c.mu.Unlock()
	return p, nil
}

// callPublicClosed is CallPublic without the closed check (for decrefs while closing).
func (c *Client) callPublicClosed(ctx context.Context, name string, args pickle.Tuple) (any, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rep, err := c.exchange(ctx, conn, nil, name, args, nil, false)
	return rep.payload, err
}

// getConn returns an idle method-call connection or opens a new one (accept_connection).
func (c *Client) getConn(ctx context.Context) (*connection.Conn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClientClosed
	}
	if n := len(c.idle); n > 0 {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.busy[conn] = struct{}{}
		c.mu.Unlock()
		return conn, nil
	}
	c.mu.Unlock()
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	name := c.cfg.Name
	if name == "" {
		name = "MainProcess|mpgo"
	}
	if _, err := c.exchange(ctx, conn, nil, "accept_connection", pickle.Tuple{name}, nil, false); err != nil {
		conn.Close()
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		conn.Close()
		return nil, ErrClientClosed
	}
	c.busy[conn] = struct{}{}
	c.mu.Unlock()
	return conn, nil
}

// putConn returns conn to the pool, or closes it when it is poisoned, the pool is full or the
// client is closed.
func (c *Client) putConn(conn *connection.Conn, poisoned bool) {
	max := c.cfg.MaxIdleConns
	if max == 0 {
		max = 4
	}
	c.mu.Lock()
	delete(c.busy, conn)
	if poisoned || c.closed || len(c.idle) >= max {
		c.mu.Unlock()
		conn.Close()
		return
	}
	c.idle = append(c.idle, conn)
	c.mu.Unlock()
}

// callMethod runs one method call on a pooled connection (or on pinned when not nil, which is
// kept and not returned to the pool).
func (c *Client) callMethod(ctx context.Context, pinned *connection.Conn, ident, method string, args pickle.Tuple, kwargs *pickle.Dict) (reply, *connection.Conn, error) {
	conn := pinned
	if conn == nil {
		var err error
		if conn, err = c.getConn(ctx); err != nil {
			return reply{}, nil, err
		}
	}
	rep, poisoned, err := c.roundTrip(ctx, conn, ident, method, args, kwargs, false)
	if pinned == nil {
		c.putConn(conn, poisoned)
		conn = nil
	} else if poisoned {
		conn.Close()
		conn = nil
	}
	if err != nil {
		return rep, conn, err
	}
	return rep, conn, replyError(rep)
}

// Close decrefs every proxy not yet closed (as CPython's exit finalizers do) and closes the
// client's connections. Calls in flight fail; their connections are closed when they return.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.closeErr
	}
	proxies := make([]*Proxy, 0, len(c.proxies))
	for p := range c.proxies {
		proxies = append(proxies, p)
	}
	c.mu.Unlock()
	var errs []error
	for _, p := range proxies {
		if err := p.release(context.Background()); err != nil {
			c.log.WithFields(logrus.Fields{"typeid": p.token.TypeID, "ident": p.token.ID, "err": err}).Warn("managers: decref while closing the client failed")
			errs = append(errs, err)
		}
	}
	c.mu.Lock()
	c.closed = true
	idle := c.idle
	c.idle = nil
	for conn := range c.busy {
		_ = conn.SetDeadline(time.Now()) // fail calls in flight
	}
	c.closeErr = errors.Join(errs...)
	c.mu.Unlock()
	for _, conn := range idle {
		conn.Close()
	}
	return c.closeErr
}
