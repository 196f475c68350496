package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// callTimeout bounds every call of the Go clients: a healthy server answers
// in microseconds, so reaching it is an error.
const callTimeout = 30 * time.Second

// itemString is a queue item as a Go string (a Python 2 client's str may
// arrive as bytes).
func itemString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case pickle.Py2String:
		return string(x)
	default:
		return fmt.Sprintf("%#v", v)
	}
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("not an int: %#v", v)
	}
}

// dial connects a new Go client; idle is its ClientConfig.MaxIdleConns.
func (h *harness) dial(ctx context.Context, idle int) (*managers.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return managers.Dial(dctx, "tcp", h.srv.addr, &managers.ClientConfig{AuthKey: h.key, MaxIdleConns: idle})
}

// goWorker is a stable Go client with a connection of its own: puts and
// gets on soakq (its own proxy) and the shared Queue, dict sets and critical
// sections under the shared Lock (its own owner), until stop is closed. Calls
// are never cancelled by stop, so that every put is either acknowledged or
// an error.
func (h *harness) goWorker(stop <-chan struct{}, id string, pace time.Duration) error {
	c, err := h.dial(context.Background(), 0)
	if err != nil {
		return fmt.Errorf("%s: dial: %w", id, err)
	}
	defer c.Close()
	ctx0, cancel0 := context.WithTimeout(context.Background(), callTimeout)
	p, err := c.Create(ctx0, "soakq", nil, nil)
	cancel0()
	if err != nil {
		return fmt.Errorf("%s: create soakq: %w", id, err)
	}
	defer p.Close()
	h.ops.add("go_connect", 1)
	queues := []managers.QueueProxy{{Proxy: p}, h.queue}
	lock := managers.NewLockProxy(h.lock)
	rnd := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	seq := 0
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		q := queues[rnd.IntN(2)]
		r := rnd.Float64()
		switch {
		case r < 0.25:
			seq++
			item := fmt.Sprintf("%s:%d", id, seq)
			h.ledger.tried(item)
			if err = q.Put(ctx, item); err == nil {
				h.ledger.acked(item)
				h.ops.add("go_put", 1)
			}
		case r < 0.75:
			var v any
			v, err = q.GetTimeout(ctx, 50*time.Millisecond)
			switch {
			case err == nil:
				h.ledger.got(itemString(v))
				h.ops.add("go_get", 1)
			case managers.IsQueueEmpty(err):
				err = nil
				h.ops.add("go_get_empty", 1)
			}
		case r < 0.9:
			if err = h.dict.Set(ctx, fmt.Sprintf("key%d", rnd.IntN(32)), int64(seq)); err == nil {
				h.ops.add("go_dict_set", 1)
			}
		default:
			err = h.critical(ctx, lock)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if pace > 0 {
			time.Sleep(pace)
		}
	}
}

// critical increments the dict's counter under the shared Lock; the final
// counter must equal the critical sections of every stable client.
func (h *harness) critical(ctx context.Context, lock *managers.LockProxy) error {
	ok, err := lock.Acquire(ctx, true, -1)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	if !ok {
		return fmt.Errorf("blocking acquire returned False")
	}
	v, err := h.dict.GetDefault(ctx, "counter", int64(0))
	var n int64
	if err == nil {
		n, err = toInt(v)
	}
	if err == nil {
		err = h.dict.Set(ctx, "counter", n+1)
	}
	if rerr := lock.Release(ctx); err == nil && rerr != nil {
		err = fmt.Errorf("release: %w", rerr)
	}
	if err == nil {
		h.crit.Add(1)
		h.ops.add("go_lock_critical_section", 1)
	}
	return err
}

// feeder keeps a few items in soakvq, the queue only victims get from, so
// that victims are often killed with a get in flight.
func (h *harness) feeder(stop <-chan struct{}) error {
	c, err := h.dial(context.Background(), 0)
	if err != nil {
		return fmt.Errorf("feeder: dial: %w", err)
	}
	defer c.Close()
	ctx0, cancel0 := context.WithTimeout(context.Background(), callTimeout)
	p, err := c.Create(ctx0, "soakvq", nil, nil)
	cancel0()
	if err != nil {
		return fmt.Errorf("feeder: create soakvq: %w", err)
	}
	defer p.Close()
	q := managers.QueueProxy{Proxy: p}
	for {
		select {
		case <-stop:
			return nil
		case <-time.After(10 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		n, err := q.Qsize(ctx)
		for ; err == nil && n < 8; n++ {
			item := fmt.Sprintf("%s:%d", feederID, h.feedSeq.Add(1))
			h.ledger.tried(item)
			if err = q.Put(ctx, item); err == nil {
				h.ledger.acked(item)
				h.ops.add("go_feed_put", 1)
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("feeder: %w", err)
		}
	}
}

// drain empties every queue into the ledger (the items still queued).
func (h *harness) drain(ctx context.Context) (int64, error) {
	var n int64
	for _, q := range []managers.QueueProxy{h.soakq, h.soakvq, h.queue} {
		for {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			v, err := q.GetNowait(cctx)
			cancel()
			if managers.IsQueueEmpty(err) {
				break
			}
			if err != nil {
				return n, fmt.Errorf("drain: %w", err)
			}
			h.ledger.got(itemString(v))
			n++
		}
	}
	return n, nil
}

// freeSlotLock makes victim slot i's Lock free again: a victim killed while
// holding it leaves it held (as a CPython server does).
func (h *harness) freeSlotLock(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	l := managers.NewLockProxy(h.slotLocks[i])
	ok, err := l.Acquire(ctx, false, -1)
	if err != nil {
		return err
	}
	if !ok {
		h.faults.add("victim_died_holding_lock", 1)
	}
	err = l.Release(ctx)
	if !ok && err != nil && managers.PythonException(err) != nil && strings.Contains(err.Error(), "release unlocked lock") {
		// The victim's last request, a release already in the server's socket buffer when it
		// was killed, was served after our acquire failed: the lock is free.
		h.faults.add("victim_release_served_after_kill", 1)
		return nil
	}
	return err
}
