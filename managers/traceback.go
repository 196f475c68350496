package managers

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/mpgo/mpgo/pickle"
)

// srcFile is the "file" named in the tracebacks the server sends.
const srcFile = "<mpgo>/managers/server.go"

// traceback formats a one-frame Python traceback: where is the function, code the source
// line shown under it, exc the final "Type: message" line.
func traceback(where, code, exc string) string {
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):\n")
	fmt.Fprintf(&b, "  File %q, line 1, in %s\n", srcFile, where)
	if code != "" {
		b.WriteString("    " + code + "\n")
	}
	b.WriteString(exc)
	b.WriteString("\n")
	return b.String()
}

// chained joins two tracebacks as Python prints an exception raised while handling another.
func chained(first, second string) string {
	return first + "\nDuring handling of the above exception, another exception occurred:\n\n" + second
}

// tracebackReply is ('#TRACEBACK', traceback(...)).
func tracebackReply(where, code string, exc *PyException) Reply {
	return Reply{Kind: KindTraceback, Value: traceback(where, code, exc.Error())}
}

// pySetRepr renders names as Python shows a set of str: {'a', 'b'} or set().
func pySetRepr[V any](set map[string]V) string {
	if len(set) == 0 {
		return "set()"
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = pickle.Repr(n)
	}
	return "{" + strings.Join(names, ", ") + "}"
}

// notExposedReply is CPython's reply for a method that is neither exposed nor a fallback.
func notExposedReply[V any](python2 bool, obj Object, exposed map[string]V, method string) Reply {
	keyErr := traceback("serve_client", "fallback_func = self.fallback_mapping[methodname]", keyError(method).Error())
	if python2 {
		return Reply{Kind: KindTraceback, Value: keyErr}
	}
	attr := traceback("serve_client", "raise AttributeError(",
		fmt.Sprintf("AttributeError: method %s of <class '%s'> object is not in exposed=%s", pickle.Repr(method), pyClassName(obj), pySetRepr(exposed)))
	return Reply{Kind: KindTraceback, Value: chained(attr, keyErr)}
}

// errorReply turns an error returned by a method (or a public function) into a reply: a
// *PyException (or *pickle.TypeError) becomes '#ERROR' when asError is set, anything else a
// '#TRACEBACK' naming a RuntimeError.
func errorReply(err error, asError bool, where, code string) Reply {
	var pe *PyException
	if errors.As(err, &pe) {
		if asError {
			return Reply{Kind: KindError, Value: pe}
		}
		return tracebackReply(where, code, pe)
	}
	var te *pickle.TypeError
	if errors.As(err, &te) {
		exc := NewPyException("builtins", "TypeError", te.Msg)
		if asError {
			return Reply{Kind: KindError, Value: exc}
		}
		return tracebackReply(where, code, exc)
	}
	return Reply{Kind: KindTraceback, Value: traceback(where, code, "RuntimeError: "+err.Error())}
}

// panicReply reports a recovered panic with the Go stack.
func panicReply(where, code string, p any) Reply {
	buf := make([]byte, 8<<10)
	buf = buf[:runtime.Stack(buf, false)]
	return Reply{Kind: KindTraceback, Value: traceback(where, code, fmt.Sprintf("RuntimeError: Go panic: %v\n\nGo stack:\n%s", p, buf))}
}

// unserializableText is the '#UNSERIALIZABLE' text for an encoding failure.
func unserializableText(err error) string {
	return traceback("serve_client", "send(msg)", encodeErrorException(err))
}

// pyClassName is the class name shown for obj in tracebacks: the wrapped type of a
// [*Reflected], else the Go type.
func pyClassName(obj Object) string {
	if r, ok := obj.(*Reflected); ok {
		return r.tab.typeName
	}
	return goTypeName(obj)
}
