package managers

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// Ownership and clients that die holding a lock
//
// CPython's SyncManager runs every method of a connection in that connection's server thread, so
// an RLock (and the lock of a Condition) belongs to the server thread of the client thread that
// acquired it. mpgo keeps exactly that: an [RLock] belongs to the [CallerID] of the method-call
// connection that acquired it (each Python client thread has its own connection), and only that
// connection may release it or wait on a Condition built on it. A plain [Lock] and the semaphores
// have no owner, as in Python: any client may release them.
//
// A client that dies (or closes its connection) while holding a lock leaves it held, exactly as
// CPython's server does: the lock protects data the client may have left half-updated, and
// releasing it silently would hide that. A held [Lock] or semaphore can still be released by any
// other client; an [RLock] owned by a dead connection stays held for the server's lifetime, as on
// CPython. Blocked calls (acquire, wait) of a connection that closes return at once and change
// nothing.

// maxLockTimeout is threading.TIMEOUT_MAX on Linux (seconds).
const maxLockTimeout = float64(math.MaxInt64/1000) / 1e6

// lockAcquireArgs parses _thread.lock.acquire(blocking=True, timeout=-1) (also RLock's).
func lockAcquireArgs(args pickle.Tuple, kwargs *pickle.Dict) (blocking bool, d time.Duration, forever bool, err error) {
	if len(args) > 2 {
		return false, 0, false, typeErrorf("acquire() takes at most 2 arguments (%d given)", len(args))
	}
	v, err := bindArgs("acquire", args, kwargs, opt("blocking", true), opt("timeout", int64(-1)))
	if err != nil {
		return false, 0, false, err
	}
	blocking = truthy(v[0])
	t, ok := asFloat(v[1])
	if !ok {
		return false, 0, false, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(v[1]))
	}
	if !blocking && t != -1 {
		return false, 0, false, pyErr("ValueError", "can't specify a timeout for a non-blocking call")
	}
	if t < 0 && t != -1 {
		return false, 0, false, pyErr("ValueError", "timeout value must be a non-negative number")
	}
	if t > maxLockTimeout || math.IsNaN(t) {
		return false, 0, false, pyErr("OverflowError", "timeout value is too large")
	}
	if t == -1 {
		return blocking, 0, blocking, nil
	}
	return blocking, secondsToDuration(t), false, nil
}

// Lock is a shared threading.Lock (SyncManager typeid "Lock"): exposed acquire and release.
// It has no owner: any caller may release it. It is safe for concurrent use.
type Lock struct {
	mu     sync.Mutex
	locked bool
	b      broadcast
}

// NewLock returns an unlocked [Lock].
func NewLock() *Lock { return &Lock{} }

// Acquire takes the lock, waiting up to timeout (forever when timeout < 0), and reports whether
// it got it. It returns ctx.Err() if ctx ends first.
func (l *Lock) Acquire(ctx context.Context, timeout time.Duration) (bool, error) {
	return l.acquire(ctx, true, timeout, timeout < 0)
}

// errReleaseUnlocked is what releasing an unlocked Lock raises: _thread.error, which is
// RuntimeError in Python 3 and thread.error (threading.ThreadError, not a RuntimeError) in
// Python 2, so clients of both catch what their own Lock raises.
func errReleaseUnlocked() *PyException {
	return NewPyException("_thread", "error", "release unlocked lock")
}

// Release releases the lock; releasing an unlocked lock is Python's
// RuntimeError('release unlocked lock') (_thread.error).
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.locked {
		return errReleaseUnlocked()
	}
	l.locked = false
	l.b.notifyAll()
	return nil
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

func (l *Lock) acquire(ctx context.Context, blocking bool, d time.Duration, forever bool) (bool, error) {
	var dl *deadline
	for {
		l.mu.Lock()
		if !l.locked {
			l.locked = true
			l.mu.Unlock()
			if dl != nil {
				dl.Stop()
			}
			return true, nil
		}
		if !blocking || (!forever && d <= 0) {
			l.mu.Unlock()
			return false, nil
		}
		ch := l.b.wait()
		l.mu.Unlock()
		if dl == nil {
			dl = newDeadline(d, forever)
		}
		ok, err := waitFor(ctx, ch, dl.C())
		if err != nil || !ok {
			dl.Stop()
			if err != nil {
				return false, err
			}
			// Last chance, as a timed-out acquire in CPython still takes a lock freed meanwhile.
			l.mu.Lock()
			got := !l.locked
			l.locked = true
			l.mu.Unlock()
			return got, nil
		}
	}
}

// CallMethod implements [Object]: acquire(blocking=True, timeout=-1) and release().
func (l *Lock) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "acquire", "__enter__":
		blocking, d, forever, err := lockAcquireArgs(args, kwargs)
		if err != nil {
			return nil, err
		}
		return l.acquire(ctx, blocking, d, forever)
	case "release", "__exit__":
		if name == "release" {
			if err := noArgs("lock.release", args, kwargs); err != nil {
				return nil, err
			}
		}
		return nil, l.Release()
	case "locked":
		return l.Locked(), nil
	}
	return nil, unknownMethod("lock", name)
}

// PyRepr returns the repr of a Python 3.13 lock: <unlocked _thread.lock object>.
func (l *Lock) PyRepr() string {
	if l.Locked() {
		return "<locked _thread.lock object>"
	}
	return "<unlocked _thread.lock object>"
}

// condLock is the lock of a Condition: Lock or RLock.
type condLock interface {
	Object
	isOwned(caller uint64) bool
	releaseSave(caller uint64) (int64, error)
	acquireRestore(ctx context.Context, caller uint64, count int64) error
}

func (l *Lock) isOwned(uint64) bool { return l.Locked() }

func (l *Lock) releaseSave(uint64) (int64, error) { return 1, l.Release() }

func (l *Lock) acquireRestore(ctx context.Context, _ uint64, _ int64) error {
	_, err := l.acquire(ctx, true, 0, true)
	return err
}

// RLock is a shared threading.RLock (typeid "RLock"): a reentrant lock owned by the
// [CallerID] of the connection that acquired it (Go callers without an identity all share
// identity 0). It is safe for concurrent use.
type RLock struct {
	mu    sync.Mutex
	owner uint64
	count int64
	b     broadcast
}

// NewRLock returns an unlocked [RLock].
func NewRLock() *RLock { return &RLock{} }

// Acquire takes the lock for the caller of ctx ([CallerID]), recursively, waiting up to timeout
// (forever when timeout < 0).
func (r *RLock) Acquire(ctx context.Context, timeout time.Duration) (bool, error) {
	return r.acquire(ctx, CallerID(ctx), true, timeout, timeout < 0, 1)
}

// Release releases one level of the caller's ownership; a caller that does not own the lock
// gets Python's RuntimeError('cannot release un-acquired lock').
func (r *RLock) Release(ctx context.Context) error { return r.release(CallerID(ctx)) }

func (r *RLock) release(caller uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 || r.owner != caller {
		return pyErr("RuntimeError", "cannot release un-acquired lock")
	}
	r.count--
	if r.count == 0 {
		r.owner = 0
		r.b.notifyAll()
	}
	return nil
}

func (r *RLock) acquire(ctx context.Context, caller uint64, blocking bool, d time.Duration, forever bool, count int64) (bool, error) {
	var dl *deadline
	for {
		r.mu.Lock()
		if r.count == 0 {
			r.owner, r.count = caller, count
			r.mu.Unlock()
			if dl != nil {
				dl.Stop()
			}
			return true, nil
		}
		if r.owner == caller {
			r.count += count
			r.mu.Unlock()
			return true, nil
		}
		if !blocking || (!forever && d <= 0) {
			r.mu.Unlock()
			return false, nil
		}
		ch := r.b.wait()
		r.mu.Unlock()
		if dl == nil {
			dl = newDeadline(d, forever)
		}
		ok, err := waitFor(ctx, ch, dl.C())
		if err != nil {
			dl.Stop()
			return false, err
		}
		if !ok {
			return r.acquire(ctx, caller, false, 0, false, count)
		}
	}
}

// CallMethod implements [Object]: acquire(blocking=True, timeout=-1) and release().
func (r *RLock) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	caller := CallerID(ctx)
	switch name {
	case "acquire", "__enter__":
		blocking, d, forever, err := lockAcquireArgs(args, kwargs)
		if err != nil {
			return nil, err
		}
		if isPython2(ctx) && r.isOwned(caller) {
			r.acquire(ctx, caller, false, 0, false, 1)
			return int64(1), nil // Python 2's _RLock returns 1 for a nested acquire
		}
		return r.acquire(ctx, caller, blocking, d, forever, 1)
	case "release", "__exit__":
		if name == "release" {
			if err := noArgs("release", args, kwargs); err != nil {
				return nil, err
			}
		}
		return nil, r.release(caller)
	case "_is_owned":
		return r.isOwned(caller), nil
	}
	return nil, unknownMethod("_thread.RLock", name)
}

// PyRepr returns the repr of a Python RLock, e.g. <unlocked _thread.RLock object owner=0 count=0>.
func (r *RLock) PyRepr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	state := "unlocked"
	if r.count > 0 {
		state = "locked"
	}
	return fmt.Sprintf("<%s _thread.RLock object owner=%d count=%d>", state, r.owner, r.count)
}

func (r *RLock) isOwned(caller uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count > 0 && r.owner == caller
}

func (r *RLock) releaseSave(caller uint64) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 || r.owner != caller {
		return 0, pyErr("RuntimeError", "cannot release un-acquired lock")
	}
	n := r.count
	r.count, r.owner = 0, 0
	r.b.notifyAll()
	return n, nil
}

func (r *RLock) acquireRestore(ctx context.Context, caller uint64, count int64) error {
	_, err := r.acquire(ctx, caller, true, 0, true, count)
	return err
}

// Semaphore is a shared threading.Semaphore (typeid "Semaphore"), and with a bound a
// threading.BoundedSemaphore (typeid "BoundedSemaphore"). It is safe for concurrent use.
type Semaphore struct {
	mu      sync.Mutex
	value   int64
	initial int64
	bounded bool
	b       broadcast
}

// NewSemaphore returns a semaphore with the given initial value.
func NewSemaphore(value int64) *Semaphore { return &Semaphore{value: value, initial: value} }

// NewBoundedSemaphore returns a bounded semaphore: releasing it above its initial value is
// Python's ValueError('Semaphore released too many times').
func NewBoundedSemaphore(value int64) *Semaphore {
	return &Semaphore{value: value, initial: value, bounded: true}
}

func newSemaphoreFromArgs(bounded bool) func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	return func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		name := "Semaphore.__init__"
		if bounded {
			name = "BoundedSemaphore.__init__"
		}
		v, err := bindArgs(name, args, kwargs, opt("value", int64(1)))
		if err != nil {
			return nil, err
		}
		n, big, ok := asInt(v[0])
		if !ok {
			return nil, typeErrorf("'<' not supported between instances of '%s' and 'int'", pickle.TypeName(v[0]))
		}
		if n < 0 {
			return nil, pyErr("ValueError", "semaphore initial value must be >= 0")
		}
		if big {
			return nil, pyErr("OverflowError", "semaphore initial value too large for mpgo (int64)")
		}
		s := NewSemaphore(n)
		s.bounded = bounded
		return s, nil
	}
}

// Acquire decrements the semaphore, waiting up to timeout (forever when timeout < 0).
func (s *Semaphore) Acquire(ctx context.Context, timeout time.Duration) (bool, error) {
	return s.acquire(ctx, true, timeout, timeout < 0)
}

func (s *Semaphore) acquire(ctx context.Context, blocking bool, d time.Duration, forever bool) (bool, error) {
	var dl *deadline
	defer func() {
		if dl != nil {
			dl.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if s.value > 0 {
			s.value--
			s.mu.Unlock()
			return true, nil
		}
		if !blocking || (!forever && d <= 0) {
			s.mu.Unlock()
			return false, nil
		}
		ch := s.b.wait()
		s.mu.Unlock()
		if dl == nil {
			dl = newDeadline(d, forever)
		}
		ok, err := waitFor(ctx, ch, dl.C())
		if err != nil {
			return false, err
		}
		if !ok {
			return s.acquire(ctx, false, 0, false)
		}
	}
}

// Release increments the semaphore by n (n >= 1).
func (s *Semaphore) Release(n int64) error {
	if n < 1 {
		return pyErr("ValueError", "n must be one or more")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bounded && s.value+n > s.initial {
		return pyErr("ValueError", "Semaphore released too many times")
	}
	if s.value > math.MaxInt64-n {
		return pyErr("OverflowError", "semaphore value too large for mpgo (int64)")
	}
	s.value += n
	s.b.notifyAll()
	return nil
}

// Value returns the current counter (Python's private _value).
func (s *Semaphore) Value() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// CallMethod implements [Object]: acquire(blocking=True, timeout=None) and release(n=1), with
// the texts of Python's threading.Semaphore.
func (s *Semaphore) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "acquire", "__enter__":
		v, err := bindArgs("acquire", args, kwargs, opt("blocking", true), opt("timeout", nil))
		if err != nil {
			return nil, err
		}
		blocking := truthy(v[0])
		if !blocking && v[1] != nil {
			return nil, pyErr("ValueError", "can't specify timeout for non-blocking acquire")
		}
		var d time.Duration
		forever := true
		if v[1] != nil {
			f, ok := asFloat(v[1])
			if !ok {
				return nil, typeErrorf("unsupported operand type(s) for +: 'float' and '%s'", pickle.TypeName(v[1]))
			}
			d, forever = secondsToDuration(f), false
		}
		return s.acquire(ctx, blocking, d, forever)
	case "release", "__exit__":
		n := int64(1)
		if name == "release" {
			v, err := bindArgs("release", args, kwargs, opt("n", int64(1)))
			if err != nil {
				return nil, err
			}
			var big, ok bool
			n, big, ok = asInt(v[0])
			if !ok {
				return nil, typeErrorf("'<' not supported between instances of '%s' and 'int'", pickle.TypeName(v[0]))
			}
			if big && n > 0 {
				return nil, pyErr("OverflowError", "semaphore value too large for mpgo (int64)")
			}
		}
		return nil, s.Release(n)
	case "get_value", "_value":
		return s.Value(), nil
	}
	return nil, unknownMethod(s.className(), name)
}

func (s *Semaphore) className() string {
	if s.bounded {
		return "BoundedSemaphore"
	}
	return "Semaphore"
}

// PyRepr returns the repr of a Python 3.13 semaphore, e.g.
// <threading.Semaphore at 0x0: value=1>.
func (s *Semaphore) PyRepr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bounded {
		return fmt.Sprintf("<threading.BoundedSemaphore at %p: value=%d/%d>", s, s.value, s.initial)
	}
	return fmt.Sprintf("<threading.Semaphore at %p: value=%d>", s, s.value)
}
