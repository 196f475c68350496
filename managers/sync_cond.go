package managers

import (
	"context"
	"fmt"
	"sync"

	"github.com/mpgo/mpgo/pickle"
)

// Condition is a shared threading.Condition (typeid "Condition"): acquire, release, wait,
// notify and notify_all. Its lock is its own [RLock], or the [Lock] or [RLock] whose proxy was
// passed to the constructor (manager.Condition(manager.Lock())). Waiting and notifying require
// the calling connection to own the lock ([CallerID]), as they require the calling thread to in
// Python. wait_for is implemented by the Python proxy with repeated waits. A connection that
// closes while waiting stops waiting and does not take the lock back (wait had released it). It
// is safe for concurrent use.
type Condition struct {
	lock condLock
	ref  *Ref // keeps a passed-in lock alive

	mu      sync.Mutex
	waiters []chan struct{}
}

// NewCondition returns a condition on lock (nil: a new [RLock]); lock must be a *Lock or *RLock.
func NewCondition(lock Object) (*Condition, error) {
	if lock == nil {
		return &Condition{lock: NewRLock()}, nil
	}
	l, ok := lock.(condLock)
	if !ok {
		return nil, fmt.Errorf("managers: Condition needs a *Lock or *RLock, not %T", lock)
	}
	return &Condition{lock: l}, nil
}

func newConditionFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	v, err := bindArgs("Condition.__init__", args, kwargs, opt("lock", nil))
	if err != nil {
		return nil, err
	}
	switch l := v[0].(type) {
	case nil:
		return NewCondition(nil)
	case *Ref:
		c, err := NewCondition(l.Object())
		if err != nil {
			return nil, typeErrorf("Condition() needs a Lock or RLock of this manager as its lock: %v", err)
		}
		c.ref = l
		return c, nil
	}
	return nil, typeErrorf("Condition() needs a Lock or RLock proxy of this manager (or nothing) as its lock, not '%s'", pickle.TypeName(v[0]))
}

// CallMethod implements [Object].
func (c *Condition) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	caller := CallerID(ctx)
	switch name {
	case "acquire", "release", "__enter__", "__exit__":
		return c.lock.CallMethod(ctx, name, args, kwargs)
	case "wait":
		v, err := bindArgs("wait", args, kwargs, opt("timeout", nil))
		if err != nil {
			return nil, err
		}
		got, err := c.wait(ctx, caller, v[0])
		if err != nil || isPython2(ctx) {
			return nil, err // Python 2's Condition.wait returns None
		}
		return got, nil
	case "notify":
		v, err := bindArgs("notify", args, kwargs, opt("n", int64(1)))
		if err != nil {
			return nil, err
		}
		n, big, ok := asInt(v[0])
		if !ok {
			return nil, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(v[0]))
		}
		if big && n > 0 {
			n = int64(^uint(0) >> 1)
		}
		return nil, c.notify(caller, n)
	case "notify_all", "notifyAll":
		if err := noArgs(name, args, kwargs); err != nil {
			return nil, err
		}
		return nil, c.notify(caller, -1)
	}
	return nil, unknownMethod("Condition", name)
}

// Wait releases the lock (which the caller of ctx must own), waits for a notify or the
// timeout (nil: none; a number of seconds) and reacquires the lock. It reports whether it was
// notified.
func (c *Condition) Wait(ctx context.Context, timeout any) (bool, error) {
	return c.wait(ctx, CallerID(ctx), timeout)
}

func (c *Condition) wait(ctx context.Context, caller uint64, timeout any) (bool, error) {
	d, forever, err := timeoutArg(timeout, ">")
	if err != nil {
		return false, err
	}
	if !c.lock.isOwned(caller) {
		return false, pyErr("RuntimeError", "cannot wait on un-acquired lock")
	}
	w := make(chan struct{}, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	saved, err := c.lock.releaseSave(caller)
	if err != nil {
		c.remove(w)
		return false, err
	}
	got := false
	var werr error
	if forever || d > 0 {
		dl := newDeadline(d, forever)
		select {
		case <-w:
			got = true
		case <-dl.C():
		case <-ctx.Done():
			werr = ctx.Err()
		}
		dl.Stop()
	} else {
		select {
		case <-w:
			got = true
		default:
		}
	}
	if !got {
		if !c.remove(w) {
			// notify took us off the list meanwhile: the notification counts, as in Python
			// where the waiter lock was released before the remove failed.
			got = werr == nil
		}
	}
	if werr != nil {
		return false, werr
	}
	if err := c.lock.acquireRestore(ctx, caller, saved); err != nil {
		return false, err
	}
	return got, nil
}

// remove takes w off the waiter list; false when a notify already did.
func (c *Condition) remove(w chan struct{}) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Notify wakes up to n waiters (all when n < 0); the caller of ctx must own the lock.
func (c *Condition) Notify(ctx context.Context, n int64) error { return c.notify(CallerID(ctx), n) }

func (c *Condition) notify(caller uint64, n int64) error {
	if !c.lock.isOwned(caller) {
		return pyErr("RuntimeError", "cannot notify on un-acquired lock")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := int64(len(c.waiters))
	if n >= 0 && n < k {
		k = n
	}
	for _, w := range c.waiters[:k] {
		w <- struct{}{}
	}
	c.waiters = append(c.waiters[:0:0], c.waiters[k:]...)
	return nil
}

// PyRepr returns the repr of a Python Condition, e.g. <Condition(<unlocked ...>, 0)>.
func (c *Condition) PyRepr() string {
	c.mu.Lock()
	n := len(c.waiters)
	c.mu.Unlock()
	lr := "<lock>"
	if r, ok := c.lock.(Reprer); ok {
		lr = r.PyRepr()
	}
	return fmt.Sprintf("<Condition(%s, %d)>", lr, n)
}
