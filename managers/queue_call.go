package managers

import (
	"context"
	"slices"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// QueueCall is one Python call on a queue.Queue proxy with its arguments bound and checked as
// CPython's queue.Queue does (TypeError and ValueError with CPython's texts). It lets another
// queue implementation (managers/natsqueue) serve exactly the Python API that [Queue] serves.
type QueueCall struct {
	// Method is the method called: "put", "get", "qsize", "empty", "full", "task_done", "join"
	// or "shutdown". put_nowait and get_nowait are "put" and "get" with Block false.
	Method string
	// Item is put's item.
	Item any
	// Block is put's and get's block argument (false for the _nowait forms).
	Block bool
	// Deadline is when a blocking put or get gives up (Python's timeout); zero for never.
	Deadline time.Time
	// Immediate is shutdown's immediate argument.
	Immediate bool
}

// ParseQueueCall binds the arguments of a Python call of queue.Queue's method name. A method
// that queue.Queue does not have is an AttributeError, as [Queue.CallMethod] answers it.
func ParseQueueCall(name string, args pickle.Tuple, kwargs *pickle.Dict) (QueueCall, error) {
	c := QueueCall{Method: name}
	switch name {
	case "put":
		a, err := bindCall("Queue.put", []string{"item", "block", "timeout"}, []any{true, nil}, args, kwargs)
		if err != nil {
			return c, err
		}
		c.Item, c.Block = a[0], pyTruth(a[1])
		if c.Block {
			if c.Deadline, err = timeoutDeadline(a[2]); err != nil {
				return c, err
			}
		}
	case "put_nowait":
		a, err := bindCall("Queue.put_nowait", []string{"item"}, nil, args, kwargs)
		if err != nil {
			return c, err
		}
		c.Method, c.Item = "put", a[0]
	case "get":
		a, err := bindCall("Queue.get", []string{"block", "timeout"}, []any{true, nil}, args, kwargs)
		if err != nil {
			return c, err
		}
		c.Block = pyTruth(a[0])
		if c.Block {
			if c.Deadline, err = timeoutDeadline(a[1]); err != nil {
				return c, err
			}
		}
	case "get_nowait":
		if _, err := bindCall("Queue.get_nowait", nil, nil, args, kwargs); err != nil {
			return c, err
		}
		c.Method = "get"
	case "qsize", "empty", "full", "task_done", "join":
		if _, err := bindCall("Queue."+name, nil, nil, args, kwargs); err != nil {
			return c, err
		}
	case "shutdown":
		a, err := bindCall("Queue.shutdown", []string{"immediate"}, []any{false}, args, kwargs)
		if err != nil {
			return c, err
		}
		c.Immediate = pyTruth(a[0])
	default:
		return c, NewPyException("builtins", "AttributeError", "'Queue' object has no attribute '"+name+"'")
	}
	return c, nil
}

// QueueMethods returns the methods a queue.Queue proxy exposes (what [Queue.ExposedMethods]
// returns).
func QueueMethods() []string { return slices.Clone(queueMethods) }

// AppendCallerPickled appends to dst item v pickled in the dialect of the Python client whose
// served call ctx is, in the form [pickle.Pickled.AppendBinary] writes and [pickle.ParsePickled]
// reads: what a queue stores so that [CallerItem] can later hand the bytes to a getter of the
// same dialect without decoding them. It reports false, appending nothing, when ctx is not a
// pickle client's served call (a Go caller, an XML-RPC client) or v cannot go through bytes
// unchanged (it holds a proxy of one of this server's objects, or a Go value outside the
// pickle value model): store v some other way then.
func AppendCallerPickled(ctx context.Context, dst []byte, v any) ([]byte, bool) {
	st, bin := pickleItem(ctx, v)
	if st == nil {
		return dst, false
	}
	dst = append(dst, bin...)
	st.release()
	return dst, true
}

// CallerItem returns what a method returns to the caller of ctx for an item kept as p: p
// itself for a pickle client (the reply copies its bytes into the reply when the dialects
// match, else re-encodes it), its decoded value for a Go caller or an XML-RPC client.
func CallerItem(ctx context.Context, p pickle.Pickled) (any, error) {
	return servedItem(ctx, p, nil)
}
