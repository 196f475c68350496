package connection

import (
	"sync"
	"time"
)

// Wait waits until at least one of conns has something to read (a frame or
// the end of the stream) and returns those that do, in the order given, like
// Python's multiprocessing.connection.wait. timeout 0 checks without
// waiting, a negative timeout waits forever, and a timeout that passes
// returns an empty list and no error. A connection closed by this side
// makes Wait return [ErrClosed].
//
// While Wait runs it uses the read side of every connection in conns; the
// connections' own read deadlines are restored before it returns.
func Wait(conns []*Conn, timeout time.Duration) ([]*Conn, error) {
	var ready []*Conn
	for _, c := range conns {
		ok, err := c.Poll(0)
		if err != nil && c.closed.Load() {
			return nil, err
		}
		if ok || err != nil {
			ready = append(ready, c)
		}
	}
	if len(ready) > 0 || timeout == 0 || len(conns) == 0 {
		return ready, nil
	}

	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	w := &waiter{wake: make(chan struct{})}
	results := make([]bool, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.wait(c, deadline)
			if results[i] || errs[i] != nil {
				w.fire()
			}
		}()
	}
	wg.Wait()
	for i, c := range conns {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if results[i] {
			ready = append(ready, c)
		}
	}
	return ready, nil
}

// waiter coordinates the goroutines of one Wait call: the first that finds
// its connection readable interrupts the others' reads, under mu so that an
// interruption never lands after a goroutine has restored its deadline.
type waiter struct {
	mu     sync.Mutex
	fired  bool
	wake   chan struct{}
	active map[*Conn]bool
}

func (w *waiter) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return
	}
	w.fired = true
	close(w.wake)
	for c := range w.active {
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	}
}

func (w *waiter) wait(c *Conn, deadline time.Time) (bool, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.readPrecheck(); err != nil {
		if c.closed.Load() {
			return false, err
		}
		return true, nil
	}
	if len(c.left) > 0 || c.br.Buffered() > 0 {
		return true, nil
	}
	w.mu.Lock()
	if w.fired {
		w.mu.Unlock()
		return false, nil
	}
	if w.active == nil {
		w.active = make(map[*Conn]bool)
	}
	w.active[c] = true
	_ = c.nc.SetReadDeadline(deadline)
	w.mu.Unlock()

	ready := c.peek()

	w.mu.Lock()
	delete(w.active, c)
	w.mu.Unlock()
	c.restoreDeadlines(true, false)
	if c.closed.Load() {
		return false, ErrClosed
	}
	return ready, nil
}
