package managers

import (
	"context"
	"sync"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// Event is a shared threading.Event (typeid "Event"): is_set, set, clear and wait(timeout=None).
// It is safe for concurrent use.
type Event struct {
	mu   sync.Mutex
	flag bool
	b    broadcast
}

// NewEvent returns a cleared [Event].
func NewEvent() *Event { return &Event{} }

// Set sets the flag and wakes every waiter.
func (e *Event) Set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flag = true
	e.b.notifyAll()
}

// Clear resets the flag.
func (e *Event) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flag = false
}

// IsSet reports the flag.
func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.flag
}

// Wait waits until the flag is set, for at most timeout (forever when timeout < 0), and returns
// the flag.
func (e *Event) Wait(ctx context.Context, timeout time.Duration) (bool, error) {
	return e.wait(ctx, timeout, timeout < 0)
}

func (e *Event) wait(ctx context.Context, d time.Duration, forever bool) (bool, error) {
	e.mu.Lock()
	if e.flag || (!forever && d <= 0) {
		f := e.flag
		e.mu.Unlock()
		return f, nil
	}
	ch := e.b.wait()
	e.mu.Unlock()
	dl := newDeadline(d, forever)
	defer dl.Stop()
	if _, err := waitFor(ctx, ch, dl.C()); err != nil {
		return false, err
	}
	return e.IsSet(), nil
}

// CallMethod implements [Object].
func (e *Event) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch name {
	case "is_set", "isSet", "set", "clear":
		if err := noArgs(name, args, kwargs); err != nil {
			return nil, err
		}
		switch name {
		case "set":
			e.Set()
			return nil, nil
		case "clear":
			e.Clear()
			return nil, nil
		}
		return e.IsSet(), nil
	case "wait":
		v, err := bindArgs("wait", args, kwargs, opt("timeout", nil))
		if err != nil {
			return nil, err
		}
		d, forever, err := timeoutArg(v[0], ">")
		if err != nil {
			return nil, err
		}
		return e.wait(ctx, d, forever)
	}
	return nil, unknownMethod("Event", name)
}

// PyRepr returns the repr of a Python 3.13 Event: <threading.Event at 0x...: unset>.
func (e *Event) PyRepr() string {
	if e.IsSet() {
		return "<threading.Event: set>"
	}
	return "<threading.Event: unset>"
}
