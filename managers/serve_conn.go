package managers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

// frameConn is what the server needs of a connection (*connection.Conn).
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

	reqs     chan incoming
	readerWG sync.WaitGroup

	idle bool // waiting for a request; guarded by srv.mu

	dialect wireDialect // of the first request
}

// incoming is one request read (and decoded) by the reader goroutine.
type incoming struct {
	req     Request
	err     error // decoding or shape error: answered with '#TRACEBACK'
	readErr error // the connection failed or ended
	dialect wireDialect
}

func newServerConn(s *Server, c frameConn, remote string) *serverConn {
	sc := &serverConn{srv: s, c: c, remote: remote, reqs: make(chan incoming)}
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
	c.readerWG.Add(1)
	go c.reader()
	defer func() {
		c.close()
		c.readerWG.Wait()
	}()
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
	if in.err != nil {
		c.send(decodeErrorReply(in.err, "_handle_request"))
		return
	}
	// CPython ignores the first item of the first request.
	if in.req.Name == "accept_connection" {
		if rep, ok := checkArity("accept_connection", []string{"name"}, in.req); !ok {
			c.send(rep)
			return
		}
		name, _ := in.req.Args[0].(string)
		if !c.send(Reply{Kind: KindReturn}) {
			return
		}
		c.log.WithField("name", name).Debug("managers: method-call connection")
		c.methodLoop()
		return
	}
	c.servePublic(in.req)
}

// reader reads and decodes requests ahead of the serving goroutine, so that a connection
// closed by its peer cancels the call in flight.
func (c *serverConn) reader() {
	defer c.readerWG.Done()
	for {
		var in incoming
		frame, err := c.c.ReadFrame()
		if err != nil {
			in.readErr = err
			c.cancel()
		} else {
			in.dialect = detectDialect(frame)
			in.req, in.err = decodeRequestSafe(frame)
		}
		select {
		case c.reqs <- in:
		case <-c.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// decodeRequestSafe is DecodeRequest that never panics.
func decodeRequestSafe(frame []byte) (req Request, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pickle: decoder panic: %v", p)
		}
	}()
	return DecodeRequest(frame)
}

// next waits for the next request. It reports false when the connection must end: the peer
// went away, or the server is shutting down.
func (c *serverConn) next() (incoming, bool) {
	if !c.srv.connIdle(c, true) {
		return incoming{}, false
	}
	var in incoming
	select {
	case in = <-c.reqs:
	case <-c.ctx.Done():
		return incoming{}, false
	}
	c.srv.connIdle(c, false)
	if in.readErr != nil {
		if !errors.Is(in.readErr, io.EOF) && !errors.Is(in.readErr, net.ErrClosed) && !errors.Is(in.readErr, connection.ErrClosed) && c.ctx.Err() == nil {
			c.log.WithField("err", in.readErr.Error()).Info("managers: dropping connection")
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
	frame, err := c.encodeReply(rep)
	if err != nil {
		c.log.WithField("err", err.Error()).Info("managers: reply cannot be pickled")
		frame, err = c.dialect.marshal(Reply{Kind: KindUnserializable, Value: unserializableText(err)})
		if err != nil {
			return false
		}
	}
	if err := c.c.WriteFrame(frame); err != nil {
		if c.ctx.Err() == nil {
			c.log.WithField("err", err.Error()).Info("managers: cannot send reply")
		}
		return false
	}
	return true
}

func (c *serverConn) encodeReply(rep Reply) (frame []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pickle: encoder panic: %v", p)
		}
	}()
	v, err := c.rewriteRefs(rep.Value)
	if err != nil {
		return nil, err
	}
	rep.Value = v
	return c.dialect.marshal(rep)
}

// methodLoop serves (ident, method, args, kwds) requests until EOF (CPython's serve_client).
func (c *serverConn) methodLoop() {
	for {
		in, ok := c.next()
		if !ok {
			return
		}
		var rep Reply
		if in.err != nil {
			rep = decodeErrorReply(in.err, "serve_client")
		} else {
			rep = c.callMethod(in.req)
		}
		if !c.send(rep) {
			return
		}
	}
}

// callMethod runs one method call and returns its reply.
func (c *serverConn) callMethod(req Request) (rep Reply) {
	s := c.srv
	log := c.log.WithFields(logrus.Fields{"ident": req.Ident, "method": req.Name})
	var e *entry
	if req.Ident != "" {
		e = s.tab.lookup(req.Ident)
	}
	if e == nil {
		if req.Ident == "0" { // CPython's placeholder entry
			return tracebackReply("serve_client", "obj, exposed, gettypeid = id_to_obj[ident]",
				NewPyException("builtins", "ValueError", "not enough values to unpack (expected 3, got 2)"))
		}
		var k any = req.Ident
		if req.Ident == "" {
			k = nil
		}
		return tracebackReply("serve_client", "obj, exposed, gettypeid = id_to_obj[ident]", keyError(k))
	}
	s.tab.mu.Lock()
	exposed, m2t, typeid := e.exposedSet, e.methodToTypeID, e.typeid
	s.tab.mu.Unlock()
	if !exposed[req.Name] {
		return c.fallback(e, exposed, req)
	}
	args, kwargs := s.resolveRefs(req.Args, req.Kwargs)
	where := req.Name
	code := fmt.Sprintf("res = function(*args, **kwds)  # %s.%s", typeid, req.Name)
	defer func() {
		if p := recover(); p != nil {
			log.WithField("err", fmt.Sprint(p)).Error("managers: panic in method")
			rep = panicReply(where, code, p)
		}
	}()
	ctx := c.ctx
	if c.dialect.python2 {
		ctx = withPython2(ctx) // (sync-types) a few results differ for Python 2 clients
	}
	res, err := e.obj.CallMethod(ctx, req.Name, args, kwargs)
	if err != nil {
		rep = errorReply(err, true, where, code)
		if rep.Kind == KindTraceback {
			log.WithField("err", err.Error()).Info("managers: method failed")
		}
		return rep
	}
	if rtypeid := m2t[req.Name]; rtypeid != "" {
		ne, err := s.create(c.ctx, rtypeid, pickle.Tuple{res}, pickle.NewDict())
		if err != nil {
			return errorReply(err, false, "serve_client", "rident, rexposed = self.create(conn, typeid, res)")
		}
		return Reply{Kind: KindProxy, Value: pickle.Tuple{stringsTuple(ne.exposed), Token{TypeID: rtypeid, Address: c.addr, ID: ne.ident}}}
	}
	return Reply{Kind: KindReturn, Value: res}
}

// fallback serves '#GETVALUE', '__str__' and '__repr__' for methods that are not exposed.
func (c *serverConn) fallback(e *entry, exposed map[string]bool, req Request) (rep Reply) {
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
