package managers

import (
	"context"
	"fmt"
	"slices"

	"github.com/mpgo/mpgo/pickle"
)

// RegisterSyncManager registers every typeid of CPython's multiprocessing.managers.SyncManager
// in r, implemented in Go: Queue, JoinableQueue, Event, Lock, RLock, Semaphore,
// BoundedSemaphore, Condition, Barrier, Pool, list, dict, Value, Array, Namespace, Iterator and
// AsyncResult. A Python client then uses the server with the stock SyncManager:
//
//	m = SyncManager(address=('127.0.0.1', 50000), authkey=b'secret'); m.connect()
//	d = m.dict(); lock = m.Lock()
//
// Exposed names. The create reply carries the exposed names of CPython 3.13's server, plus the
// methods CPython 3.14 adds (list clear and copy; dict __or__, __ror__, __ior__, fromkeys and
// __reversed__), plus the Python 2.7 names (list and Array __getslice__, __setslice__,
// __delslice__; dict has_key; Iterator next), plus list and dict comparisons: one list for every
// client version. This is safe because the exposed tuple only shapes the proxy where the
// typeid uses AutoProxy (Queue, JoinableQueue, AsyncResult): those get exactly 3.13's list
// (with shutdown, which older clients simply gain), while the fixed proxy classes of every other
// typeid (ListProxy, DictProxy, AcquirerProxy, ...) ignore the tuple and send only the calls
// their version knows. The server accepts the whole list from any client.
//
// What cannot work on a Go server, by design: Pool (it runs Python functions: creating one
// answers a '#TRACEBACK' with [ErrPoolUnsupported]), Barrier(action=...) ([ErrBarrierAction])
// and list.sort(key=...) (NotImplementedError). Value does not check its value against the
// typecode, like CPython's managers.Value; Array checks items like array.array.
//
// It fails if one of the typeids is already registered in r.
func RegisterSyncManager(r *Registry) error {
	queueNew := func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		v, err := bindArgs("Queue.__init__", args, kwargs, opt("maxsize", int64(0)))
		if err != nil {
			return nil, err
		}
		n, big, ok := asInt(v[0])
		if !ok {
			return nil, typeErrorf("'>' not supported between instances of '%s' and 'int'", pickle.TypeName(v[0]))
		}
		if big && n > 0 || n > int64(int(^uint(0)>>1)) {
			return nil, pyErr("OverflowError", "maxsize too large for mpgo")
		}
		return NewQueue(int(n)), nil
	}
	fixed := func(f func() Object) func(context.Context, pickle.Tuple, *pickle.Dict) (Object, error) {
		return func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			if len(args) > 0 || (kwargs != nil && kwargs.Len() > 0) {
				return nil, typeErrorf("%T() takes no arguments", f())
			}
			return f(), nil
		}
	}
	lockNew := func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		if len(args) > 0 || (kwargs != nil && kwargs.Len() > 0) {
			return nil, typeErrorf("lock() takes no arguments")
		}
		return NewLock(), nil
	}
	rlockNew := func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		return NewRLock(), nil // _thread.RLock ignores its arguments
	}
	acquirer := []string{"acquire", "release"}
	queueExposed := []string{"empty", "full", "get", "get_nowait", "join", "put", "put_nowait", "qsize", "shutdown", "task_done"}
	types := []struct {
		id string
		t  Type
	}{
		{"Queue", Type{New: queueNew, Exposed: queueExposed}},
		{"JoinableQueue", Type{New: queueNew, Exposed: queueExposed}},
		{"Event", Type{New: fixed(func() Object { return NewEvent() }), Exposed: []string{"is_set", "set", "clear", "wait"}}},
		{"Lock", Type{New: lockNew, Exposed: acquirer}},
		{"RLock", Type{New: rlockNew, Exposed: acquirer}},
		{"Semaphore", Type{New: newSemaphoreFromArgs(false), Exposed: acquirer}},
		{"BoundedSemaphore", Type{New: newSemaphoreFromArgs(true), Exposed: acquirer}},
		{"Condition", Type{New: newConditionFromArgs, Exposed: []string{"acquire", "release", "wait", "notify", "notify_all"}}},
		{"Barrier", Type{New: newBarrierFromArgs, Exposed: []string{"__getattribute__", "wait", "abort", "reset"}}},
		{"Pool", Type{New: newPool,
			Exposed: []string{"apply", "apply_async", "close", "imap", "imap_unordered", "join", "map", "map_async", "starmap", "starmap_async", "terminate"},
			MethodToTypeID: map[string]string{"apply_async": "AsyncResult", "map_async": "AsyncResult", "starmap_async": "AsyncResult",
				"imap": "Iterator", "imap_unordered": "Iterator"}}},
		{"list", Type{New: newListFromArgs, Exposed: slices.Clone(listMethods)}},
		{"dict", Type{New: newDictFromArgs, Exposed: slices.Clone(dictMethods),
			MethodToTypeID: map[string]string{"__iter__": "Iterator"}}},
		{"Value", Type{New: newValueFromArgs, Exposed: []string{"get", "set"}}},
		{"Array", Type{New: newArrayFromArgs, Exposed: slices.Clone(arrayMethods)}},
		{"Namespace", Type{New: newNamespaceFromArgs, Exposed: []string{"__getattribute__", "__setattr__", "__delattr__"}}},
		{"Iterator", Type{Exposed: slices.Clone(iteratorMethods)}},
		{"AsyncResult", Type{Exposed: []string{"get", "ready", "successful", "wait"}}},
	}
	for _, x := range types {
		if err := r.Register(x.id, x.t); err != nil {
			return fmt.Errorf("managers: RegisterSyncManager: %w", err)
		}
	}
	return nil
}
