package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/nats-io/nats.go/jetstream"
)

// task_done and join across servers. Items ever put is the stream's last sequence number (a
// rejected publish takes none, acknowledgements and redeliveries do not change it); the
// task_done count lives in the key-value bucket tasksBucket under the queue's key, as
// "<stream creation time, unix ns> <count>" so that a recreated stream starts from 0. It is
// changed by compare-and-set on its revision, so concurrent task_done calls on several servers
// all count. unfinished = last sequence - count.

// joinPoll bounds the pause between two checks of a join that saw no update of the count (the
// stream may have been recreated).
const joinPoll = time.Second

// doneCount returns the task_done count of the stream incarnation h and the key's revision
// (0: no key).
func (q *Queue) doneCount(ctx context.Context, h *handles) (uint64, uint64, error) {
	ctx, cancel := opCtx(ctx)
	defer cancel()
	e, err := h.kv.Get(ctx, q.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, q.fault("task_done", err)
	}
	return parseDone(e.Value(), h.created), e.Revision(), nil
}

// parseDone reads a stored count; a count of another stream incarnation (or an unreadable one)
// is 0.
func parseDone(v []byte, created time.Time) uint64 {
	ts, n, ok := strings.Cut(string(v), " ")
	if !ok || ts != strconv.FormatInt(created.UnixNano(), 10) {
		return 0
	}
	done, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0
	}
	return done
}

// setDone stores count done if the key is still at revision rev (0: absent).
func (q *Queue) setDone(ctx context.Context, h *handles, done, rev uint64) error {
	ctx, cancel := opCtx(ctx)
	defer cancel()
	v := []byte(fmt.Sprintf("%d %d", h.created.UnixNano(), done))
	var err error
	if rev == 0 {
		_, err = h.kv.Create(ctx, q.key, v)
	} else {
		_, err = h.kv.Update(ctx, q.key, v, rev)
	}
	return err
}

// TaskDone marks one item as processed (see Join), across every server sharing the queue. It
// returns Python's ValueError('task_done() called too many times') when called more times
// than items were put (through any server).
func (q *Queue) TaskDone() error { return q.taskDone(context.Background()) }

func (q *Queue) taskDone(ctx context.Context) error {
	for {
		st, h, err := q.counts(ctx)
		if err != nil {
			return err
		}
		done, rev, err := q.doneCount(ctx, h)
		if err != nil {
			return err
		}
		if done >= st.LastSeq {
			return managers.NewPyException("builtins", "ValueError", "task_done() called too many times")
		}
		err = q.setDone(ctx, h, done+1, rev)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			return q.fault("task_done", err)
		}
		// Another task_done won the race: count again.
	}
}

// Unfinished returns the number of items put through any server and not yet marked done.
func (q *Queue) Unfinished(ctx context.Context) (uint64, error) {
	st, h, err := q.counts(ctx)
	if err != nil {
		return 0, err
	}
	done, _, err := q.doneCount(ctx, h)
	if err != nil {
		return 0, err
	}
	if done >= st.LastSeq {
		return 0, nil
	}
	return st.LastSeq - done, nil
}

// Join waits until every item put through any server has been marked done, or ctx ends.
func (q *Queue) Join(ctx context.Context) error {
	h, err := q.setup(ctx)
	if err != nil {
		return err
	}
	w, err := h.kv.Watch(ctx, q.key, jetstream.UpdatesOnly())
	if err != nil {
		return q.fault("join", err)
	}
	defer w.Stop()
	updates := w.Updates()
	for {
		n, err := q.Unfinished(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		t := time.NewTimer(joinPoll)
		select {
		case _, ok := <-updates:
			if !ok {
				updates = nil // the watcher ended: poll
			}
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}
