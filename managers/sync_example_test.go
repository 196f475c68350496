package managers_test

import (
	"context"
	"fmt"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// A server with every SyncManager typeid, for the stock Python client:
//
//	from multiprocessing.managers import SyncManager
//	m = SyncManager(address=('127.0.0.1', 50000), authkey=b'secret'); m.connect()
//	d = m.dict(); lock = m.Lock(); q = m.Queue()
func ExampleRegisterSyncManager() {
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		panic(err)
	}
	srv := &managers.Server{AuthKey: []byte("secret"), Registry: reg}
	_ = srv // go srv.ListenAndServe("tcp", "127.0.0.1:50000")

	typ, _ := reg.Lookup("dict")
	fmt.Println(typ.Exposed[:6], typ.MethodToTypeID)
	// Output: [__contains__ __delitem__ __getitem__ __iter__ __len__ __setitem__] map[__iter__:Iterator]
}

// Go code shares a dict with Python clients: register it once under a typeid of its own
// (Python: SyncManager.register('shared_dict', proxytype=DictProxy)) and use it directly.
func ExampleNewDict() {
	d := managers.NewDict()
	_ = d.Set("hits", int64(1))
	ctx := context.Background()
	_, err := d.CallMethod(ctx, "__getitem__", pickle.Tuple{"misses"}, pickle.NewDict())
	fmt.Println(err)
	v, _ := d.CallMethod(ctx, "setdefault", pickle.Tuple{"misses", int64(0)}, pickle.NewDict())
	fmt.Println(v, d.PyRepr())
	// Output:
	// KeyError: 'misses'
	// 0 {'hits': 1, 'misses': 0}
}

// An RLock belongs to the caller that acquired it: each Python client connection has its
// own caller identity, and Go callers make theirs with WithCallerID.
func ExampleRLock() {
	lock := managers.NewRLock()
	alice := managers.WithCallerID(context.Background(), managers.NewCallerID())
	bob := managers.WithCallerID(context.Background(), managers.NewCallerID())
	ok, _ := lock.Acquire(alice, -1)
	fmt.Println("alice acquired:", ok)
	fmt.Println("bob releases:", lock.Release(bob))
	ok, _ = lock.Acquire(bob, 0)
	fmt.Println("bob acquired:", ok)
	fmt.Println("alice releases:", lock.Release(alice))
	// Output:
	// alice acquired: true
	// bob releases: RuntimeError: cannot release un-acquired lock
	// bob acquired: false
	// alice releases: <nil>
}
