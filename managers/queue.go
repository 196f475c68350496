package managers

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// Queue is a FIFO queue shared by Go code and Python proxies: the object behind SyncManager's
// 'Queue' and 'JoinableQueue' typeids (both queue.Queue in CPython) and behind the documented
// register('get_queue', callable=lambda: queue) pattern ([Singleton]). Go code calls Put, Get
// and friends directly; Python clients call put, get, put_nowait, get_nowait, qsize, empty,
// full, task_done, join and shutdown (3.13's queue.Queue API, served to every Python version).
//
// Errors follow Python: [ErrQueueEmpty] (queue.Empty), [ErrQueueFull] (queue.Full),
// [ErrQueueShutDown] (queue.ShutDown, 3.13) are *PyExceptions, so errors.Is works with them.
//
// Items put by Python clients are kept pickled ([pickle.Pickled], in the putter's dialect): a
// small tuple costs a few dozen bytes instead of a tree of Go values, and a getter of the same
// dialect (the same Python major version and pickle protocol) receives those bytes as they are,
// without decoding and encoding them again; a getter of another dialect receives the value
// encoded for it. Items holding a proxy of one of the server's own objects are kept as values
// (they hold the object alive). Items put through the Go API are kept as the Go values they
// are. Go callers always get values: Get decodes a pickled item as [pickle.Unmarshal] does,
// so that an item put by a Python 2 client has its str (and ASCII unicode) as
// [pickle.Py2String].
//
// A Queue is safe for concurrent use. Create it with [NewQueue].
type Queue struct {
	mu         sync.Mutex
	items      itemFIFO
	maxsize    int
	unfinished int
	shutdown   bool
	// changed is closed on the next state change; nil while no one waits
	// (a put or get with no waiter then allocates nothing)
	changed chan struct{}
}

// Queue errors, as the Python exceptions Python clients receive.
var (
	ErrQueueEmpty    = &PyException{Module: "queue", Name: "Empty", Args: pickle.Tuple{}}
	ErrQueueFull     = &PyException{Module: "queue", Name: "Full", Args: pickle.Tuple{}}
	ErrQueueShutDown = &PyException{Module: "queue", Name: "ShutDown", Args: pickle.Tuple{}}
)

// NewQueue returns an empty queue holding at most maxsize items (maxsize <= 0: unbounded),
// like queue.Queue(maxsize).
func NewQueue(maxsize int) *Queue {
	if maxsize < 0 {
		maxsize = 0
	}
	return &Queue{maxsize: maxsize}
}

// notifyLocked wakes every waiter.
func (q *Queue) notifyLocked() {
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

func (q *Queue) lenLocked() int { return q.items.len() }

func (q *Queue) fullLocked() bool { return q.maxsize > 0 && q.lenLocked() >= q.maxsize }

// pushLocked adds v, or when bin is not nil the pickled item of AppendBinary form bin.
func (q *Queue) pushLocked(v any, bin []byte) {
	if bin != nil {
		q.items.pushBinary(bin)
	} else {
		q.items.push(v)
	}
	q.unfinished++
	q.notifyLocked()
}

func (q *Queue) popLocked() (any, error) {
	v, err := q.items.pop()
	q.notifyLocked()
	return v, err
}

// wait waits for a state change; the deadline is zero for none. It returns (false, nil) at
// the deadline. q.mu is held on entry and on return.
func (q *Queue) wait(ctx context.Context, deadline time.Time) (bool, error) {
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	ch := q.changed
	q.mu.Unlock()
	defer q.mu.Lock()
	var timer <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ch:
		return true, nil
	case <-timer:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Put adds v, waiting while the queue is full until ctx ends (ctx's error is returned; with a
// ctx deadline that is context.DeadlineExceeded). After Shutdown it returns ErrQueueShutDown.
func (q *Queue) Put(ctx context.Context, v any) error { return q.put(ctx, v, nil, true, time.Time{}) }

// PutNowait adds v if there is room at once, else returns ErrQueueFull.
func (q *Queue) PutNowait(v any) error {
	return q.put(context.Background(), v, nil, false, time.Time{})
}

// PutTimeout is Python's put(v, timeout=d): it returns ErrQueueFull after waiting d.
func (q *Queue) PutTimeout(ctx context.Context, v any, d time.Duration) error {
	return q.put(ctx, v, nil, true, time.Now().Add(max(d, 0)+1))
}

// put adds v, or when bin is not nil the pickled item of AppendBinary form bin.
func (q *Queue) put(ctx context.Context, v any, bin []byte, block bool, deadline time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.shutdown {
			return ErrQueueShutDown
		}
		if !q.fullLocked() {
			q.pushLocked(v, bin)
			return nil
		}
		if !block {
			return ErrQueueFull
		}
		ok, err := q.wait(ctx, deadline)
		if err != nil {
			return err
		}
		if !ok {
			if q.shutdown {
				return ErrQueueShutDown
			}
			if !q.fullLocked() {
				continue
			}
			return ErrQueueFull
		}
	}
}

// Get removes and returns the oldest item, waiting until there is one or ctx ends. After
// Shutdown it returns ErrQueueShutDown once the queue is empty.
func (q *Queue) Get(ctx context.Context) (any, error) {
	return itemValue(q.get(ctx, true, time.Time{}))
}

// GetNowait returns the oldest item if there is one at once, else ErrQueueEmpty.
func (q *Queue) GetNowait() (any, error) {
	return itemValue(q.get(context.Background(), false, time.Time{}))
}

// GetTimeout is Python's get(timeout=d): it returns ErrQueueEmpty after waiting d.
func (q *Queue) GetTimeout(ctx context.Context, d time.Duration) (any, error) {
	return itemValue(q.get(ctx, true, time.Now().Add(max(d, 0)+1)))
}

// itemValue returns the value of an item taken from a queue: a pickled item decoded.
func itemValue(v any, err error) (any, error) {
	if p, ok := v.(pickle.Pickled); ok && err == nil {
		if v, err = p.Value(); err != nil {
			return nil, fmt.Errorf("managers: queue item %v does not decode: %w", p, err)
		}
	}
	return v, err
}

// pickleItem pickles the item a Python client put in the client's dialect (the AppendBinary
// form of a pickle.Pickled, in st's buffer: release st once it is stored), when it came from
// a pickle client (ctx is a served call's) and survives the trip through bytes. Otherwise it
// returns nil: items that hold a *Ref (a proxy of one of the server's objects, which the Ref
// keeps alive) or anything else outside the pickle value model stay values, as do XML-RPC
// clients' items.
func pickleItem(ctx context.Context, v any) (st *replyEnc, bin []byte) {
	d, ok := servedDialect(ctx)
	if !ok || d.xmlrpc {
		return nil, nil
	}
	protocol := d.protocol
	if protocol == 0 {
		protocol = pickle.DefaultProtocol
	}
	st = replyEncPool.Get().(*replyEnc)
	st.enc.SetProtocol(protocol)
	st.enc.SetPython2(d.python2)
	st.enc.SetValueModelOnly(true)
	bin, err := st.enc.AppendPickled(st.buf[:0], v)
	st.enc.SetValueModelOnly(false)
	st.buf = bin
	if err != nil {
		st.release()
		return nil, nil
	}
	return st, bin
}

// servedItem returns an item for the reply to a Python client: a pickled item as it is (the
// reply encoder splices it, or re-encodes it for another dialect), except for an XML-RPC client
// or a Go caller, which get the value.
func servedItem(ctx context.Context, v any, err error) (any, error) {
	if _, ok := v.(pickle.Pickled); ok && err == nil {
		if d, ok := servedDialect(ctx); !ok || d.xmlrpc {
			return itemValue(v, nil)
		}
	}
	return v, err
}

func (q *Queue) get(ctx context.Context, block bool, deadline time.Time) (any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.lenLocked() > 0 {
			return q.popLocked()
		}
		if q.shutdown {
			return nil, ErrQueueShutDown
		}
		if !block {
			return nil, ErrQueueEmpty
		}
		ok, err := q.wait(ctx, deadline)
		if err != nil {
			return nil, err
		}
		if !ok {
			if q.lenLocked() > 0 {
				continue
			}
			if q.shutdown {
				return nil, ErrQueueShutDown
			}
			return nil, ErrQueueEmpty
		}
	}
}

// TaskDone marks one item taken from the queue as processed (see Join). It returns Python's
// ValueError('task_done() called too many times') when called more times than items were put.
func (q *Queue) TaskDone() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.unfinished <= 0 {
		return NewPyException("builtins", "ValueError", "task_done() called too many times")
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.notifyLocked()
	}
	return nil
}

// Join waits until every item put has been marked done with TaskDone, or ctx ends.
func (q *Queue) Join(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.unfinished > 0 {
		if _, err := q.wait(ctx, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

// Qsize returns the number of items.
func (q *Queue) Qsize() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lenLocked()
}

// Empty reports whether the queue holds no item.
func (q *Queue) Empty() bool { return q.Qsize() == 0 }

// Full reports whether the queue holds maxsize items (never for an unbounded queue).
func (q *Queue) Full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.fullLocked()
}

// Maxsize returns the capacity given to NewQueue (0: unbounded).
func (q *Queue) Maxsize() int { return q.maxsize }

// Shutdown shuts the queue down (Python 3.13's Queue.shutdown): Put fails with
// ErrQueueShutDown from now on, and Get does once the queue is empty. With immediate, the
// items are discarded (counted as done), so Get fails at once and Join returns.
func (q *Queue) Shutdown(immediate bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	if immediate {
		q.unfinished = max(q.unfinished-q.lenLocked(), 0)
		q.items.reset()
	}
	q.notifyLocked()
}

// queueMethods is dir(queue.Queue) of CPython 3.13 without private names (the exposed list
// CPython sends for a Queue).
var queueMethods = []string{"empty", "full", "get", "get_nowait", "join", "put", "put_nowait", "qsize", "shutdown", "task_done"}

// ExposedMethods returns the methods Python clients may call.
func (q *Queue) ExposedMethods() []string { return slices.Clone(queueMethods) }

// timeoutDeadline converts Python's (block, timeout) pair to a deadline.
func timeoutDeadline(timeout any) (time.Time, error) {
	if timeout == nil {
		return time.Time{}, nil
	}
	f, ok := pyFloat(timeout)
	if !ok {
		if _, isF := timeout.(float64); isF { // NaN
			return time.Time{}, NewPyException("builtins", "ValueError", "'timeout' must be a non-negative number")
		}
		return time.Time{}, NewPyException("builtins", "TypeError", "'<' not supported between instances of '"+pickle.TypeName(timeout)+"' and 'int'")
	}
	if f < 0 {
		return time.Time{}, NewPyException("builtins", "ValueError", "'timeout' must be a non-negative number")
	}
	if f > math.MaxInt64/1e9/2 {
		return time.Time{}, nil // effectively forever
	}
	return time.Now().Add(time.Duration(f * 1e9)), nil
}

// CallMethod serves queue.Queue's Python API.
func (q *Queue) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	c, err := ParseQueueCall(name, args, kwargs)
	if err != nil {
		return nil, err
	}
	switch c.Method {
	case "put":
		st, bin := pickleItem(ctx, c.Item)
		err = q.put(ctx, c.Item, bin, c.Block, c.Deadline)
		if st != nil {
			st.release()
		}
		return nil, err
	case "get":
		v, err := q.get(ctx, c.Block, c.Deadline)
		return servedItem(ctx, v, err)
	case "qsize":
		return int64(q.Qsize()), nil
	case "empty":
		return q.Empty(), nil
	case "full":
		return q.Full(), nil
	case "task_done":
		return nil, q.TaskDone()
	case "join":
		return nil, q.Join(ctx)
	default: // shutdown
		q.Shutdown(c.Immediate)
		return nil, nil
	}
}
