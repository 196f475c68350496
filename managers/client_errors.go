package managers

import "errors"

// IsPythonException reports whether err is (or wraps) a Python exception of class module.name
// raised by a method on the server: a [*RemoteError] of kind '#ERROR' or a [*PyException].
// Python 2 and private module names count as their Python 3 public names: "exceptions",
// "__builtin__" and "builtins" are the same module (module "" means builtins too), and
// "Queue" and "_queue" are "queue", so IsPythonException(err, "queue", "Empty") matches what
// 2.7 (Queue.Empty), 3.6 (queue.Empty) and 3.7+ (_queue.Empty) servers raise.
// Only the exact class matches: the client does not know the server's class hierarchy.
func IsPythonException(err error, module, name string) bool {
	var exc *PyException
	if !errors.As(err, &exc) || exc == nil {
		return false
	}
	return normModule(exc.Module) == normModule(module) && exc.Name == name
}

// PythonException returns the Python exception carried by err (a '#ERROR' reply), or nil.
func PythonException(err error) *PyException {
	var exc *PyException
	if errors.As(err, &exc) {
		return exc
	}
	return nil
}

// IsQueueEmpty reports whether err is queue.Empty (Queue.get_nowait, or get with a timeout).
func IsQueueEmpty(err error) bool { return IsPythonException(err, "queue", "Empty") }

// IsQueueFull reports whether err is queue.Full (Queue.put_nowait, or put with a timeout).
func IsQueueFull(err error) bool { return IsPythonException(err, "queue", "Full") }

// IsKeyError reports whether err is a Python KeyError (a missing dict key).
func IsKeyError(err error) bool { return IsPythonException(err, "builtins", "KeyError") }

// IsIndexError reports whether err is a Python IndexError (a list index out of range).
func IsIndexError(err error) bool { return IsPythonException(err, "builtins", "IndexError") }

// IsAttributeError reports whether err is a Python AttributeError (a missing Namespace attribute).
func IsAttributeError(err error) bool { return IsPythonException(err, "builtins", "AttributeError") }

// IsStopIteration reports whether err is StopIteration (the end of an Iterator proxy).
func IsStopIteration(err error) bool { return IsPythonException(err, "builtins", "StopIteration") }

// IsRemoteTraceback reports whether err is a '#TRACEBACK' or '#UNSERIALIZABLE' reply (Python's
// RemoteError: an unknown ident, a method not exposed, a failure of the server itself).
func IsRemoteTraceback(err error) bool {
	var re *RemoteError
	return errors.As(err, &re) && (re.Kind == KindTraceback || re.Kind == KindUnserializable)
}
