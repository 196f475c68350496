package xmlrpc

import (
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// UnsupportedTypeError is a value of a type XML-RPC cannot carry (a set, an object, a proxy,
// an exception, ...). Its message is the TypeError CPython's xmlrpclib raises.
type UnsupportedTypeError struct {
	Type string // the Python type name
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("xmlrpc: cannot marshal <class '%s'> objects", e.Type)
}

// UnsupportedValueError is a value of a supported type that XML-RPC cannot carry: an integer
// beyond 64 bits, a dict key that is not a str, a string holding a character XML 1.0 has no
// place for, a container inside itself, or nesting deeper than [MaxDepth].
type UnsupportedValueError struct {
	Value any
	Msg   string
}

func (e *UnsupportedValueError) Error() string {
	return "xmlrpc: " + e.Msg + " (" + truncate(pickle.Repr(e.Value), 60) + ")"
}

// SyntaxError is a document that is not well-formed XML or not a valid XML-RPC
// <params> document.
type SyntaxError struct {
	Offset int64 // the input offset the problem was found at
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("xmlrpc: %s at offset %d", e.Msg, e.Offset)
}

// Fault is an XML-RPC <fault> document: the error reply of an XML-RPC server (CPython's
// xmlrpclib.loads raises it as xmlrpc.client.Fault).
type Fault struct {
	Code   int64
	String string
}

func (e *Fault) Error() string {
	return fmt.Sprintf("xmlrpc: fault %d: %s", e.Code, e.String)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
