package managers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mpgo/mpgo/pickle"
)

// ErrServerClosed is returned by [Server.Serve] and [Server.ListenAndServe] after
// [Server.Shutdown] or [Server.Close], and after a client asked the server to shut down.
var ErrServerClosed = errors.New("managers: server closed")

// PyException is a Python exception a shared object's method raises: the server sends it as
// ('#ERROR', Module.Name(*Args)), so the Python client raises that very class. Module is a Python 3
// module name ("builtins", "queue"); for Python 2 clients the encoder maps it
// ("exceptions", "Queue").
type PyException struct {
	Module string       // e.g. "builtins"
	Name   string       // e.g. "KeyError"
	Args   pickle.Tuple // the exception's args
}

// NewPyException returns a *PyException of class module.name with args. An empty module means
// "builtins".
func NewPyException(module, name string, args ...any) *PyException {
	if module == "" {
		module = "builtins"
	}
	return &PyException{Module: module, Name: name, Args: pickle.Tuple(args)}
}

// Error formats the exception as Python's traceback.format_exception_only does:
// "KeyError: 'x'", "queue.Empty", "ValueError: bad".
func (e *PyException) Error() string {
	name := e.Name
	if e.Module != "" && e.Module != "builtins" {
		name = e.Module + "." + e.Name
	}
	msg := e.message()
	if msg == "" {
		return name
	}
	return name + ": " + msg
}

// message is str(exc) (KeyError uses repr of its single argument).
func (e *PyException) message() string {
	switch len(e.Args) {
	case 0:
		return ""
	case 1:
		if e.Name == "KeyError" && e.Module == "builtins" {
			return pickle.Repr(e.Args[0])
		}
		return pickle.Str(e.Args[0])
	}
	return pickle.Repr(e.Args)
}

// Is reports whether target is a *PyException of the same class (target's Args are ignored
// when nil), so errors.Is(err, &PyException{Module: "queue", Name: "Empty"}) works.
func (e *PyException) Is(target error) bool {
	t, ok := target.(*PyException)
	if !ok {
		return false
	}
	if normModule(t.Module) != normModule(e.Module) || t.Name != e.Name {
		return false
	}
	return t.Args == nil || pickle.Equal(t.Args, e.Args)
}

func normModule(m string) string {
	switch m {
	case "", "exceptions", "__builtin__", "builtins":
		return "builtins"
	case "_queue", "Queue":
		return "queue"
	}
	return m
}

// MarshalPickle encodes the exception as Python pickles it: REDUCE of the class with args.
func (e *PyException) MarshalPickle() (any, error) {
	args := e.Args
	if args == nil {
		args = pickle.Tuple{}
	}
	return &pickle.Object{Class: pickle.Global{Module: e.Module, Name: e.Name}, Kind: pickle.BuildReduce, Args: args}, nil
}

// PyExceptionFromValue converts a decoded exception (a *pickle.Object such as the payload of an
// '#ERROR' reply) into a *PyException. "_queue" becomes "queue". ok is false for values that are
// not objects.
func PyExceptionFromValue(v any) (*PyException, bool) {
	switch o := v.(type) {
	case *PyException:
		return o, true
	case *pickle.Object:
		m := o.Class.Module
		if m == "_queue" {
			m = "queue"
		}
		return &PyException{Module: m, Name: o.Class.Name, Args: o.Args}, true
	}
	return nil, false
}

// RemoteError is a failure reported by a manager server: Kind is the reply kind ("#ERROR",
// "#TRACEBACK" or "#UNSERIALIZABLE"); Exception is set for "#ERROR", Traceback (the server's
// text) for the others.
type RemoteError struct {
	Kind      string
	Exception *PyException
	Traceback string
}

// Error returns the exception text, or the traceback framed as Python's RemoteError prints it.
func (e *RemoteError) Error() string {
	if e.Exception != nil {
		return "managers: remote " + e.Exception.Error()
	}
	line := strings.Repeat("-", 75)
	prefix := ""
	if e.Kind == KindUnserializable {
		prefix = "Unserializable message: "
	}
	return fmt.Sprintf("managers: remote error\n%s\n%s%s%s", line, prefix, e.Traceback, line)
}

// Unwrap returns the exception of an "#ERROR" reply (nil otherwise).
func (e *RemoteError) Unwrap() error {
	if e.Exception == nil {
		return nil
	}
	return e.Exception
}
