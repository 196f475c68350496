package managers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

// This file holds typed helpers over [Proxy] for the common SyncManager types. Each sends exactly
// what the CPython proxy class sends (PROTOCOL.md 5.2), so they work with CPython's servers and
// mpgo's alike. Results are in the pickle value model; use [Decode] or [CallInto] for Go types.

// seconds converts a timeout to the float seconds Python expects.
func seconds(d time.Duration) float64 { return d.Seconds() }

func (p *Proxy) call0(ctx context.Context, method string, args ...any) (any, error) {
	return p.Call(ctx, method, pickle.Tuple(args), nil)
}

func (p *Proxy) callNone(ctx context.Context, method string, args ...any) error {
	_, err := p.Call(ctx, method, pickle.Tuple(args), nil)
	return err
}

func resultInt(v any, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case pickle.Py2Int:
		return int(n), nil
	case pickle.Py2Long:
		return int(n), nil
	case bool:
		if n {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("managers: expected an int, got %s", pickle.TypeName(v))
}

func resultBool(v any, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case int64:
		return b != 0, nil
	case pickle.Py2Int:
		return b != 0, nil
	case pickle.Py2Long:
		return b != 0, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("managers: expected a bool, got %s", pickle.TypeName(v))
}

func resultItems(v any, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case *pickle.List:
		return t.Items, nil
	case pickle.Tuple:
		return t, nil
	case []any:
		return t, nil
	case *pickle.Object:
		// multiprocessing's ForkingPickler sends dict views as list(view): REDUCE of
		// builtins.list (or tuple) with the items as the single argument.
		if t.Kind == pickle.BuildReduce && t.Class.Module == "builtins" && (t.Class.Name == "list" || t.Class.Name == "tuple") {
			if len(t.Args) == 0 {
				return nil, nil
			}
			if len(t.Args) == 1 {
				return resultItems(t.Args[0], nil)
			}
		}
	}
	return nil, fmt.Errorf("managers: expected a list, got %s", pickle.Repr(v))
}

// QueueProxy calls a shared queue.Queue (typeids Queue and JoinableQueue of SyncManager, or any
// registered queue). Safe for concurrent use; every blocking Get or Put waits on its own
// connection.
type QueueProxy struct{ *Proxy }

// Put puts item, blocking while the queue is full (q.put(item)).
func (q QueueProxy) Put(ctx context.Context, item any) error { return q.callNone(ctx, "put", item) }

// PutTimeout puts item, waiting at most timeout for a free slot (q.put(item, True, timeout));
// then the error satisfies [IsQueueFull].
func (q QueueProxy) PutTimeout(ctx context.Context, item any, timeout time.Duration) error {
	return q.callNone(ctx, "put", item, true, seconds(timeout))
}

// PutNowait puts item or fails with queue.Full at once (q.put_nowait(item)).
func (q QueueProxy) PutNowait(ctx context.Context, item any) error {
	return q.callNone(ctx, "put_nowait", item)
}

// Get removes and returns an item, blocking until one is available (q.get()). Cancelling ctx
// abandons the call, but the server may still remove an item for it: use GetTimeout to wait
// without that risk.
func (q QueueProxy) Get(ctx context.Context) (any, error) { return q.call0(ctx, "get") }

// GetTimeout removes and returns an item, waiting at most timeout (q.get(True, timeout)); then the
// error satisfies [IsQueueEmpty].
func (q QueueProxy) GetTimeout(ctx context.Context, timeout time.Duration) (any, error) {
	return q.call0(ctx, "get", true, seconds(timeout))
}

// GetNowait removes and returns an item or fails with queue.Empty at once (q.get_nowait()).
func (q QueueProxy) GetNowait(ctx context.Context) (any, error) { return q.call0(ctx, "get_nowait") }

// Qsize returns the approximate size of the queue (q.qsize()).
func (q QueueProxy) Qsize(ctx context.Context) (int, error) { return resultInt(q.call0(ctx, "qsize")) }

// Empty reports whether the queue is empty (q.empty()).
func (q QueueProxy) Empty(ctx context.Context) (bool, error) {
	return resultBool(q.call0(ctx, "empty"))
}

// Full reports whether the queue is full (q.full()).
func (q QueueProxy) Full(ctx context.Context) (bool, error) { return resultBool(q.call0(ctx, "full")) }

// TaskDone marks one fetched item as processed (q.task_done()).
func (q QueueProxy) TaskDone(ctx context.Context) error { return q.callNone(ctx, "task_done") }

// Join blocks until every item put was marked done (q.join()).
func (q QueueProxy) Join(ctx context.Context) error { return q.callNone(ctx, "join") }

// DictProxy calls a shared dict (SyncManager typeid dict). Safe for concurrent use.
type DictProxy struct{ *Proxy }

// Get returns d[key]; a missing key fails with KeyError ([IsKeyError]).
func (d DictProxy) Get(ctx context.Context, key any) (any, error) {
	return d.call0(ctx, "__getitem__", key)
}

// GetDefault returns d.get(key, def).
func (d DictProxy) GetDefault(ctx context.Context, key, def any) (any, error) {
	return d.call0(ctx, "get", key, def)
}

// Set sets d[key] = value. A *Proxy value is stored as a reference to its object.
func (d DictProxy) Set(ctx context.Context, key, value any) error {
	return d.callNone(ctx, "__setitem__", key, value)
}

// Delete deletes d[key]; a missing key fails with KeyError.
func (d DictProxy) Delete(ctx context.Context, key any) error {
	return d.callNone(ctx, "__delitem__", key)
}

// Contains reports whether key is in d.
func (d DictProxy) Contains(ctx context.Context, key any) (bool, error) {
	return resultBool(d.call0(ctx, "__contains__", key))
}

// Len returns len(d).
func (d DictProxy) Len(ctx context.Context) (int, error) { return resultInt(d.call0(ctx, "__len__")) }

// Keys returns the keys (a list, as the proxy's keys() returns).
func (d DictProxy) Keys(ctx context.Context) ([]any, error) { return resultItems(d.call0(ctx, "keys")) }

// Values returns the values.
func (d DictProxy) Values(ctx context.Context) ([]any, error) {
	return resultItems(d.call0(ctx, "values"))
}

// Items returns the (key, value) pairs in the dict's order.
func (d DictProxy) Items(ctx context.Context) ([]pickle.DictItem, error) {
	items, err := resultItems(d.call0(ctx, "items"))
	if err != nil {
		return nil, err
	}
	out := make([]pickle.DictItem, 0, len(items))
	for _, it := range items {
		t, ok := it.(pickle.Tuple)
		if !ok || len(t) != 2 {
			return nil, fmt.Errorf("managers: dict item is %s, not a pair", pickle.TypeName(it))
		}
		out = append(out, pickle.DictItem{Key: t[0], Value: t[1]})
	}
	return out, nil
}

// Update merges other (a *pickle.Dict, a Go map, or a list of pairs) into d (d.update(other)).
func (d DictProxy) Update(ctx context.Context, other any) error {
	return d.callNone(ctx, "update", other)
}

// Pop removes key and returns its value; a missing key fails with KeyError.
func (d DictProxy) Pop(ctx context.Context, key any) (any, error) { return d.call0(ctx, "pop", key) }

// Clear empties the dict.
func (d DictProxy) Clear(ctx context.Context) error { return d.callNone(ctx, "clear") }

// Copy returns a copy of the whole dict (d.copy()).
func (d DictProxy) Copy(ctx context.Context) (*pickle.Dict, error) {
	v, err := d.call0(ctx, "copy")
	if err != nil {
		return nil, err
	}
	m, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("managers: dict copy is %s", pickle.TypeName(v))
	}
	return m, nil
}

// ListProxy calls a shared list (SyncManager typeid list). Safe for concurrent use.
type ListProxy struct{ *Proxy }

// Append appends item (l.append(item)). A *Proxy item is stored as a reference to its object.
func (l ListProxy) Append(ctx context.Context, item any) error {
	return l.callNone(ctx, "append", item)
}

// Extend appends items (l.extend(items)).
func (l ListProxy) Extend(ctx context.Context, items ...any) error {
	return l.callNone(ctx, "extend", pickle.NewList(items...))
}

// Get returns l[i]; negative indexes count from the end; out of range fails with IndexError.
func (l ListProxy) Get(ctx context.Context, i int) (any, error) {
	return l.call0(ctx, "__getitem__", i)
}

// Set sets l[i] = v.
func (l ListProxy) Set(ctx context.Context, i int, v any) error {
	return l.callNone(ctx, "__setitem__", i, v)
}

// Delete deletes l[i].
func (l ListProxy) Delete(ctx context.Context, i int) error {
	return l.callNone(ctx, "__delitem__", i)
}

// Insert inserts v before index i.
func (l ListProxy) Insert(ctx context.Context, i int, v any) error {
	return l.callNone(ctx, "insert", i, v)
}

// Len returns len(l).
func (l ListProxy) Len(ctx context.Context) (int, error) { return resultInt(l.call0(ctx, "__len__")) }

// Slice returns l[start:stop] with Python's slice rules (negative values count from the end).
func (l ListProxy) Slice(ctx context.Context, start, stop int) ([]any, error) {
	return resultItems(l.call0(ctx, "__getitem__", sliceObject(start, stop)))
}

// Items returns a copy of the whole list (l[:]).
func (l ListProxy) Items(ctx context.Context) ([]any, error) {
	return resultItems(l.call0(ctx, "__getitem__", sliceObject(nil, nil)))
}

// Pop removes and returns l[i] (l.pop(i)); use -1 for the last item.
func (l ListProxy) Pop(ctx context.Context, i int) (any, error) { return l.call0(ctx, "pop", i) }

// Remove removes the first item equal to v; a missing value fails with ValueError.
func (l ListProxy) Remove(ctx context.Context, v any) error { return l.callNone(ctx, "remove", v) }

// Index returns the index of the first item equal to v.
func (l ListProxy) Index(ctx context.Context, v any) (int, error) {
	return resultInt(l.call0(ctx, "index", v))
}

// Count returns how many items equal v.
func (l ListProxy) Count(ctx context.Context, v any) (int, error) {
	return resultInt(l.call0(ctx, "count", v))
}

// sliceObject is Python's slice(start, stop) (nil for an open end).
func sliceObject(start, stop any) *pickle.Object {
	return &pickle.Object{Class: pickle.Global{Module: "builtins", Name: "slice"}, Kind: pickle.BuildReduce, Args: pickle.Tuple{start, stop, nil}}
}

// NamespaceProxy calls a shared Namespace (SyncManager typeid Namespace). Safe for concurrent use.
type NamespaceProxy struct{ *Proxy }

// Get returns the attribute name (ns.name); a missing one fails with AttributeError.
func (n NamespaceProxy) Get(ctx context.Context, name string) (any, error) {
	return n.call0(ctx, "__getattribute__", name)
}

// Set sets the attribute name (ns.name = v).
func (n NamespaceProxy) Set(ctx context.Context, name string, v any) error {
	return n.callNone(ctx, "__setattr__", name, v)
}

// Delete deletes the attribute name (del ns.name).
func (n NamespaceProxy) Delete(ctx context.Context, name string) error {
	return n.callNone(ctx, "__delattr__", name)
}

// EventProxy calls a shared threading.Event (SyncManager typeid Event). Safe for concurrent use.
type EventProxy struct{ *Proxy }

// Set sets the flag, waking every waiter.
func (e EventProxy) Set(ctx context.Context) error { return e.callNone(ctx, "set") }

// Clear clears the flag.
func (e EventProxy) Clear(ctx context.Context) error { return e.callNone(ctx, "clear") }

// IsSet reports whether the flag is set.
func (e EventProxy) IsSet(ctx context.Context) (bool, error) {
	return resultBool(e.call0(ctx, "is_set"))
}

// Wait waits until the flag is set, at most timeout (a negative timeout waits without limit), and
// reports the flag (e.wait(timeout)).
func (e EventProxy) Wait(ctx context.Context, timeout time.Duration) (bool, error) {
	var t any
	if timeout >= 0 {
		t = seconds(timeout)
	}
	return resultBool(e.call0(ctx, "wait", t))
}

// ValueProxy calls a shared Value (SyncManager typeid Value). Safe for concurrent use.
type ValueProxy struct{ *Proxy }

// Get returns the value (v.value).
func (v ValueProxy) Get(ctx context.Context) (any, error) { return v.call0(ctx, "get") }

// Set sets the value (v.value = x).
func (v ValueProxy) Set(ctx context.Context, x any) error { return v.callNone(ctx, "set", x) }

// LockProxy calls a shared lock: Lock, RLock, Semaphore or BoundedSemaphore (CPython's
// AcquirerProxy). A server owns a lock by the connection that acquired it (a CPython server
// thread), so a LockProxy is one owner: while it holds the lock it keeps the connection that
// acquired it and releases through it, which RLock requires. Use one LockProxy per owner
// ([NewLockProxy] on the same *Proxy gives another owner). Its calls are serialised; it is safe
// for concurrent use.
type LockProxy struct {
	*Proxy
	mu    sync.Mutex
	conn  *connection.Conn // the connection holding the lock
	depth int              // successful acquires not yet released
}

// NewLockProxy returns a new owner of the lock p refers to.
func NewLockProxy(p *Proxy) *LockProxy { return &LockProxy{Proxy: p} }

// ErrNoTimeout is returned by [LockProxy.Acquire] with a timeout on a Python 2 server, whose
// locks have none.
var ErrNoTimeout = errors.New("managers: a Python 2 server's acquire takes no timeout")

// Acquire acquires the lock (lock.acquire(blocking, timeout)); a negative timeout waits without
// limit. It reports whether the lock was acquired.
func (l *LockProxy) Acquire(ctx context.Context, blocking bool, timeout time.Duration) (bool, error) {
	args := pickle.Tuple{blocking}
	if timeout >= 0 {
		if l.client.Python2() {
			return false, ErrNoTimeout
		}
		args = append(args, seconds(timeout))
	}
	if l.closed.Load() {
		return false, ErrProxyClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	conn := l.conn
	if conn == nil {
		var err error
		if conn, err = l.client.getConn(ctx); err != nil {
			return false, err
		}
	}
	rep, poisoned, err := l.client.roundTrip(ctx, conn, l.token.ID, "acquire", args, nil, false)
	if err == nil {
		err = replyError(rep)
	}
	ok, err := resultBool(rep.payload, err)
	switch {
	case poisoned:
		// The lock may be held by a connection we close now: the server releases nothing, but
		// the owner is gone, as when a CPython client thread dies.
		l.client.putConn(conn, true)
		l.conn, l.depth = nil, 0
	case ok:
		l.conn = conn
		l.depth++
	case l.depth == 0:
		l.client.putConn(conn, false)
		l.conn = nil
	}
	return ok, err
}

// Release releases the lock (lock.release()), through the connection that acquired it.
func (l *LockProxy) Release(ctx context.Context) error {
	if l.closed.Load() {
		return ErrProxyClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		// Not acquired by this owner (fine for Lock and Semaphore): any connection will do.
		_, err := l.Call(ctx, "release", nil, nil)
		return err
	}
	rep, poisoned, err := l.client.roundTrip(ctx, l.conn, l.token.ID, "release", nil, nil, false)
	if err == nil {
		err = replyError(rep)
	}
	if poisoned {
		l.client.putConn(l.conn, true)
		l.conn, l.depth = nil, 0
		return err
	}
	if err == nil {
		l.depth--
	}
	if l.depth <= 0 {
		l.client.putConn(l.conn, false)
		l.conn, l.depth = nil, 0
	}
	return err
}
