package managers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/ratelog"
	"github.com/mpgo/mpgo/pickle"
)

// frameConn is what the server needs of a connection (*connection.Conn):
// ReadFrame's payload is the caller's to keep when it is at least
// connection.OwnedFrameSize long.
type frameConn interface {
	ReadFrame() ([]byte, error)
	WriteFrame(p []byte) error
	Close() error
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// serverConn is one accepted connection.
type serverConn struct {
	srv    *Server
	c      frameConn
	remote string
	addr   any // the local address as Python spells it: what this client reaches us at
	log    logrus.FieldLogger

	ctx    context.Context // cancelled when the connection ends or the server is closed
	cancel context.CancelFunc

	// callCtx is the context calls receive: ctx (and the client's dialect), armed for peer
	// watching when a call waits on it (see beginCall).
	callCtx *callContext

	// Peer watching during long calls (see armWatch): raw is the socket, or pw a connection
	// that watches its peer itself (connection.PeerWatcher: a mux stream); nc is set when
	// either is. Without them a closed peer is only noticed at the next read.
	raw       syscall.RawConn
	pw        connection.PeerWatcher
	nc        net.Conn
	watchMu   sync.Mutex
	inCall    bool          // a call is in flight; guarded by watchMu
	armed     bool          // the call is watched; guarded by watchMu
	watchDone chan struct{} // closed when the running watcher returns; guarded by watchMu
	watchT    *time.Timer   // fires watchPeer; created on the first watched call

	idle atomic.Bool // waiting for a request (see Server.connIdle)

	uses user // the objects this connection used (Server.ReclaimAfter)

	dialect wireDialect // of the first request
	nreq    uint32      // requests read (for duration sampling)
}

// incoming is one request read (and decoded) by next.
type incoming struct {
	req     Request
	err     error // decoding or shape error: answered with '#TRACEBACK'
	readErr error // the connection failed or ended
	dialect wireDialect
	start   time.Duration // when the request had been read (monoNow), if timed
	timed   bool          // the request's duration is sampled (see durationSampleEvery)
}

func newServerConn(s *Server, c frameConn, remote string) *serverConn {
	sc := &serverConn{srv: s, c: c, remote: remote}
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		if pw, ok := nc.NetConn().(connection.PeerWatcher); ok {
			sc.pw, sc.nc = pw, nc.NetConn()
		} else if sc2, ok := nc.NetConn().(syscall.Conn); ok {
			if raw, err := sc2.SyscallConn(); err == nil {
				sc.raw, sc.nc = raw, nc.NetConn()
			}
		}
	}
	sc.addr = connection.PythonAddress(c.LocalAddr())
	sc.ctx, sc.cancel = context.WithCancel(WithCallerID(s.baseCtx, NewCallerID()))
	sc.log = s.log().WithField("remote", remote)
	return sc
}

// close closes the connection and cancels the calls on it.
func (c *serverConn) close() {
	c.cancel()
	c.c.Close()
}

func (c *serverConn) serve() {
	defer c.srv.connDone(c)
	defer c.close()
	defer func() {
		if p := recover(); p != nil { // a bug of ours: never take the server down
			c.log.WithField("err", fmt.Sprint(p)).Error("managers: panic serving connection")
		}
	}()

	in, ok := c.next()
	if !ok {
		return
	}
	c.dialect = in.dialect
	base := c.ctx
	if c.dialect.python2 {
		base = withPython2(base) // (sync-types) a few results differ for Python 2 clients
	}
	c.callCtx = &callContext{Context: base, c: c}
	stats := c.srv.stats
	if in.err != nil {
		c.send(decodeErrorReply(in.err, "_handle_request"))
		stats.other.record(&in)
		return
	}
	st := stats.publicStats(in.req.Name)
	// CPython ignores the first item of the first request.
	if in.req.Name == "accept_connection" {
		if rep, ok := checkArity("accept_connection", []string{"name"}, in.req); !ok {
			c.send(rep)
			st.record(&in)
			return
		}
		name, _ := in.req.Args[0].(string)
		ok := c.send(Reply{Kind: KindReturn})
		st.record(&in)
		if !ok {
			return
		}
		c.log.WithField("name", name).Debug("managers: method-call connection")
		c.methodLoop()
		return
	}
	defer st.record(&in) // after endCall: the reply is sent
	c.beginCall()
	defer c.endCall()
	c.servePublic(in.req)
}

// callContext is the context of the calls on one connection. Calls that wait for something
// select on Done (or poll Err), and only then is the connection watched for the peer going
// away (armWatch): the many calls that never wait cost no timer.
type callContext struct {
	context.Context
	c *serverConn

	// written holds the functions given to OnReplyWritten during the current call; they run
	// once its reply has been written (or could not be). Only the connection's goroutine
	// touches it.
	written []func(error)
}

// replyHookKey finds the *callContext under contexts a method derived from its own.
type replyHookKey struct{}

func (x *callContext) Value(k any) any {
	if k == (replyHookKey{}) {
		return x
	}
	return x.Context.Value(k)
}

// OnReplyWritten arranges for fn to run once the reply to the current call has been handed to
// the operating system (err nil) or has failed to be (err non-nil: the connection broke, the
// reply could not be pickled, or the server closed). ctx must be the context the server passed
// to [Object.CallMethod] (or one derived from it), and fn must be registered before CallMethod
// returns; fn runs on the connection's goroutine, after CallMethod returned, and must not block.
// A successful return means the bytes are in the kernel's socket buffer, not that the client
// read them: a client killed at that moment still loses the reply, as with CPython.
//
// It reports false, and never calls fn, when ctx is not a served call's (a Go caller using the
// object directly, or a call served by a [Client] test double): then the caller has its result
// as soon as the method returns. A queue uses it to hand an item back when its reply cannot be
// delivered, instead of losing it.
func OnReplyWritten(ctx context.Context, fn func(err error)) bool {
	x, ok := ctx.Value(replyHookKey{}).(*callContext)
	if !ok || x == nil {
		return false
	}
	x.written = append(x.written, fn)
	return true
}

// servedDialect returns the dialect of the client whose call ctx is (or derives from), and
// false when ctx is not a served call's (a Go caller using an object directly).
func servedDialect(ctx context.Context) (wireDialect, bool) {
	x, ok := ctx.Value(replyHookKey{}).(*callContext)
	if !ok || x == nil {
		return wireDialect{}, false
	}
	return x.c.dialect, true
}

// replyWritten runs and forgets the OnReplyWritten functions of the call just answered.
func (x *callContext) replyWritten(err error) {
	if len(x.written) == 0 {
		return
	}
	fns := x.written
	x.written = x.written[:0]
	for i, fn := range fns {
		fns[i] = nil
		func() {
			defer func() {
				if p := recover(); p != nil {
					x.c.log.WithField("err", fmt.Sprint(p)).Error("managers: panic in OnReplyWritten function")
				}
			}()
			fn(err)
		}()
	}
}

func (x *callContext) Done() <-chan struct{} {
	x.c.waiting()
	return x.Context.Done()
}

func (x *callContext) Err() error {
	x.c.waiting()
	return x.Context.Err()
}

// beginCall starts a call: from now until endCall, a wait on c.callCtx arms the peer watch.
func (c *serverConn) beginCall() {
	if c.nc == nil {
		return
	}
	c.watchMu.Lock()
	c.inCall = true
	c.watchMu.Unlock()
}

// waiting is called when the current call looks at its context: it arms the peer watch once
// per call. Outside a call (a goroutine the method left behind) it does nothing: then the
// socket belongs to the connection's reads again.
func (c *serverConn) waiting() {
	if c.nc == nil {
		return
	}
	c.watchMu.Lock()
	arm := c.inCall && !c.armed
	if arm {
		c.armed = true
		if c.watchT == nil {
			c.watchT = time.AfterFunc(watchDelay, c.watchPeer)
		} else {
			c.watchT.Reset(watchDelay)
		}
	}
	c.watchMu.Unlock()
}

// endCall ends the call of beginCall, and its watch if one was armed.
func (c *serverConn) endCall() {
	if c.nc == nil {
		return
	}
	c.watchMu.Lock()
	c.inCall = false
	armed := c.armed
	c.watchMu.Unlock()
	if armed {
		c.disarmWatch()
	}
}

// watchDelay is how long a call may wait on its context before its connection is watched for
// the peer going away. Short calls (nearly all) never start a watcher: requests are read and
// served by the connection's one goroutine, with no hand-off and no second goroutine per
// connection, and calls that do not wait arm no timer at all.
const watchDelay = 20 * time.Millisecond

// The peer watch: once a call has waited on its context for watchDelay, watchPeer waits (in
// the timer's goroutine) for the peer to close the connection and then cancels the call's
// context, so that a blocking method (Queue.get, Lock.acquire, ...) whose client went away
// returns instead of taking an item for nobody. waiting arms it, endCall disarms it.

// disarmWatch ends an armed watch and waits until no watcher reads the socket.
func (c *serverConn) disarmWatch() {
	stopped := c.watchT.Stop()
	c.watchMu.Lock()
	c.armed = false
	done := c.watchDone
	c.watchDone = nil
	c.watchMu.Unlock()
	if stopped || done == nil {
		return
	}
	_ = c.nc.SetReadDeadline(aLongTimeAgo) // interrupts the watcher's wait
	<-done
	_ = c.nc.SetReadDeadline(time.Time{})
}

var aLongTimeAgo = time.Unix(1, 0)

// watchPeer runs when a call has lasted watchDelay: it waits until the socket is readable and
// cancels the connection's context if the peer closed it. Data from the peer (a client that
// sends before its reply came, which CPython never does) is left for the next read.
func (c *serverConn) watchPeer() {
	c.watchMu.Lock()
	if !c.armed {
		c.watchMu.Unlock()
		return
	}
	done := make(chan struct{})
	c.watchDone = done
	c.watchMu.Unlock()
	defer close(done)
	if c.pw != nil {
		if gone, err := c.pw.WaitPeerGone(); gone && err == nil {
			c.cancel()
		}
		return
	}
	var b [1]byte
	eof := false
	err := c.raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if rerr == syscall.EAGAIN || rerr == syscall.EINTR {
			return false // wait for readability
		}
		eof = n == 0 || rerr != nil
		return true
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return // the call ended: disarmWatch interrupted us
	}
	if eof || err != nil {
		c.cancel()
	}
}

// decodeRequestSafe is DecodeRequest that never panics. A frame read into a
// buffer of its own is handed to the decoder (connection.UnmarshalFrame), so
// that a large bytes or str argument (a queue item, say) is not copied again.
func decodeRequestSafe(frame []byte) (req Request, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pickle: decoder panic: %v", p)
		}
	}()
	if isXMLFrame(frame) {
		return decodeXMLRequest(frame)
	}
	return decodeRequest(frame, connection.UnmarshalFrame)
}

// next waits for the next request. It reports false when the connection must end: the peer
// went away, or the server is shutting down.
func (c *serverConn) next() (incoming, bool) {
	if !c.srv.connIdle(c, true) {
		return incoming{}, false
	}
	var in incoming
	frame, err := c.c.ReadFrame()
	if err != nil {
		in.readErr = err
	} else {
		if c.nreq%durationSampleEvery == 0 {
			in.start, in.timed = monoNow(), true
		}
		c.nreq++
		in.dialect = detectDialect(frame)
		in.req, in.err = decodeRequestSafe(frame)
	}
	c.srv.connIdle(c, false)
	if in.readErr != nil {
		if !errors.Is(in.readErr, io.EOF) && !errors.Is(in.readErr, net.ErrClosed) && !errors.Is(in.readErr, connection.ErrClosed) && c.ctx.Err() == nil {
			c.srv.dropped.Event(ratelog.IP(c.c.RemoteAddr()), "read_error", logrus.Fields{"remote": c.remote, "err": in.readErr.Error()})
		}
		return incoming{}, false
	}
	return in, true
}

// decodeErrorReply answers a request that could not be decoded or has the wrong shape.
func decodeErrorReply(err error, where string) Reply {
	var re *RequestError
	if errors.As(err, &re) {
		return tracebackReply(where, "ignore, funcname, args, kwds = request", re.Exc)
	}
	msg := err.Error()
	return Reply{Kind: KindTraceback, Value: traceback(where, "request = c.recv()", "_pickle.UnpicklingError: "+msg)}
}

// send encodes and writes a reply. It reports false when the connection must end.
func (c *serverConn) send(rep Reply) bool {
	ok, _ := c.sendReply(rep)
	return ok
}

// sendReply encodes and writes a reply. It reports false when the connection must end, and
// returns nil when rep itself reached the socket, else why not (also when an '#UNSERIALIZABLE'
// reply replaced it).
func (c *serverConn) sendReply(rep Reply) (bool, error) {
	st := replyEncPool.Get().(*replyEnc)
	defer st.release()
	frame, encErr := c.encodeReply(st, rep)
	if encErr != nil {
		c.log.WithField("err", encErr.Error()).Info("managers: reply cannot be pickled")
		var err error
		frame, err = st.marshal(c.dialect, Reply{Kind: KindUnserializable, Value: unserializableText(encErr)})
		if err != nil {
			return false, encErr
		}
	}
	if err := c.c.WriteFrame(frame); err != nil {
		if c.ctx.Err() == nil {
			c.log.WithField("err", err.Error()).Info("managers: cannot send reply")
		}
		return false, err
	}
	return true, encErr
}

// replyEnc is a reusable reply encoder and output buffer (pooled, so that idle connections
// hold none).
type replyEnc struct {
	enc *pickle.Encoder
	buf []byte
	tup pickle.Tuple // the reply 2-tuple, reused
	box any          // tup boxed once
}

var replyEncPool = sync.Pool{New: func() any {
	st := &replyEnc{enc: pickle.NewEncoder(nil), tup: make(pickle.Tuple, 2)}
	st.box = st.tup
	return st
}}

// Reply kinds boxed once (a string converted to an interface allocates).
var (
	boxedReturn any = KindReturn
	boxedError  any = KindError
	boxedProxy  any = KindProxy
)

// replyTuple returns the reply as a pickle tuple, without allocating for the usual kinds.
func (st *replyEnc) replyTuple(rep Reply) any {
	switch rep.Kind {
	case KindReturn:
		st.tup[0] = boxedReturn
	case KindError:
		st.tup[0] = boxedError
	case KindProxy:
		st.tup[0] = boxedProxy
	default:
		st.tup[0] = rep.Kind
	}
	st.tup[1] = rep.Value
	return st.box
}

// maxPooledReply is the largest reply buffer kept for reuse.
const maxPooledReply = 64 << 10

func (st *replyEnc) release() {
	st.tup[0], st.tup[1] = nil, nil
	if cap(st.buf) > maxPooledReply {
		st.buf = nil
	}
	replyEncPool.Put(st)
}

// marshal pickles v in dialect d into st's buffer; the result is valid until st is released.
func (st *replyEnc) marshal(d wireDialect, v any) ([]byte, error) {
	if d.xmlrpc {
		return st.marshalXML(v)
	}
	protocol := d.protocol
	if protocol == 0 {
		protocol = 4
	}
	st.enc.SetProtocol(protocol)
	st.enc.SetPython2(d.python2)
	out, err := st.enc.AppendEncode(st.buf[:0], v)
	if err != nil {
		return nil, err
	}
	st.buf = out
	return out, nil
}

func (c *serverConn) encodeReply(st *replyEnc, rep Reply) (frame []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pickle: encoder panic: %v", p)
		}
	}()
	if _, ok := rep.Value.(pickle.Pickled); !ok { // a Pickled holds no *Ref: it is spliced as is
		v, err := c.rewriteRefs(rep.Value)
		if err != nil {
			return nil, err
		}
		rep.Value = v
	}
	if c.dialect.xmlrpc {
		rep = c.xmlReply(rep)
	}
	return st.marshal(c.dialect, st.replyTuple(rep))
}

// methodLoop serves (ident, method, args, kwds) requests until EOF (CPython's serve_client).
func (c *serverConn) methodLoop() {
	for {
		in, ok := c.next()
		if !ok {
			return
		}
		var rep Reply
		st := c.srv.stats.other
		if in.err != nil {
			rep = decodeErrorReply(in.err, "serve_client")
		} else {
			rep, st = c.callMethod(in.req)
		}
		var werr error
		ok, werr = c.sendReply(rep)
		c.callCtx.replyWritten(werr)
		st.record(&in)
		if !ok {
			return
		}
	}
}

// callMethod runs one method call and returns its reply and the counter it is recorded in.
func (c *serverConn) callMethod(req Request) (rep Reply, st *reqStats) {
	s := c.srv
	log := func() logrus.FieldLogger { // only on failure paths: no allocation per call
		return c.log.WithFields(logrus.Fields{"ident": req.Ident, "method": req.Name})
	}
	var (
		e       *entry
		exposed map[string]*reqStats
		ts      *typeStats
		m2t     map[string]string
		typeid  string
	)
	if req.Ident != "" {
		e, exposed, ts, m2t, typeid = s.tab.target(req.Ident, &c.uses)
	}
	if e == nil {
		if req.Ident == "0" { // CPython's placeholder entry
			return tracebackReply("serve_client", "obj, exposed, gettypeid = id_to_obj[ident]",
				NewPyException("builtins", "ValueError", "not enough values to unpack (expected 3, got 2)")), s.stats.other
		}
		var k any = req.Ident
		if req.Ident == "" {
			k = nil
		}
		return tracebackReply("serve_client", "obj, exposed, gettypeid = id_to_obj[ident]", keyError(k)), s.stats.other
	}
	st = exposed[req.Name]
	if st == nil {
		return c.fallback(e, exposed, req), ts.fallback(req.Name)
	}
	args, kwargs := s.resolveRefs(req.Args, req.Kwargs, &c.uses)
	where := req.Name
	code := func() string { return "res = function(*args, **kwds)  # " + typeid + "." + req.Name }
	defer func() {
		if p := recover(); p != nil {
			c.endCall()
			log().WithField("err", fmt.Sprint(p)).Error("managers: panic in method")
			rep = panicReply(where, code(), p)
		}
	}()
	c.beginCall()
	res, err := e.obj.CallMethod(c.callCtx, req.Name, args, kwargs)
	c.endCall()
	if err != nil {
		rep = errorReply(err, true, where, code())
		if rep.Kind == KindTraceback {
			log().WithField("err", err.Error()).Info("managers: method failed")
		}
		return rep, st
	}
	if rtypeid := m2t[req.Name]; rtypeid != "" {
		ne, err := s.create(c.ctx, rtypeid, pickle.Tuple{res}, pickle.NewDict(), holder{u: &c.uses})
		if err != nil {
			return errorReply(err, false, "serve_client", "rident, rexposed = self.create(conn, typeid, res)"), st
		}
		return Reply{Kind: KindProxy, Value: pickle.Tuple{stringsTuple(ne.exposed), Token{TypeID: rtypeid, Address: c.addr, ID: ne.ident}}}, st
	}
	return Reply{Kind: KindReturn, Value: res}, st
}

// fallback serves '#GETVALUE', '__str__' and '__repr__' for methods that are not exposed.
func (c *serverConn) fallback(e *entry, exposed map[string]*reqStats, req Request) (rep Reply) {
	defer func() {
		if p := recover(); p != nil {
			rep = panicReply("serve_client", "result = fallback_func(self, conn, ident, obj, *args, **kwds)", p)
		}
	}()
	switch req.Name {
	case "#GETVALUE":
		g, ok := e.obj.(ValueGetter)
		if !ok {
			return Reply{Kind: KindUnserializable, Value: unserializableText(fmt.Errorf("cannot pickle '%s' object", goTypeName(e.obj)))}
		}
		v, err := g.GetValue()
		if err != nil {
			return errorReply(err, false, "fallback_getvalue", "return obj")
		}
		return Reply{Kind: KindReturn, Value: v}
	case "__str__":
		return Reply{Kind: KindReturn, Value: objStr(e.obj, e.ident)}
	case "__repr__":
		return Reply{Kind: KindReturn, Value: objRepr(e.obj, e.ident)}
	}
	return notExposedReply(c.dialect.python2, e.obj, exposed, req.Name)
}

func stringsTuple(ss []string) pickle.Tuple {
	t := make(pickle.Tuple, len(ss))
	for i, s := range ss {
		t[i] = s
	}
	return t
}
