package managers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mpgo/mpgo/internal/xmlrpc"
	"github.com/mpgo/mpgo/pickle"
)

// Serializers: how a manager's connections encode requests and replies (BaseManager's
// serializer argument).
const (
	SerializerPickle    = "pickle"    // pickle (the default)
	SerializerXMLRPCLib = "xmlrpclib" // xmlrpclib.dumps((obj,), None, None, None, 1) documents
)

// The server serves both serializers on one port. A connection's serializer shows in its first
// frame after the handshake: CPython's xmlrpclib connections send a bare "<params>" document,
// and no pickle starts with '<' (it is no pickle opcode; pickles of protocol 2 and above start
// with PROTO 0x80, older ones with an opcode such as '(' or ']'). The connection's replies use
// the serializer of its first request.
//
// XML-RPC carries less than pickle (see package internal/xmlrpc): the server answers what it
// cannot carry as CPython's own xmlrpclib server would, or better:
//   - an exception ('#ERROR') cannot travel: it is sent as '#TRACEBACK' whose text ends with the
//     exception's "Type: message" line, so the client raises RemoteError naming it (CPython's
//     server sends the exception as an empty struct, and its client then fails with "TypeError:
//     exceptions must derive from BaseException");
//   - a proxy ('#PROXY', from a method_to_typeid method such as a dict's __iter__) cannot
//     travel: the object made for it is released and the reply is CPython's '#UNSERIALIZABLE'
//     "TypeError: cannot marshal <class 'multiprocessing.managers.Token'> objects";
//   - shared objects nested in a result (a list inside a shared dict) are sent as their values,
//     as for Python 2 clients;
//   - any other value XML-RPC cannot carry (a set, an int beyond 64 bits, a dict with non-str
//     keys, ...) makes that call's reply '#UNSERIALIZABLE' naming the TypeError or
//     OverflowError CPython's xmlrpclib raises; the connection stays usable.
// Python 2.7 clients cannot be told apart from Python 3 ones over XML-RPC (their documents are
// identical), so they get the Python 3 behaviour in the few places it differs (an RLock's
// nested acquire returns True, Condition.wait returns a bool).

// isXMLFrame reports whether a request frame is an XML-RPC document.
func isXMLFrame(frame []byte) bool { return len(frame) > 0 && frame[0] == '<' }

// dialectXMLRPC is the dialect of xmlrpclib clients.
var dialectXMLRPC = wireDialect{xmlrpc: true}

// decodeXMLRequest decodes an XML-RPC request frame and checks its shape. A document that does
// not parse is reported as the ExpatError CPython's server would raise.
func decodeXMLRequest(frame []byte) (Request, error) {
	v, err := xmlrpc.Unmarshal(frame)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "xmlrpc: ")
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			return Request{}, &RequestError{NewPyException("xmlrpc.client", "Fault", msg)}
		}
		return Request{}, &RequestError{NewPyException("xml.parsers.expat", "ExpatError", msg)}
	}
	return ParseRequest(v)
}

// xmlReply rewrites a reply for an xmlrpclib client (see above).
func (c *serverConn) xmlReply(rep Reply) Reply {
	switch rep.Kind {
	case KindError:
		exc, ok := PyExceptionFromValue(rep.Value)
		text := pickle.Repr(rep.Value)
		if ok {
			text = exc.Error()
		}
		return Reply{Kind: KindTraceback, Value: traceback("serve_client", "res = function(*args, **kwds)", text)}
	case KindProxy:
		if t, ok := rep.Value.(pickle.Tuple); ok && len(t) == 2 {
			if tok, ok := t[1].(Token); ok {
				_ = c.srv.tab.decref(tok.ID, holder{u: &c.uses}) // made for this reply only
			}
		}
		return Reply{Kind: KindUnserializable, Value: traceback("serve_client", "send(msg)",
			"TypeError: cannot marshal <class 'multiprocessing.managers.Token'> objects")}
	}
	return rep
}

// marshalXML encodes a reply tuple as an XML-RPC document into st's buffer.
func (st *replyEnc) marshalXML(v any) ([]byte, error) {
	out, err := xmlrpc.AppendMarshal(st.buf[:0], v)
	if err != nil {
		return nil, err
	}
	st.buf = out
	return out, nil
}

// encodeErrorException is the Python exception line for a reply that cannot be encoded.
func encodeErrorException(err error) string {
	msg := err.Error()
	var ve *xmlrpc.UnsupportedValueError
	if errors.As(err, &ve) {
		msg = strings.TrimPrefix(msg, "xmlrpc: ")
		if strings.HasPrefix(msg, "int exceeds") {
			return "OverflowError: " + msg
		}
		return "TypeError: " + msg
	}
	msg = strings.TrimPrefix(msg, "xmlrpc: ")
	return "TypeError: " + strings.TrimPrefix(msg, "pickle: ")
}

// encodeXMLRequest encodes a request of a client whose serializer is xmlrpclib.
func encodeXMLRequest(ident any, name string, args pickle.Tuple, kwargs *pickle.Dict) ([]byte, error) {
	if args == nil {
		args = pickle.Tuple{}
	}
	if kwargs == nil {
		kwargs = pickle.NewDict()
	}
	data, err := xmlrpc.Marshal(pickle.Tuple{ident, name, args, kwargs})
	if err != nil {
		return nil, fmt.Errorf("managers: encode %s request: %w", name, err)
	}
	return data, nil
}

// decodeXMLReply decodes the reply of an xmlrpclib server. The frame has been read whole, so
// a reply that does not decode leaves the connection usable. An exception sent by CPython's
// xmlrpclib server arrives as a struct of its __dict__ (usually empty): it becomes a
// [*RemoteError] saying the exception was lost.
func decodeXMLReply(frame []byte, name string) (rep reply, poisoned bool, err error) {
	v, err := xmlrpc.Unmarshal(frame)
	if err != nil {
		return rep, false, fmt.Errorf("managers: decode reply to %s: %w", name, err)
	}
	l, ok := v.(*pickle.List)
	if !ok || len(l.Items) != 2 {
		return rep, false, fmt.Errorf("managers: reply to %s is %s, not a (kind, value) pair", name, pickle.TypeName(v))
	}
	kind, ok := asStr(l.Items[0])
	if !ok {
		return rep, false, fmt.Errorf("managers: reply kind to %s is %s, not str", name, pickle.TypeName(l.Items[0]))
	}
	rep = reply{kind: kind, payload: l.Items[1]}
	if kind == KindError {
		if _, isExc := PyExceptionFromValue(rep.payload); !isExc {
			rep.payload = NewPyException("builtins", "Exception",
				fmt.Sprintf("the server raised an exception its xmlrpclib serializer cannot carry (it sent %s)", truncate(pickle.Repr(rep.payload), 80)))
		}
	}
	return rep, false, nil
}
