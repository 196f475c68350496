package managers

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mpgo/pickle"
)

// Object is a shared object hosted by a [Server]. CallMethod runs the method name (one of the
// exposed names) with Python positional args and keyword kwargs (never nil when called by the
// server; it may be empty) and returns a value of the pickle value model (or any Go value the
// pickle encoder accepts).
//
// Errors: a [*PyException] (or a *pickle.TypeError) is raised in the Python client with its real
// class ('#ERROR'); any other error is reported as a '#TRACEBACK' (RemoteError in Python).
//
// ctx is cancelled when the calling connection closes or the server shuts down; blocking
// methods must return when it is. [CallerID] tells callers apart.
//
// Implementations must be safe for concurrent use: like CPython, the server calls methods of one
// object from several connections at once.
type Object interface {
	CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error)
}

// ObjectFunc adapts a function to [Object], as http.HandlerFunc does for http.Handler.
type ObjectFunc func(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error)

// CallMethod calls f(ctx, name, args, kwargs).
func (f ObjectFunc) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	return f(ctx, name, args, kwargs)
}

// ValueGetter is implemented by objects that can give a picklable copy of themselves: the
// '#GETVALUE' fallback (proxy._getvalue() in Python) and a Python 2 client receiving a proxy it
// stored. Without it, '#GETVALUE' answers a '#TRACEBACK'.
type ValueGetter interface {
	GetValue() (any, error)
}

// Reprer is implemented by objects with a Python repr(): the '__repr__' fallback (str(proxy) in
// Python) and debug_info use it. Without it the server uses "<TypeID object>".
type Reprer interface {
	PyRepr() string
}

// PyStringer is implemented by objects with a Python str() that differs from their repr(): the
// '__str__' fallback uses PyStr, else PyRepr.
type PyStringer interface {
	PyStr() string
}

// Exposer is implemented by objects that know their exposed method names. It is used when the
// registered [Type] has no Exposed list (CPython's public_methods(obj)).
type Exposer interface {
	ExposedMethods() []string
}

type callerIDKey struct{}

var lastCallerID atomic.Uint64

// NewCallerID returns a new process-unique caller identity (never 0).
func NewCallerID() uint64 { return lastCallerID.Add(1) }

// WithCallerID returns a context carrying the caller identity id. The server gives every
// method-call connection its own identity; Go code that calls objects directly (for example a
// Lock shared with Python) uses WithCallerID(ctx, NewCallerID()) once per logical owner.
func WithCallerID(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, callerIDKey{}, id)
}

// CallerID returns the identity of the connection (or Go caller) making a method call: unique per
// method-call connection, as a CPython server thread is. It is 0 if ctx carries none.
func CallerID(ctx context.Context) uint64 {
	id, _ := ctx.Value(callerIDKey{}).(uint64)
	return id
}
