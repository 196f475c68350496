package managers

import (
	"context"
	"fmt"
	"time"
)

// queueOps is what [TypedQueue] needs of a queue: a [*Queue] hosted by this process or a
// [QueueProxy] to a queue of a manager server.
type queueOps interface {
	Get(ctx context.Context) (any, error)
	GetTimeout(ctx context.Context, d time.Duration) (any, error)
	getNowait(ctx context.Context) (any, error)
	Put(ctx context.Context, item any) error
	PutTimeout(ctx context.Context, item any, d time.Duration) error
	putNowait(ctx context.Context, item any) error
}

type localQueue struct{ *Queue }

func (q localQueue) getNowait(context.Context) (any, error)   { return q.GetNowait() }
func (q localQueue) putNowait(_ context.Context, v any) error { return q.PutNowait(v) }

type remoteQueue struct{ QueueProxy }

func (q remoteQueue) getNowait(ctx context.Context) (any, error) { return q.GetNowait(ctx) }
func (q remoteQueue) putNowait(ctx context.Context, v any) error { return q.PutNowait(ctx, v) }

// TypedQueue is a view of a queue whose items are Ts: Get decodes each item into a T with
// [Decode]'s rules (struct fields by `pickle:"name"` tags, Go kinds, a Python 2 str as a Go
// string), so that a Go service reading what Python clients put needs no type switches. Put
// puts a T, which reaches Python clients as Marshal encodes it (a struct as a dict). Make one
// with [NewTypedQueue] or [NewTypedQueueProxy]; it is safe for concurrent use when its queue is.
type TypedQueue[T any] struct{ q queueOps }

// NewTypedQueue returns a typed view of q, a queue hosted by this process.
func NewTypedQueue[T any](q *Queue) TypedQueue[T] { return TypedQueue[T]{localQueue{q}} }

// NewTypedQueueProxy returns a typed view of q, a queue of a manager server.
func NewTypedQueueProxy[T any](q QueueProxy) TypedQueue[T] { return TypedQueue[T]{remoteQueue{q}} }

// ItemError is the error of a TypedQueue Get whose item, already taken from the queue, does
// not decode into a T: Item is the item, so that it is not lost.
type ItemError struct {
	Item any
	Err  error
}

func (e *ItemError) Error() string { return fmt.Sprintf("managers: queue item %v: %v", e.Item, e.Err) }

// Unwrap returns the decoding error.
func (e *ItemError) Unwrap() error { return e.Err }

func decodeItem[T any](v any, err error) (T, error) {
	var out T
	if err != nil {
		return out, err
	}
	if err := Decode(v, &out); err != nil {
		return out, &ItemError{Item: v, Err: err}
	}
	return out, nil
}

// Get removes an item, blocking until one is available (see [Queue.Get] and [QueueProxy.Get]),
// and decodes it; an item that does not decode is an [*ItemError].
func (t TypedQueue[T]) Get(ctx context.Context) (T, error) { return decodeItem[T](t.q.Get(ctx)) }

// GetTimeout is Get waiting at most d; then the error satisfies [IsQueueEmpty].
func (t TypedQueue[T]) GetTimeout(ctx context.Context, d time.Duration) (T, error) {
	return decodeItem[T](t.q.GetTimeout(ctx, d))
}

// GetNowait is Get failing at once when the queue is empty ([IsQueueEmpty]).
func (t TypedQueue[T]) GetNowait(ctx context.Context) (T, error) {
	return decodeItem[T](t.q.getNowait(ctx))
}

// Put puts item, blocking while the queue is full.
func (t TypedQueue[T]) Put(ctx context.Context, item T) error { return t.q.Put(ctx, item) }

// PutTimeout puts item, waiting at most d for a free slot; then the error satisfies
// [IsQueueFull].
func (t TypedQueue[T]) PutTimeout(ctx context.Context, item T, d time.Duration) error {
	return t.q.PutTimeout(ctx, item, d)
}

// PutNowait puts item or fails at once when the queue is full ([IsQueueFull]).
func (t TypedQueue[T]) PutNowait(ctx context.Context, item T) error {
	return t.q.putNowait(ctx, item)
}

// DecodeAs decodes a value of the pickle value model (an item of a shared list, a dict value,
// a call's result) into a T with [Decode]'s rules.
func DecodeAs[T any](v any) (T, error) {
	var out T
	err := Decode(v, &out)
	return out, err
}
