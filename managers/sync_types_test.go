package managers_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// caller returns a context with a new caller identity (one per simulated connection).
func stCaller() context.Context {
	return managers.WithCallerID(context.Background(), managers.NewCallerID())
}

func stCall(ctx context.Context, o managers.Object, name string, args ...any) (any, error) {
	return o.CallMethod(ctx, name, pickle.Tuple(args), pickle.NewDict())
}

func stCallKw(ctx context.Context, o managers.Object, name string, kw map[string]any, args ...any) (any, error) {
	d := pickle.NewDict()
	for k, v := range kw {
		_ = d.Set(k, v)
	}
	return o.CallMethod(ctx, name, pickle.Tuple(args), d)
}

// mustCall fails the test on an error and returns the result.
func stMustCall(t testing.TB, ctx context.Context, o managers.Object, name string, args ...any) any {
	t.Helper()
	v, err := stCall(ctx, o, name, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

// wantPyErr checks that err is the Python exception name(msg) (msg "" = any args).
func stWantErr(t testing.TB, err error, name, msg string) {
	t.Helper()
	var e *managers.PyException
	if !errors.As(err, &e) {
		var te *pickle.TypeError
		if name == "TypeError" && errors.As(err, &te) && (msg == "" || te.Msg == msg) {
			return
		}
		t.Fatalf("got error %v (%T), want %s(%q)", err, err, name, msg)
	}
	if e.Name != name {
		t.Fatalf("got %s(%v), want %s(%q)", e.Name, e.Args, name, msg)
	}
	if msg != "" && (len(e.Args) != 1 || pickle.Str(e.Args[0]) != msg) {
		t.Fatalf("got %s(%v), want %s(%q)", e.Name, e.Args, name, msg)
	}
}

func stEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !pickle.Equal(got, want) {
		t.Fatalf("%s = %s, want %s", what, pickle.Repr(got), pickle.Repr(want))
	}
}

func stSlice(start, stop, step any) *pickle.Object {
	return pickle.NewObject(pickle.Global{Module: "builtins", Name: "slice"}, start, stop, step)
}

func stList(items ...any) *pickle.List { return pickle.NewList(items...) }

func stInts(items ...int64) *pickle.List {
	l := pickle.NewList()
	for _, i := range items {
		l.Append(i)
	}
	return l
}

func TestSyncLock(t *testing.T) {
	l := managers.NewLock()
	a, b := stCaller(), stCaller()
	stEqual(t, "acquire()", stMustCall(t, a, l, "acquire"), true)
	stEqual(t, "acquire(False)", stMustCall(t, b, l, "acquire", false), false)
	// A plain Lock has no owner: another connection may release it (TestSyncManagerTypes.test_lock).
	stEqual(t, "release()", stMustCall(t, b, l, "release"), nil)
	_, err := stCall(a, l, "release")
	stWantErr(t, err, "error", "release unlocked lock") // _thread.error: RuntimeError in Python 3
	_, err = stCall(a, l, "acquire", false, 1.0)
	stWantErr(t, err, "ValueError", "can't specify a timeout for a non-blocking call")
	_, err = stCall(a, l, "acquire", true, -2.0)
	stWantErr(t, err, "ValueError", "timeout value must be a non-negative number")
	_, err = stCall(a, l, "acquire", true, nil)
	stWantErr(t, err, "TypeError", "'NoneType' object cannot be interpreted as an integer")
	_, err = stCall(a, l, "acquire", true, 1, 2)
	stWantErr(t, err, "TypeError", "acquire() takes at most 2 arguments (3 given)")
	_, err = stCallKw(a, l, "acquire", map[string]any{"foo": 1})
	stWantErr(t, err, "TypeError", "acquire() got an unexpected keyword argument 'foo'")
}

func TestSyncLockTimeoutAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := managers.NewLock()
		a := stCaller()
		stMustCall(t, a, l, "acquire")
		start := time.Now()
		stEqual(t, "acquire(True, 0.5)", stMustCall(t, stCaller(), l, "acquire", true, 0.5), false)
		if d := time.Since(start); d != 500*time.Millisecond {
			t.Fatalf("timed out after %v, want 0.5s", d)
		}
		// A blocked acquire returns when its connection goes away, leaving the lock as it was.
		ctx, cancel := context.WithCancel(stCaller())
		done := make(chan error)
		go func() { _, err := stCall(ctx, l, "acquire"); done <- err }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled acquire: %v", err)
		}
		// A waiter gets the lock when it is released.
		got := make(chan any)
		go func() { v, _ := stCall(stCaller(), l, "acquire", true, 10); got <- v }()
		synctest.Wait()
		stMustCall(t, a, l, "release")
		stEqual(t, "waiter", <-got, true)
	})
}

func TestSyncRLockOwnership(t *testing.T) {
	r := managers.NewRLock()
	a, b := stCaller(), stCaller()
	for i := 0; i < 3; i++ {
		stEqual(t, "acquire", stMustCall(t, a, r, "acquire"), true)
	}
	stEqual(t, "other acquire(False)", stMustCall(t, b, r, "acquire", false), false)
	_, err := stCall(b, r, "release")
	stWantErr(t, err, "RuntimeError", "cannot release un-acquired lock")
	for i := 0; i < 3; i++ {
		stMustCall(t, a, r, "release")
	}
	_, err = stCall(a, r, "release")
	stWantErr(t, err, "RuntimeError", "cannot release un-acquired lock")
	stEqual(t, "other acquire", stMustCall(t, b, r, "acquire", true, 1), true)
	_, err = stCall(a, r, "release")
	stWantErr(t, err, "RuntimeError", "cannot release un-acquired lock")
}

func TestSyncSemaphores(t *testing.T) {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	newObj := func(typeid string, args ...any) (managers.Object, error) {
		typ, ok := reg.Lookup(typeid)
		if !ok {
			t.Fatalf("typeid %q not registered", typeid)
		}
		return typ.New(context.Background(), pickle.Tuple(args), pickle.NewDict())
	}
	ctx := stCaller()
	s, err := newObj("Semaphore", int64(2))
	if err != nil {
		t.Fatal(err)
	}
	stEqual(t, "acquire", stMustCall(t, ctx, s, "acquire"), true)
	stEqual(t, "acquire", stMustCall(t, ctx, s, "acquire"), true)
	stEqual(t, "acquire(False)", stMustCall(t, ctx, s, "acquire", false), false)
	stEqual(t, "acquire(True, 0)", stMustCall(t, ctx, s, "acquire", true, 0), false)
	_, err = stCall(ctx, s, "acquire", false, 1)
	stWantErr(t, err, "ValueError", "can't specify timeout for non-blocking acquire")
	stMustCall(t, ctx, s, "release")
	stMustCall(t, ctx, s, "release", int64(3))
	_, err = stCall(ctx, s, "release", int64(0))
	stWantErr(t, err, "ValueError", "n must be one or more")
	if v := s.(*managers.Semaphore).Value(); v != 4 {
		t.Fatalf("value %d, want 4", v)
	}
	_, err = newObj("Semaphore", int64(-1))
	stWantErr(t, err, "ValueError", "semaphore initial value must be >= 0")

	bs, err := newObj("BoundedSemaphore", int64(1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = stCall(ctx, bs, "release")
	stWantErr(t, err, "ValueError", "Semaphore released too many times")
	stMustCall(t, ctx, bs, "acquire")
	stMustCall(t, ctx, bs, "release")
}

func TestSyncCondition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := managers.NewCondition(nil)
		if err != nil {
			t.Fatal(err)
		}
		a, b := stCaller(), stCaller()
		_, err = stCall(a, c, "wait")
		stWantErr(t, err, "RuntimeError", "cannot wait on un-acquired lock")
		_, err = stCall(a, c, "notify")
		stWantErr(t, err, "RuntimeError", "cannot notify on un-acquired lock")

		// wait(timeout) times out with False and holds the lock again.
		stMustCall(t, a, c, "acquire")
		start := time.Now()
		stEqual(t, "wait(1.5)", stMustCall(t, a, c, "wait", 1.5), false)
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Fatalf("wait took %v", d)
		}
		stEqual(t, "other acquire(False)", stMustCall(t, b, c, "acquire", false), false)

		// notify wakes one waiter, which returns True holding the lock.
		res := make(chan any, 2)
		go func() { res <- stMustCall(t, a, c, "wait") }()
		synctest.Wait() // a waits and has released the lock
		stMustCall(t, b, c, "acquire")
		stMustCall(t, b, c, "notify")
		stMustCall(t, b, c, "release")
		stEqual(t, "wait()", <-res, true)
		stMustCall(t, a, c, "release")

		// notify_all wakes every waiter; notify(n) at most n.
		ctxs := []context.Context{stCaller(), stCaller(), stCaller()}
		for _, ctx := range ctxs {
			go func() {
				stMustCall(t, ctx, c, "acquire")
				res := stMustCall(t, ctx, c, "wait", 100)
				stMustCall(t, ctx, c, "release")
				_ = res
			}()
		}
		synctest.Wait()
		stMustCall(t, b, c, "acquire")
		if !pickle.Equal(c.PyRepr()[len(c.PyRepr())-3:], "3)>") {
			t.Fatalf("repr %s, want 3 waiters", c.PyRepr())
		}
		stMustCall(t, b, c, "notify", int64(2))
		stMustCall(t, b, c, "release")
		synctest.Wait()
		stMustCall(t, b, c, "acquire")
		if got := c.PyRepr(); got[len(got)-3:] != "1)>" {
			t.Fatalf("repr %s, want 1 waiter", got)
		}
		stMustCall(t, b, c, "notify_all")
		stMustCall(t, b, c, "release")
		synctest.Wait()
	})
}

func TestSyncConditionOnLock(t *testing.T) {
	l := managers.NewLock()
	c, err := managers.NewCondition(l)
	if err != nil {
		t.Fatal(err)
	}
	a := stCaller()
	stMustCall(t, a, c, "acquire")
	stEqual(t, "wait(0)", stMustCall(t, a, c, "wait", 0), false)
	if !l.Locked() {
		t.Fatal("lock not held after wait")
	}
	stMustCall(t, a, c, "release")
	if _, err := managers.NewCondition(managers.NewEvent()); err == nil {
		t.Fatal("Condition on an Event accepted")
	}
}

func TestSyncEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := managers.NewEvent()
		ctx := stCaller()
		stEqual(t, "is_set", stMustCall(t, ctx, e, "is_set"), false)
		stEqual(t, "wait(0.25)", stMustCall(t, ctx, e, "wait", 0.25), false)
		got := make(chan any)
		go func() { got <- stMustCall(t, stCaller(), e, "wait") }()
		synctest.Wait()
		stMustCall(t, ctx, e, "set")
		stEqual(t, "wait()", <-got, true)
		stMustCall(t, ctx, e, "clear")
		stEqual(t, "is_set", stMustCall(t, ctx, e, "is_set"), false)
		_, err := stCall(ctx, e, "wait", "x")
		stWantErr(t, err, "TypeError", "'>' not supported between instances of 'str' and 'int'")
	})
}

func TestSyncBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := managers.NewBarrier(3)
		idx := make(chan int64, 3)
		for i := 0; i < 3; i++ {
			go func() { idx <- stMustCall(t, stCaller(), b, "wait").(int64) }()
		}
		seen := map[int64]bool{}
		for i := 0; i < 3; i++ {
			seen[<-idx] = true
		}
		if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
			t.Fatalf("indices %v", seen)
		}
		ctx := stCaller()
		stEqual(t, "parties", stMustCall(t, ctx, b, "__getattribute__", "parties"), int64(3))
		_, err := stCall(ctx, b, "__getattribute__", "foo")
		stWantErr(t, err, "AttributeError", "'Barrier' object has no attribute 'foo'")

		// A timeout breaks the barrier for everyone.
		errs := make(chan error, 1)
		go func() { _, err := stCall(stCaller(), b, "wait"); errs <- err }()
		synctest.Wait()
		stEqual(t, "n_waiting", stMustCall(t, ctx, b, "__getattribute__", "n_waiting"), int64(1))
		_, err = stCall(ctx, b, "wait", 0.5)
		if e, ok := err.(*managers.PyException); !ok || e.Module != "threading" || e.Name != "BrokenBarrierError" {
			t.Fatalf("timed-out wait: %v", err)
		}
		if err := <-errs; err == nil {
			t.Fatal("waiter not broken")
		}
		stEqual(t, "broken", stMustCall(t, ctx, b, "__getattribute__", "broken"), true)
		stMustCall(t, ctx, b, "reset")
		stEqual(t, "broken", stMustCall(t, ctx, b, "__getattribute__", "broken"), false)
		stMustCall(t, ctx, b, "abort")
		_, err = stCall(ctx, b, "wait")
		if e, ok := err.(*managers.PyException); !ok || e.Name != "BrokenBarrierError" {
			t.Fatalf("wait on aborted barrier: %v", err)
		}
	})
}

func TestSyncBarrierActionAndPool(t *testing.T) {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	typ, _ := reg.Lookup("Barrier")
	kw := pickle.NewDict()
	_ = kw.Set("action", pickle.Global{Module: "__main__", Name: "f"})
	if _, err := typ.New(context.Background(), pickle.Tuple{int64(2)}, kw); !errors.Is(err, managers.ErrBarrierAction) {
		t.Fatalf("Barrier(action=f): %v", err)
	}
	_, err := typ.New(context.Background(), pickle.Tuple{int64(0)}, pickle.NewDict())
	stWantErr(t, err, "ValueError", "parties must be > 0")
	typ, _ = reg.Lookup("Pool")
	if _, err := typ.New(context.Background(), pickle.Tuple{int64(2)}, pickle.NewDict()); !errors.Is(err, managers.ErrPoolUnsupported) {
		t.Fatalf("Pool(2): %v", err)
	}
	if err := managers.RegisterSyncManager(reg); err == nil {
		t.Fatal("second RegisterSyncManager succeeded")
	}
}

func TestSyncList(t *testing.T) {
	ctx := stCaller()
	l := managers.NewList(int64(0), int64(1), int64(2), int64(3), int64(4))
	cases := []struct {
		name string
		args []any
		want any
	}{
		{"__len__", nil, int64(5)},
		{"__getitem__", []any{int64(-1)}, int64(4)},
		{"__getitem__", []any{stSlice(nil, nil, nil)}, stInts(0, 1, 2, 3, 4)},
		{"__getitem__", []any{stSlice(int64(1), int64(10), nil)}, stInts(1, 2, 3, 4)},
		{"__getitem__", []any{stSlice(nil, nil, int64(-2))}, stInts(4, 2, 0)},
		{"__getitem__", []any{stSlice(int64(-2), nil, nil)}, stInts(3, 4)},
		{"__contains__", []any{3.0}, true},
		{"__contains__", []any{"3"}, false},
		{"__add__", []any{stInts(5)}, stInts(0, 1, 2, 3, 4, 5)},
		{"__mul__", []any{int64(2)}, stInts(0, 1, 2, 3, 4, 0, 1, 2, 3, 4)},
		{"__rmul__", []any{int64(-1)}, stInts()},
		{"count", []any{true}, int64(1)},
		{"index", []any{int64(3)}, int64(3)},
		{"index", []any{int64(3), int64(-2)}, int64(3)},
		{"__lt__", []any{stInts(0, 2)}, true},
		{"__eq__", []any{stInts(0, 1, 2, 3, 4)}, true},
		{"__eq__", []any{"x"}, pickle.Global{Module: "builtins", Name: "NotImplemented"}},
		{"copy", nil, stInts(0, 1, 2, 3, 4)},
	}
	for _, c := range cases {
		stEqual(t, c.name+pickle.Repr(pickle.Tuple(c.args)), stMustCall(t, ctx, l, c.name, c.args...), c.want)
	}
	errCases := []struct {
		name      string
		args      []any
		exc, text string
	}{
		{"__getitem__", []any{int64(5)}, "IndexError", "list index out of range"},
		{"__getitem__", []any{"x"}, "TypeError", "list indices must be integers or slices, not str"},
		{"__getitem__", []any{new(big.Int).Lsh(big.NewInt(1), 100)}, "IndexError", "cannot fit 'int' into an index-sized integer"},
		{"__getitem__", []any{stSlice(nil, nil, int64(0))}, "ValueError", "slice step cannot be zero"},
		{"__getitem__", []any{stSlice("a", nil, nil)}, "TypeError", "slice indices must be integers or None or have an __index__ method"},
		{"__setitem__", []any{int64(9), int64(1)}, "IndexError", "list assignment index out of range"},
		{"__setitem__", []any{stSlice(nil, nil, int64(2)), stInts(1)}, "ValueError", "attempt to assign sequence of size 1 to extended slice of size 3"},
		{"__setitem__", []any{stSlice(nil, nil, int64(2)), int64(5)}, "TypeError", "must assign iterable to extended slice"},
		{"__delitem__", []any{int64(9)}, "IndexError", "list assignment index out of range"},
		{"__add__", []any{pickle.Tuple{int64(1)}}, "TypeError", `can only concatenate list (not "tuple") to list`},
		{"__mul__", []any{"x"}, "TypeError", "'str' object cannot be interpreted as an integer"},
		{"index", []any{int64(9)}, "ValueError", "9 is not in list"},
		{"remove", []any{int64(9)}, "ValueError", "list.remove(x): x not in list"},
		{"pop", []any{int64(9)}, "IndexError", "pop index out of range"},
		{"sort", []any{int64(1)}, "TypeError", "sort() takes no positional arguments"},
	}
	for _, c := range errCases {
		_, err := stCall(ctx, l, c.name, c.args...)
		stWantErr(t, err, c.exc, c.text)
	}

	// Mutations.
	stMustCall(t, ctx, l, "__setitem__", stSlice(int64(1), int64(3), nil), stList("a", "b", "c"))
	stEqual(t, "after slice assignment", stMustCall(t, ctx, l, "__getitem__", stSlice(nil, nil, nil)), stList(int64(0), "a", "b", "c", int64(3), int64(4)))
	stMustCall(t, ctx, l, "__delitem__", stSlice(nil, nil, int64(2)))
	stEqual(t, "after extended del", stMustCall(t, ctx, l, "__getitem__", stSlice(nil, nil, nil)), stList("a", "c", int64(4)))
	_, err := stCall(ctx, l, "sort")
	stWantErr(t, err, "TypeError", "'<' not supported between instances of 'int' and 'str'")
	stMustCall(t, ctx, l, "__setitem__", stSlice(nil, nil, nil), stList(int64(3), 1.5, int64(2), true))
	stMustCall(t, ctx, l, "sort")
	stEqual(t, "sorted", l.Items(), []any{true, 1.5, int64(2), int64(3)})
	if _, err := stCallKw(ctx, l, "sort", map[string]any{"reverse": true}); err != nil {
		t.Fatal(err)
	}
	stEqual(t, "sorted reverse", l.Items(), []any{int64(3), int64(2), 1.5, true})
	_, err = stCallKw(ctx, l, "sort", map[string]any{"key": pickle.Global{Module: "builtins", Name: "len"}})
	stWantErr(t, err, "NotImplementedError", "")
	stMustCall(t, ctx, l, "__imul__", int64(2))
	stEqual(t, "len after *=", stMustCall(t, ctx, l, "__len__"), int64(8))
	stMustCall(t, ctx, l, "insert", int64(-100), "first")
	stMustCall(t, ctx, l, "insert", int64(100), "last")
	stEqual(t, "pop()", stMustCall(t, ctx, l, "pop"), "last")
	stEqual(t, "pop(0)", stMustCall(t, ctx, l, "pop", int64(0)), "first")
	stMustCall(t, ctx, l, "clear")
	_, err = stCall(ctx, l, "pop")
	stWantErr(t, err, "IndexError", "pop from empty list")
	stMustCall(t, ctx, l, "extend", "ab")
	stMustCall(t, ctx, l, "__setslice__", int64(1), int64(5), pickle.Tuple{int64(7)})
	stEqual(t, "2.7 slices", stMustCall(t, ctx, l, "__getslice__", int64(0), int64(100)), stList("a", int64(7)))
	rev := stMustCall(t, ctx, l, "__reversed__").(*pickle.Object)
	if rev.Class.Name != "reversed" || !pickle.Equal(rev.Args[0], stList("a", int64(7))) {
		t.Fatalf("__reversed__ = %s", pickle.Repr(rev))
	}
	v, _ := l.GetValue()
	v.(*pickle.List).Items[0] = "changed"
	stEqual(t, "GetValue is a copy", stMustCall(t, ctx, l, "__getitem__", int64(0)), "a")
}

func TestSyncDict(t *testing.T) {
	ctx := stCaller()
	d := managers.NewDict()
	stMustCall(t, ctx, d, "__setitem__", int64(1), "one")
	stMustCall(t, ctx, d, "__setitem__", "k", stList())
	stEqual(t, "d[1.0]", stMustCall(t, ctx, d, "__getitem__", 1.0), "one")
	_, err := stCall(ctx, d, "__getitem__", "missing")
	stWantErr(t, err, "KeyError", "missing")
	_, err = stCall(ctx, d, "__getitem__", stList())
	stWantErr(t, err, "TypeError", "unhashable type: 'list'")
	stEqual(t, "get default", stMustCall(t, ctx, d, "get", "x", int64(5)), int64(5))
	stEqual(t, "get", stMustCall(t, ctx, d, "get", "x"), nil)
	stEqual(t, "setdefault", stMustCall(t, ctx, d, "setdefault", "s", int64(9)), int64(9))
	stEqual(t, "has_key", stMustCall(t, ctx, d, "has_key", "s"), true)
	stEqual(t, "keys", stMustCall(t, ctx, d, "keys"), stList(int64(1), "k", "s"))
	stEqual(t, "items", stMustCall(t, ctx, d, "items"), stList(pickle.Tuple{int64(1), "one"}, pickle.Tuple{"k", stList()}, pickle.Tuple{"s", int64(9)}))
	stEqual(t, "pop default", stMustCall(t, ctx, d, "pop", "nope", nil), nil)
	_, err = stCall(ctx, d, "pop", "nope")
	stWantErr(t, err, "KeyError", "nope")
	_, err = stCall(ctx, d, "update", int64(1))
	stWantErr(t, err, "TypeError", "'int' object is not iterable")
	_, err = stCall(ctx, d, "update", stList(int64(1)))
	stWantErr(t, err, "TypeError", "cannot convert dictionary update sequence element #0 to a sequence")
	_, err = stCall(ctx, d, "update", stList(pickle.Tuple{int64(1), int64(2), int64(3)}))
	stWantErr(t, err, "ValueError", "dictionary update sequence element #0 has length 3; 2 is required")
	if _, err := stCallKw(ctx, d, "update", map[string]any{"kw": true}, stList(pickle.Tuple{"p", int64(2)})); err != nil {
		t.Fatal(err)
	}
	stEqual(t, "len", stMustCall(t, ctx, d, "__len__"), int64(5))

	// Iteration: the Iterator object, and CPython's error when the dict changes size.
	it := stMustCall(t, ctx, d, "__iter__").(*managers.Iterator)
	stEqual(t, "next", stMustCall(t, ctx, it, "__next__"), int64(1))
	stMustCall(t, ctx, d, "__delitem__", "k")
	_, err = stCall(ctx, it, "__next__")
	stWantErr(t, err, "RuntimeError", "dictionary changed size during iteration")
	it = stMustCall(t, ctx, d, "__iter__").(*managers.Iterator)
	for i := 0; i < 4; i++ {
		stMustCall(t, ctx, it, "__next__")
	}
	_, err = stCall(ctx, it, "__next__")
	stWantErr(t, err, "StopIteration", "")
	_, err = stCall(ctx, it, "next")
	stWantErr(t, err, "StopIteration", "")

	// 3.14 additions.
	other := pickle.NewDict()
	_ = other.Set("s", "new")
	or := stMustCall(t, ctx, d, "__or__", other).(*pickle.Dict)
	stEqual(t, "(d | other)['s']", stFirst(or.Get("s")), "new")
	ror := stMustCall(t, ctx, d, "__ror__", other).(*pickle.Dict)
	stEqual(t, "(other | d)['s']", stFirst(ror.Get("s")), int64(9))
	stEqual(t, "d | 1", stMustCall(t, ctx, d, "__or__", int64(1)), pickle.Global{Module: "builtins", Name: "NotImplemented"})
	stMustCall(t, ctx, d, "__ior__", stList(pickle.Tuple{"z", int64(26)}))
	stEqual(t, "d['z']", stMustCall(t, ctx, d, "__getitem__", "z"), int64(26))
	fk := stMustCall(t, ctx, d, "fromkeys", "ab", int64(0)).(*pickle.Dict)
	stEqual(t, "fromkeys", fk.Len(), 2)
	rev := stMustCall(t, ctx, d, "__reversed__").(*pickle.Object)
	if rev.Class.Name != "iter" || !pickle.Equal(rev.Args[0].(*pickle.List).Items[0], "z") {
		t.Fatalf("__reversed__ = %s", pickle.Repr(rev))
	}
	stEqual(t, "popitem", stMustCall(t, ctx, d, "popitem"), pickle.Tuple{"z", int64(26)})
	stMustCall(t, ctx, d, "clear")
	_, err = stCall(ctx, d, "popitem")
	stWantErr(t, err, "KeyError", "popitem(): dictionary is empty")
}

func stFirst(v any, _ bool) any { return v }

func TestSyncArray(t *testing.T) {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	typ, _ := reg.Lookup("Array")
	newArray := func(args ...any) (managers.Object, error) {
		return typ.New(context.Background(), pickle.Tuple(args), pickle.NewDict())
	}
	ctx := stCaller()
	for _, c := range []struct {
		tc        string
		v         any
		exc, text string
	}{
		{"i", int64(1) << 31, "OverflowError", "signed integer is greater than maximum"},
		{"i", -(int64(1) << 31) - 1, "OverflowError", "signed integer is less than minimum"},
		{"b", int64(300), "OverflowError", "signed char is greater than maximum"},
		{"B", int64(-1), "OverflowError", "unsigned byte integer is less than minimum"},
		{"H", int64(-1), "OverflowError", "unsigned short is less than minimum"},
		{"I", int64(-1), "OverflowError", "can't convert negative value to unsigned int"},
		{"Q", int64(-1), "OverflowError", "can't convert negative int to unsigned"},
		{"q", new(big.Int).Lsh(big.NewInt(1), 70), "OverflowError", "int too big to convert"},
		{"i", new(big.Int).Lsh(big.NewInt(1), 70), "OverflowError", "Python int too large to convert to C long"},
		{"i", 1.5, "TypeError", "'float' object cannot be interpreted as an integer"},
		{"d", "x", "TypeError", "must be real number, not str"},
		{"u", int64(1), "TypeError", "array item must be unicode character"},
	} {
		_, err := newArray(c.tc, stList(c.v))
		stWantErr(t, err, c.exc, c.text)
	}
	_, err := newArray("z", stList())
	stWantErr(t, err, "ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)")
	_, err = newArray("i", "abc")
	stWantErr(t, err, "TypeError", "cannot use a str to initialize an array with typecode 'i'")

	a, err := newArray("i", stList(int64(1), int64(2), int64(3)))
	if err != nil {
		t.Fatal(err)
	}
	stEqual(t, "a[-1]", stMustCall(t, ctx, a, "__getitem__", int64(-1)), int64(3))
	_, err = stCall(ctx, a, "__getitem__", int64(3))
	stWantErr(t, err, "IndexError", "array index out of range")
	_, err = stCall(ctx, a, "__setitem__", int64(0), int64(1)<<40)
	stWantErr(t, err, "OverflowError", "signed integer is greater than maximum")
	_, err = stCall(ctx, a, "__setitem__", stSlice(nil, int64(2), nil), stList(int64(1)))
	stWantErr(t, err, "TypeError", `can only assign array (not "list") to array slice`)
	sl := stMustCall(t, ctx, a, "__getitem__", stSlice(int64(1), nil, nil)).(*pickle.Object)
	if sl.Class != (pickle.Global{Module: "array", Name: "array"}) || !pickle.Equal(sl.Args, pickle.Tuple{"i", []byte{2, 0, 0, 0, 3, 0, 0, 0}}) {
		t.Fatalf("a[1:] = %s", pickle.Repr(sl))
	}
	// An array.array from a Python 3 client (protocol 3+ reduce).
	incoming := pickle.NewObject(pickle.Global{Module: "array", Name: "_array_reconstructor"},
		pickle.Global{Module: "array", Name: "array"}, "i", int64(8), []byte{9, 0, 0, 0})
	stMustCall(t, ctx, a, "__setitem__", stSlice(nil, int64(2), nil), incoming)
	stEqual(t, "after slice assignment", a.(*managers.Array).Items(), []any{int64(9), int64(3)})
	if got := a.(managers.Reprer).PyRepr(); got != "array('i', [9, 3])" {
		t.Fatalf("repr %s", got)
	}
	f, _ := newArray("f", stList(0.1))
	stEqual(t, "float32 rounding", stMustCall(t, ctx, f, "__getitem__", int64(0)), float64(float32(0.1)))
}

func TestSyncNamespaceAndValue(t *testing.T) {
	ctx := stCaller()
	ns := managers.NewNamespace()
	stMustCall(t, ctx, ns, "__setattr__", "name", "Bob")
	stMustCall(t, ctx, ns, "__setattr__", "job", "Builder")
	stMustCall(t, ctx, ns, "__setattr__", "_hidden", int64(1))
	stEqual(t, "ns.name", stMustCall(t, ctx, ns, "__getattribute__", "name"), "Bob")
	stMustCall(t, ctx, ns, "__delattr__", "job")
	_, err := stCall(ctx, ns, "__getattribute__", "job")
	stWantErr(t, err, "AttributeError", "'Namespace' object has no attribute 'job'")
	_, err = stCall(ctx, ns, "__delattr__", "job")
	stWantErr(t, err, "AttributeError", "'Namespace' object has no attribute 'job'")
	if got := ns.PyRepr(); got != "Namespace(name='Bob')" {
		t.Fatalf("repr %s", got)
	}

	// Value does not check the typecode, like CPython's managers.Value.
	v := managers.NewValue("i", int64(1))
	stEqual(t, "get", stMustCall(t, ctx, v, "get"), int64(1))
	stMustCall(t, ctx, v, "set", "text")
	stEqual(t, "get", stMustCall(t, ctx, v, "get"), "text")
	if got := v.PyRepr(); got != "Value('i', 'text')" {
		t.Fatalf("repr %s", got)
	}
}

// TestSyncConcurrent hammers the shared types from many goroutines (run with -race).
func TestSyncConcurrent(t *testing.T) {
	d := managers.NewDict()
	l := managers.NewList()
	lock := managers.NewLock()
	_ = d.Set("n", int64(0))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := stCaller()
			for i := 0; i < 100; i++ {
				stMustCall(t, ctx, lock, "acquire")
				n := stMustCall(t, ctx, d, "__getitem__", "n").(int64)
				stMustCall(t, ctx, d, "__setitem__", "n", n+1)
				stMustCall(t, ctx, lock, "release")
				stMustCall(t, ctx, l, "append", int64(i))
				stMustCall(t, ctx, l, "__getitem__", stSlice(nil, nil, nil))
			}
		}()
	}
	wg.Wait()
	stEqual(t, "n", stFirst(d.Get("n")), int64(800))
	stEqual(t, "len", l.Len(), 800)
}

// TestSyncRegistryExposed checks the exposed names against CPython 3.13's create replies
// (PROTOCOL.md 5.1): AutoProxy typeids exactly (the proxy is built from them), the others with
// 3.13's list as a prefix (the 3.14, 2.7 and comparison additions follow).
func TestSyncRegistryExposed(t *testing.T) {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	queue := []string{"empty", "full", "get", "get_nowait", "join", "put", "put_nowait", "qsize", "shutdown", "task_done"}
	acq := []string{"acquire", "release"}
	want := map[string]struct {
		exposed []string
		exact   bool
	}{
		"Queue":            {queue, true},
		"JoinableQueue":    {queue, true},
		"AsyncResult":      {[]string{"get", "ready", "successful", "wait"}, true},
		"Event":            {[]string{"is_set", "set", "clear", "wait"}, true},
		"Lock":             {acq, true},
		"RLock":            {acq, true},
		"Semaphore":        {acq, true},
		"BoundedSemaphore": {acq, true},
		"Condition":        {[]string{"acquire", "release", "wait", "notify", "notify_all"}, true},
		"Barrier":          {[]string{"__getattribute__", "wait", "abort", "reset"}, true},
		"Pool":             {[]string{"apply", "apply_async", "close", "imap", "imap_unordered", "join", "map", "map_async", "starmap", "starmap_async", "terminate"}, true},
		"list": {[]string{"__add__", "__contains__", "__delitem__", "__getitem__", "__len__", "__mul__", "__reversed__",
			"__rmul__", "__setitem__", "append", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort", "__imul__",
			"clear", "copy"}, false},
		"dict": {[]string{"__contains__", "__delitem__", "__getitem__", "__iter__", "__len__", "__setitem__", "clear", "copy",
			"get", "items", "keys", "pop", "popitem", "setdefault", "update", "values", "__or__", "__ror__", "__ior__", "fromkeys", "__reversed__"}, false},
		"Value":     {[]string{"get", "set"}, true},
		"Array":     {[]string{"__len__", "__getitem__", "__setitem__"}, false},
		"Namespace": {[]string{"__getattribute__", "__setattr__", "__delattr__"}, true},
		"Iterator":  {[]string{"__next__", "send", "throw", "close"}, false},
	}
	if got := len(reg.TypeIDs()); got != len(want) {
		t.Errorf("%d typeids registered, want %d: %v", got, len(want), reg.TypeIDs())
	}
	for typeid, w := range want {
		typ, ok := reg.Lookup(typeid)
		if !ok {
			t.Errorf("%s not registered", typeid)
			continue
		}
		got := typ.Exposed
		if w.exact && len(got) != len(w.exposed) || len(got) < len(w.exposed) {
			t.Errorf("%s exposes %v, want %v", typeid, got, w.exposed)
			continue
		}
		for i := range w.exposed {
			if got[i] != w.exposed[i] {
				t.Errorf("%s exposes %v, want %v first", typeid, got, w.exposed)
				break
			}
		}
	}
}
