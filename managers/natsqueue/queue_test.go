package natsqueue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/mpgo/mpgo/pickle"
)

// embedded starts an embedded JetStream in a temporary directory for the test.
func embedded(t testing.TB) *natsqueue.Embedded {
	t.Helper()
	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func open(t testing.TB, e *natsqueue.Embedded, cfg natsqueue.Config) *natsqueue.Queue {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "jobs"
	}
	q, err := natsqueue.Open(t.Context(), e.JetStream, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func call(t testing.TB, q *natsqueue.Queue, name string, args ...any) (any, error) {
	t.Helper()
	return q.CallMethod(t.Context(), name, pickle.Tuple(args), nil)
}

func mustCall(t testing.TB, q *natsqueue.Queue, name string, args ...any) any {
	t.Helper()
	v, err := call(t, q, name, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

// TestQueueBasics: the Python API of one queue on an embedded JetStream.
func TestQueueBasics(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{})
	if _, err := call(t, q, "get_nowait"); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("get_nowait on an empty queue: %v", err)
	}
	start := time.Now()
	if _, err := call(t, q, "get", true, 0.05); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("get(timeout) on an empty queue: %v", err)
	} else if time.Since(start) < 50*time.Millisecond {
		t.Fatalf("get(timeout=0.05) returned after %v", time.Since(start))
	}
	items := []any{"a", int64(1), pickle.Tuple{"x", 2.5}, pickle.Py2String("py2"), []byte{0, 1}}
	for _, it := range items {
		mustCall(t, q, "put", it)
	}
	if n := mustCall(t, q, "qsize"); n != int64(len(items)) {
		t.Fatalf("qsize = %v, want %d", n, len(items))
	}
	if mustCall(t, q, "empty") != false || mustCall(t, q, "full") != false {
		t.Fatal("empty or full wrong")
	}
	for i, want := range items {
		name := "get"
		if i%2 == 1 {
			name = "get_nowait"
		}
		got := mustCall(t, q, name)
		if !pickle.Equal(got, want) {
			t.Fatalf("%s = %#v, want %#v", name, got, want)
		}
		if _, ok := want.(pickle.Py2String); ok {
			if _, ok := got.(pickle.Py2String); !ok {
				t.Fatalf("a Python 2 str came back as %T", got)
			}
		}
	}
	if n := mustCall(t, q, "qsize"); n != int64(0) {
		t.Fatalf("qsize after getting everything = %v", n)
	}
	for range items {
		mustCall(t, q, "task_done")
	}
	if _, err := call(t, q, "task_done"); !managers.IsPythonException(err, "builtins", "ValueError") {
		t.Fatalf("task_done too often: %v", err)
	}
	mustCall(t, q, "join")
}

// TestQueueMaxsize: a bounded queue refuses put_nowait when full, a blocking put waits for
// room and raises queue.Full at its timeout; a different maxsize is refused at Open.
func TestQueueMaxsize(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{Maxsize: 2})
	mustCall(t, q, "put", 1)
	mustCall(t, q, "put_nowait", 2)
	if mustCall(t, q, "full") != true {
		t.Fatal("full() false at maxsize")
	}
	if _, err := call(t, q, "put_nowait", 3); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("put_nowait on a full queue: %v", err)
	}
	if _, err := call(t, q, "put", 3, true, 0.05); !errors.Is(err, managers.ErrQueueFull) {
		t.Fatalf("put(timeout) on a full queue: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- q.Put(context.Background(), int64(3)) }()
	if v := mustCall(t, q, "get"); v != int64(1) {
		t.Fatalf("get = %v", v)
	}
	if err := <-done; err != nil {
		t.Fatalf("blocked put: %v", err)
	}
	if n := q.Qsize(); n != 2 {
		t.Fatalf("qsize = %d", n)
	}
	_, err := natsqueue.Open(t.Context(), e.JetStream, natsqueue.Config{Name: "jobs", Maxsize: 5})
	if err == nil {
		t.Fatal("Open with another maxsize succeeded")
	}
	t.Log(err)
}

// TestQueueArgs: Python argument errors are CPython's, and get(False) is get_nowait.
func TestQueueArgs(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{})
	cases := []struct {
		name string
		args []any
		exc  string
	}{
		{"put", nil, "TypeError"},
		{"put", []any{1, true, -1.0}, "ValueError"},
		{"put", []any{1, true, "x"}, "TypeError"},
		{"get", []any{true, 1, 2}, "TypeError"},
		{"get_nowait", []any{1}, "TypeError"},
		{"qsize", []any{1}, "TypeError"},
		{"nope", nil, "AttributeError"},
	}
	for _, c := range cases {
		_, err := call(t, q, c.name, c.args...)
		if !managers.IsPythonException(err, "builtins", c.exc) {
			t.Errorf("%s%v: %v, want %s", c.name, c.args, err, c.exc)
		}
	}
	kw := pickle.NewDict()
	kw.Set("block", false)
	if _, err := q.CallMethod(t.Context(), "get", nil, kw); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("get(block=False) on an empty queue: %v", err)
	}
	if got := q.ExposedMethods(); len(got) != len(managers.NewQueue(0).ExposedMethods()) {
		t.Fatalf("exposed %v", got)
	}
}

// TestQueueShutdown: after shutdown, put raises ShutDown, get drains then raises ShutDown;
// shutdown(immediate=True) discards the items and counts them done.
func TestQueueShutdown(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{Name: "sd"})
	mustCall(t, q, "put", "a")
	mustCall(t, q, "shutdown")
	if _, err := call(t, q, "put", "b"); !errors.Is(err, managers.ErrQueueShutDown) {
		t.Fatalf("put after shutdown: %v", err)
	}
	if v := mustCall(t, q, "get"); v != "a" {
		t.Fatalf("get after shutdown = %v", v)
	}
	if _, err := call(t, q, "get"); !errors.Is(err, managers.ErrQueueShutDown) {
		t.Fatalf("get on a shut down, empty queue: %v", err)
	}

	q2 := open(t, e, natsqueue.Config{Name: "sd2"})
	for i := range 3 {
		mustCall(t, q2, "put", i)
	}
	kw := pickle.NewDict()
	kw.Set("immediate", true)
	if _, err := q2.CallMethod(t.Context(), "shutdown", nil, kw); err != nil {
		t.Fatal(err)
	}
	if n := mustCall(t, q2, "qsize"); n != int64(0) {
		t.Fatalf("qsize after shutdown(immediate=True) = %v", n)
	}
	mustCall(t, q2, "join")
}
