package managers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

func callObj(t *testing.T, o managers.Object, name string, args ...any) (any, error) {
	t.Helper()
	return o.CallMethod(t.Context(), name, pickle.Tuple(args), pickle.NewDict())
}

func TestQueueGoAPI(t *testing.T) {
	ctx := t.Context()
	q := managers.NewQueue(2)
	if err := q.Put(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := q.PutNowait(2); err != nil {
		t.Fatal(err)
	}
	if !q.Full() || q.Qsize() != 2 {
		t.Fatalf("full=%v qsize=%d", q.Full(), q.Qsize())
	}
	if err := q.PutNowait(3); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("PutNowait on a full queue: %v", err)
	}
	if err := q.PutTimeout(ctx, 3, 10*time.Millisecond); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("PutTimeout: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := q.Put(cctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put with an ended ctx: %v", err)
	}
	for want := 1; want <= 2; want++ {
		v, err := q.Get(ctx)
		if err != nil || v != want {
			t.Fatalf("Get = %v, %v; want %d", v, err, want)
		}
	}
	if _, err := q.GetNowait(); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("GetNowait: %v", err)
	}
	if _, err := q.GetTimeout(ctx, time.Millisecond); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("GetTimeout: %v", err)
	}
	// Join waits for TaskDone.
	joined := make(chan error)
	go func() { joined <- q.Join(ctx) }()
	q.TaskDone()
	q.TaskDone()
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	var pe *managers.PyException
	if err := q.TaskDone(); !errors.As(err, &pe) || pe.Name != "ValueError" || pe.Error() != "ValueError: task_done() called too many times" {
		t.Fatalf("TaskDone too many times: %v", err)
	}
	// A blocked Get is woken by Put.
	got := make(chan any)
	go func() { v, _ := q.Get(ctx); got <- v }()
	q.Put(ctx, "x")
	if v := <-got; v != "x" {
		t.Fatalf("got %v", v)
	}
}

func TestQueueShutdown(t *testing.T) {
	ctx := t.Context()
	q := managers.NewQueue(0)
	q.Put(ctx, 1)
	q.Shutdown(false)
	if err := q.Put(ctx, 2); !errors.Is(err, managers.ErrQueueShutDown) {
		t.Fatalf("Put after shutdown: %v", err)
	}
	if v, err := q.Get(ctx); err != nil || v != 1 {
		t.Fatalf("Get drains after shutdown: %v %v", v, err)
	}
	if _, err := q.Get(ctx); !errors.Is(err, managers.ErrQueueShutDown) {
		t.Fatalf("Get on empty shut down queue: %v", err)
	}
	q2 := managers.NewQueue(0)
	q2.Put(ctx, 1)
	blocked := make(chan error)
	go func() { blocked <- q2.Join(ctx) }()
	q2.Shutdown(true)
	if err := <-blocked; err != nil {
		t.Fatalf("Join after immediate shutdown: %v", err)
	}
	if q2.Qsize() != 0 {
		t.Fatal("immediate shutdown keeps items")
	}
}

func TestQueuePythonAPI(t *testing.T) {
	q := managers.NewQueue(1)
	if _, err := callObj(t, q, "put", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := callObj(t, q, "put", "b", false); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("put(block=False): %v", err)
	}
	if _, err := callObj(t, q, "put", "b", true, 0.01); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("put(timeout=0.01): %v", err)
	}
	kw := pickle.NewDict()
	kw.Set("timeout", int64(-1))
	if _, err := q.CallMethod(t.Context(), "get", pickle.Tuple{}, kw); err == nil || err.Error() != "ValueError: 'timeout' must be a non-negative number" {
		t.Fatalf("negative timeout: %v", err)
	}
	if n, _ := callObj(t, q, "qsize"); n != int64(1) {
		t.Fatalf("qsize = %v", n)
	}
	if v, _ := callObj(t, q, "full"); v != true {
		t.Fatalf("full = %v", v)
	}
	if v, err := callObj(t, q, "get_nowait"); v != "a" || err != nil {
		t.Fatalf("get_nowait = %v %v", v, err)
	}
	if _, err := callObj(t, q, "get", true, 0); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("get(timeout=0): %v", err)
	}
	if _, err := callObj(t, q, "put", "a", true, nil, 4); err == nil {
		t.Fatal("put with too many arguments")
	}
	if _, err := callObj(t, q, "put"); err == nil || err.Error() != "TypeError: Queue.put() missing 1 required positional argument: 'item'" {
		t.Fatalf("put(): %v", err)
	}
	if _, err := callObj(t, q, "task_done"); err != nil {
		t.Fatal(err)
	}
	if _, err := callObj(t, q, "join"); err != nil {
		t.Fatal(err)
	}
	if _, err := callObj(t, q, "shutdown", true); err != nil {
		t.Fatal(err)
	}
	if _, err := callObj(t, q, "put", 1); !errors.Is(err, managers.ErrQueueShutDown) {
		t.Fatalf("put after shutdown: %v", err)
	}
}
