package managers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// ErrBarrierAction is the error (a '#TRACEBACK' for the Python client) of creating a Barrier
// with an action: the action is a Python callable, which a Go server cannot run.
var ErrBarrierAction = errors.New("managers: Barrier(parties, action=...) needs Python code executed on the server: " +
	"mpgo is a Go server and cannot call the Python action; create the Barrier without action= " +
	"and run the action in the client whose wait() returned 0")

// Barrier is a shared threading.Barrier (typeid "Barrier"): wait(timeout=None), abort, reset,
// and the attributes parties, n_waiting and broken through __getattribute__. A broken barrier
// raises threading.BrokenBarrierError. A party whose connection closes while it waits breaks the
// barrier (its server thread would otherwise be missing forever), so the other parties get
// BrokenBarrierError instead of waiting for it. It is safe for concurrent use.
type Barrier struct {
	mu      sync.Mutex
	b       broadcast
	parties int64
	timeout time.Duration
	forever bool  // no default timeout
	state   int   // 0 filling, 1 draining, -1 resetting, -2 broken
	count   int64 // parties inside wait
}

// NewBarrier returns a barrier for parties parties (>= 1) with no default timeout.
func NewBarrier(parties int64) *Barrier { return &Barrier{parties: parties, forever: true} }

func newBarrierFromArgs(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	v, err := bindArgs("Barrier.__init__", args, kwargs, req("parties"), opt("action", nil), opt("timeout", nil))
	if err != nil {
		return nil, err
	}
	if v[1] != nil {
		return nil, ErrBarrierAction
	}
	n, big, ok := asInt(v[0])
	if !ok {
		return nil, typeErrorf("'<' not supported between instances of '%s' and 'int'", pickle.TypeName(v[0]))
	}
	if n < 1 {
		return nil, pyErr("ValueError", "parties must be > 0")
	}
	if big {
		return nil, pyErr("OverflowError", "parties too large for mpgo (int64)")
	}
	b := NewBarrier(n)
	if v[2] != nil {
		d, _, err := timeoutArg(v[2], "<")
		if err != nil {
			return nil, err
		}
		b.timeout, b.forever = d, false
	}
	return b, nil
}

func brokenBarrier() *PyException { return NewPyException("threading", "BrokenBarrierError") }

// condWait waits on the barrier's broadcast with b.mu held (released while waiting).
func (b *Barrier) condWait(ctx context.Context, dl *deadline) (bool, error) {
	ch := b.b.wait()
	b.mu.Unlock()
	ok, err := waitFor(ctx, ch, dl.C())
	b.mu.Lock()
	return ok, err
}

// Wait passes the barrier: it returns the caller's arrival index (parties-1 for the first to
// arrive, 0 for the last) once all parties wait, or threading.BrokenBarrierError.
func (b *Barrier) Wait(ctx context.Context, timeout any) (int64, error) {
	var d time.Duration
	var forever bool
	if timeout == nil {
		d, forever = b.timeout, b.forever
	} else {
		var err error
		if d, forever, err = timeoutArg(timeout, ">"); err != nil {
			return 0, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// _enter: block while the barrier drains or resets.
	for b.state == -1 || b.state == 1 {
		if _, err := b.condWait(ctx, &deadline{}); err != nil {
			return 0, err
		}
	}
	if b.state < 0 {
		return 0, brokenBarrier()
	}
	index := b.count
	b.count++
	defer func() {
		b.count--
		// _exit
		if b.count == 0 && (b.state == -1 || b.state == 1) {
			b.state = 0
			b.b.notifyAll()
		}
	}()
	if index+1 == b.parties {
		b.state = 1
		b.b.notifyAll()
		return index, nil
	}
	// _wait: wait_for(lambda: state != 0, timeout)
	var dl *deadline
	for b.state == 0 {
		if !forever && d <= 0 {
			break
		}
		if dl == nil {
			dl = newDeadline(d, forever)
			defer dl.Stop()
		}
		ok, err := b.condWait(ctx, dl)
		if err != nil {
			b.breakLocked()
			return 0, err
		}
		if !ok {
			break
		}
	}
	if b.state == 0 {
		b.breakLocked()
		return 0, brokenBarrier()
	}
	if b.state < 0 {
		return 0, brokenBarrier()
	}
	return index, nil
}

func (b *Barrier) breakLocked() {
	b.state = -2
	b.b.notifyAll()
}

// Abort breaks the barrier: current and future waiters get BrokenBarrierError until Reset.
func (b *Barrier) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.breakLocked()
}

// Reset returns the barrier to its initial state; parties waiting get BrokenBarrierError.
func (b *Barrier) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count > 0 {
		if b.state == 0 || b.state == -2 {
			b.state = -1
		}
	} else {
		b.state = 0
	}
	b.b.notifyAll()
}

// Parties returns the number of parties.
func (b *Barrier) Parties() int64 { return b.parties }

// NWaiting returns the number of parties waiting.
func (b *Barrier) NWaiting() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == 0 {
		return b.count
	}
	return 0
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == -2
}

// CallMethod implements [Object].
func (b *Barrier) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "wait":
		v, err := bindArgs("wait", args, kwargs, opt("timeout", nil))
		if err != nil {
			return nil, err
		}
		return b.Wait(ctx, v[0])
	case "abort", "reset":
		if err := noArgs(name, args, kwargs); err != nil {
			return nil, err
		}
		if name == "abort" {
			b.Abort()
		} else {
			b.Reset()
		}
		return nil, nil
	case "__getattribute__":
		if err := posArgs("__getattribute__", args, kwargs, 1, 1); err != nil {
			return nil, err
		}
		attr, ok := asStr(args[0])
		if !ok {
			return nil, typeErrorf("attribute name must be string, not '%s'", pickle.TypeName(args[0]))
		}
		switch attr {
		case "parties":
			return b.Parties(), nil
		case "n_waiting":
			return b.NWaiting(), nil
		case "broken":
			return b.Broken(), nil
		}
		return nil, pyErr("AttributeError", fmt.Sprintf("'Barrier' object has no attribute '%s'", attr))
	}
	return nil, unknownMethod("Barrier", name)
}

// PyRepr returns the repr of a Python 3.13 Barrier, e.g.
// <threading.Barrier at 0x...: waiters=0/5>.
func (b *Barrier) PyRepr() string {
	if b.Broken() {
		return fmt.Sprintf("<threading.Barrier at %p: broken>", b)
	}
	return fmt.Sprintf("<threading.Barrier at %p: waiters=%d/%d>", b, b.NWaiting(), b.parties)
}
