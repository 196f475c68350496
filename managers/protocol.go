package managers

import (
	"bytes"
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// Reply kinds: the first item of every reply tuple.
const (
	KindReturn         = "#RETURN"         // ('#RETURN', result)
	KindError          = "#ERROR"          // ('#ERROR', exception instance)
	KindTraceback      = "#TRACEBACK"      // ('#TRACEBACK', traceback text)
	KindProxy          = "#PROXY"          // ('#PROXY', (exposed, token))
	KindUnserializable = "#UNSERIALIZABLE" // ('#UNSERIALIZABLE', traceback text)
)

// Request is one request tuple (ident, name, args, kwds). Ident is "" for a public server
// function (Python's None), else the object's ident. Kwargs may be nil (an empty dict).
type Request struct {
	Ident  string
	Name   string
	Args   pickle.Tuple
	Kwargs *pickle.Dict
}

// MarshalPickle returns the request tuple.
func (r Request) MarshalPickle() (any, error) {
	var ident any
	if r.Ident != "" {
		ident = r.Ident
	}
	args := r.Args
	if args == nil {
		args = pickle.Tuple{}
	}
	kw := r.Kwargs
	if kw == nil {
		kw = pickle.NewDict()
	}
	return pickle.Tuple{ident, r.Name, args, kw}, nil
}

// Encode pickles the request at protocol (0: 4), for a Python 2 peer when python2 is set.
func (r Request) Encode(protocol int, python2 bool) ([]byte, error) {
	return encodePickle(r, protocol, python2)
}

// RequestError is a request that is not a well-formed (ident, name, args, kwds) tuple. Exc is the
// Python exception CPython's server would raise for it (reported as '#TRACEBACK').
type RequestError struct {
	Exc *PyException
}

func (e *RequestError) Error() string { return "managers: bad request: " + e.Exc.Error() }

// ParseRequest checks the shape of a decoded request: a 4-tuple (or list) whose name is a str,
// ident None or a str, args a tuple or list and kwds a dict with str keys (or None).
// Python 2 byte strings are accepted and converted.
func ParseRequest(v any) (Request, error) {
	var items []any
	switch t := v.(type) {
	case pickle.Tuple:
		items = t
	case *pickle.List:
		items = t.Items
	default:
		return Request{}, &RequestError{NewPyException("builtins", "TypeError", fmt.Sprintf("cannot unpack non-iterable %s object", pickle.TypeName(v)))}
	}
	if len(items) < 4 {
		return Request{}, &RequestError{NewPyException("builtins", "ValueError", fmt.Sprintf("not enough values to unpack (expected 4, got %d)", len(items)))}
	}
	if len(items) > 4 {
		return Request{}, &RequestError{NewPyException("builtins", "ValueError", "too many values to unpack (expected 4)")}
	}
	var r Request
	switch id := items[0].(type) {
	case nil:
	default:
		s, ok := asStr(id)
		if !ok {
			// CPython looks the ident up in a dict: anything else is an unknown ident.
			return Request{}, &RequestError{NewPyException("builtins", "KeyError", id)}
		}
		if s == "" {
			return Request{}, &RequestError{NewPyException("builtins", "KeyError", s)}
		}
		r.Ident = s
	}
	name, ok := asStr(items[1])
	if !ok {
		return Request{}, &RequestError{NewPyException("builtins", "TypeError", fmt.Sprintf("attribute name must be string, not '%s'", pickle.TypeName(items[1])))}
	}
	r.Name = name
	switch a := items[2].(type) {
	case pickle.Tuple:
		r.Args = a
	case *pickle.List:
		r.Args = pickle.Tuple(append([]any(nil), a.Items...))
	case nil:
		return Request{}, &RequestError{NewPyException("builtins", "TypeError", "argument after * must be an iterable, not NoneType")}
	default:
		return Request{}, &RequestError{NewPyException("builtins", "TypeError", fmt.Sprintf("argument after * must be an iterable, not %s", pickle.TypeName(a)))}
	}
	switch k := items[3].(type) {
	case *pickle.Dict:
		var bad any
		norm := false
		k.Range(func(key, _ any) bool {
			switch key.(type) {
			case string:
			case pickle.Py2String:
				norm = true
			default:
				bad = key
				return false
			}
			return true
		})
		if bad != nil {
			return Request{}, &RequestError{NewPyException("builtins", "TypeError", "keywords must be strings")}
		}
		if norm {
			nk := pickle.NewDict()
			k.Range(func(key, val any) bool {
				s, _ := asStr(key)
				_ = nk.Set(s, val)
				return true
			})
			k = nk
		}
		r.Kwargs = k
	case nil:
		r.Kwargs = pickle.NewDict()
	default:
		return Request{}, &RequestError{NewPyException("builtins", "TypeError", fmt.Sprintf("argument after ** must be a mapping, not %s", pickle.TypeName(k)))}
	}
	return r, nil
}

// DecodeRequest unpickles a request frame and checks its shape.
func DecodeRequest(frame []byte) (Request, error) { return decodeRequest(frame, pickle.Unmarshal) }

// decodeRequest is DecodeRequest with the given unpickler.
func decodeRequest(frame []byte, unmarshal func([]byte, any) error) (Request, error) {
	var v any
	if err := unmarshal(frame, &v); err != nil {
		return Request{}, err
	}
	return ParseRequest(v)
}

// Reply is one reply tuple (kind, value).
type Reply struct {
	Kind  string
	Value any
}

// MarshalPickle returns the reply tuple.
func (r Reply) MarshalPickle() (any, error) { return pickle.Tuple{r.Kind, r.Value}, nil }

// Encode pickles the reply at protocol (0: 4), for a Python 2 peer when python2 is set.
func (r Reply) Encode(protocol int, python2 bool) ([]byte, error) {
	return encodePickle(r, protocol, python2)
}

// ParseReply checks the shape of a decoded reply: a 2-tuple whose kind is a str.
func ParseReply(v any) (Reply, error) {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return Reply{}, fmt.Errorf("managers: bad reply %s: not a 2-tuple", truncate(pickle.Repr(v), 80))
	}
	kind, ok := asStr(t[0])
	if !ok {
		return Reply{}, fmt.Errorf("managers: bad reply kind %s", truncate(pickle.Repr(t[0]), 80))
	}
	return Reply{Kind: kind, Value: t[1]}, nil
}

// DecodeReply unpickles and checks a reply frame.
func DecodeReply(frame []byte) (Reply, error) {
	var v any
	if err := pickle.Unmarshal(frame, &v); err != nil {
		return Reply{}, err
	}
	return ParseReply(v)
}

// Err turns a failure reply into a *RemoteError ('#ERROR', '#TRACEBACK', '#UNSERIALIZABLE');
// it returns nil for '#RETURN' and '#PROXY', and an error for unknown kinds.
func (r Reply) Err() error {
	switch r.Kind {
	case KindReturn, KindProxy:
		return nil
	case KindError:
		exc, ok := PyExceptionFromValue(r.Value)
		if !ok {
			exc = NewPyException("builtins", "Exception", r.Value)
		}
		return &RemoteError{Kind: r.Kind, Exception: exc}
	case KindTraceback, KindUnserializable:
		s, ok := asStr(r.Value)
		if !ok {
			s = pickle.Repr(r.Value)
		}
		return &RemoteError{Kind: r.Kind, Traceback: s}
	}
	return fmt.Errorf("managers: unrecognized message type %s", truncate(pickle.Repr(r.Kind), 80))
}

// wireDialect is how a peer pickles: the protocol, and whether it is Python 2 (protocol 2 with
// Python 2 module names and byte strings as str).
type wireDialect struct {
	protocol int
	python2  bool
	xmlrpc   bool // an xmlrpclib client: XML-RPC documents, not pickles (see xmlrpc.go)
}

var (
	dialectPython2  = wireDialect{protocol: 2, python2: true}
	dialectPython36 = wireDialect{protocol: 3}
	dialectPython38 = wireDialect{protocol: 4}
)

// detectDialect tells the dialect of a peer from a pickle it sent: header 80 02 is Python 2
// (Python 3 clients always send protocol 3 or more), 80 03 is 3.6/3.7, 80 04 is 3.8+, 80 05
// is protocol 5. Anything else is answered like 3.8+.
func detectDialect(frame []byte) wireDialect {
	if isXMLFrame(frame) {
		return dialectXMLRPC
	}
	if len(frame) >= 2 && frame[0] == 0x80 {
		switch frame[1] {
		case 2:
			return dialectPython2
		case 3:
			return dialectPython36
		case 5:
			return wireDialect{protocol: 5}
		}
	}
	return dialectPython38
}

// marshal pickles v in dialect d.
func (d wireDialect) marshal(v any) ([]byte, error) {
	return encodePickle(v, d.protocol, d.python2)
}

// encodePickle pickles v at protocol (0: 4), with Python 2 names and str when python2 is set.
func encodePickle(v any, protocol int, python2 bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := pickle.NewEncoder(&buf)
	if protocol == 0 {
		protocol = 4
	}
	enc.SetProtocol(protocol)
	if python2 {
		enc.SetPython2(true)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
