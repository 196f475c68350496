package managers

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

// testRef returns a live reference to obj without a server (as the server makes for a proxy
// argument naming obj).
func testRef(obj Object) *Ref { return &Ref{e: &entry{ident: "test", obj: obj}} }

// TestSyncCrossExtendNoDeadlock: a.extend(b) and b.extend(a) (and the dict, array and slice
// forms) running at the same time never hold both objects' locks.
func TestSyncCrossExtendNoDeadlock(t *testing.T) {
	ctx := context.Background()
	a, b := NewList(int64(1)), NewList(int64(2))
	da, db := NewDict(), NewDict()
	_ = da.Set("a", int64(1))
	_ = db.Set("b", int64(2))
	xa, _ := NewArray("i", int64(1), int64(2))
	xb, _ := NewArray("i", int64(3), int64(4))
	all := pickle.NewObject(pickle.Global{Module: "builtins", Name: "slice"}, nil, nil, nil)
	loop := func(f func() error) chan error {
		done := make(chan error, 1)
		go func() {
			for i := 0; i < 3000; i++ {
				if err := f(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}
	call := func(o Object, name string, args ...any) error {
		_, err := o.CallMethod(ctx, name, pickle.Tuple(args), pickle.NewDict())
		return err
	}
	dones := []chan error{
		loop(func() error {
			if err := call(a, "__setitem__", all, pickle.NewList(int64(1))); err != nil {
				return err
			}
			return call(a, "extend", testRef(b))
		}),
		loop(func() error {
			if err := call(b, "__setitem__", all, pickle.NewList(int64(2))); err != nil {
				return err
			}
			return call(b, "__setitem__", all, testRef(a))
		}),
		loop(func() error { return call(da, "update", testRef(db)) }),
		loop(func() error { return call(db, "__ior__", testRef(da)) }),
		loop(func() error { return call(xa, "__setitem__", all, testRef(xb)) }),
		loop(func() error { return call(xb, "__setitem__", all, testRef(xa)) }),
	}
	timeout := time.After(60 * time.Second)
	for _, d := range dones {
		select {
		case err := <-d:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("deadlock: cross-referencing calls did not finish")
		}
	}
	// self references read the object's own items
	if err := call(a, "extend", testRef(a)); err != nil {
		t.Fatal(err)
	}
	if err := call(xa, "__setitem__", all, testRef(xa)); err != nil {
		t.Fatal(err)
	}
}

// TestSyncPython2Results: calls marked as coming from a Python 2 client get 2.7's results.
func TestSyncPython2Results(t *testing.T) {
	ctx := withPython2(WithCallerID(context.Background(), NewCallerID()))
	c, _ := NewCondition(nil)
	if _, err := c.CallMethod(ctx, "acquire", nil, pickle.NewDict()); err != nil {
		t.Fatal(err)
	}
	if v, err := c.CallMethod(ctx, "wait", pickle.Tuple{0.0}, pickle.NewDict()); err != nil || v != nil {
		t.Fatalf("2.7 Condition.wait = %v, %v; want None", v, err)
	}
	r := NewRLock()
	r.CallMethod(ctx, "acquire", nil, pickle.NewDict())
	if v, _ := r.CallMethod(ctx, "acquire", nil, pickle.NewDict()); v != int64(1) {
		t.Fatalf("2.7 nested RLock.acquire = %v, want 1", v)
	}
}
