package compat_tests

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// The Go client (managers.Dial) against CPython manager servers of every installed version
// (python_fixtures/client_server.py: a SyncManager, or a BaseManager with registered callables),
// with CPython clients (python_fixtures/client_consumer.py) on the other side of the objects.

// clientEnv is one server the client scenarios run against.
type clientEnv struct {
	addr     string // host:port
	key      []byte
	py2      bool   // the server is CPython 2.7
	server   python // the server's interpreter (zero for mpgo)
	consumer python // the interpreter of the Python clients
	mpgo     bool
}

func randomKey(t testing.TB) []byte {
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// startClientServer starts python_fixtures/client_server.py and returns its environment.
func startClientServer(t *testing.T, py python, mode string) clientEnv {
	t.Helper()
	key := randomKey(t)
	p := startPython(t, py, "client_server.py", "--authkey-hex", hexKey(key), "--mode", mode)
	var info struct {
		Host string
		Port int
	}
	p.JSONLine(60*time.Second, &info)
	return clientEnv{addr: fmt.Sprintf("%s:%d", info.Host, info.Port), key: key, py2: py.IsPy2(), server: py, consumer: py}
}

func (e clientEnv) dial(t testing.TB) *managers.Client {
	t.Helper()
	cfg := &managers.ClientConfig{AuthKey: e.key}
	if e.py2 {
		cfg.Dialect = managers.DialectPython2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := managers.Dial(ctx, "tcp", e.addr, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", e.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e clientEnv) consumerArgs(tok managers.Token, op string, arg ...string) []string {
	args := append(tcpArgs(e.addr), "--authkey-hex", hexKey(e.key), "--typeid", tok.TypeID, "--ident", tok.ID, op)
	return append(args, arg...)
}

// plainValue turns client results into comparable Go values: Python 2 str becomes string,
// tuples and lists []any, dicts map[string]any.
func plainValue(v any) any {
	switch t := v.(type) {
	case pickle.Py2String:
		return string(t)
	case pickle.Tuple:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plainValue(x)
		}
		return out
	case []any:
		return plainValue(pickle.Tuple(t))
	case *pickle.List:
		return plainValue(pickle.Tuple(t.Items))
	case *pickle.Dict:
		out := map[string]any{}
		for _, it := range t.Items() {
			out[fmt.Sprint(plainValue(it.Key))] = plainValue(it.Value)
		}
		return out
	case int:
		return int64(t)
	}
	return v
}

// jsonValue normalises a JSON-decoded value the same way (numbers without a fraction -> int64).
func jsonValue(v any) any {
	switch t := v.(type) {
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonValue(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = jsonValue(x)
		}
		return out
	}
	return v
}

func checkEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	g, w := jsonValue(plainValue(got)), jsonValue(plainValue(want))
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %#v, want %#v", what, g, w)
	}
}

func must[T any](t testing.TB, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func objectCount(t testing.TB, c *managers.Client) int {
	t.Helper()
	n, err := c.NumberOfObjects(ctxT(t))
	if err != nil {
		t.Fatalf("number_of_objects: %v", err)
	}
	return n
}

// scenarioQueue: Go puts, a Python consumer gets; a Python producer puts, Go gets; queue.Empty.
func scenarioQueue(t *testing.T, env clientEnv, c *managers.Client) {
	ctx := ctxT(t)
	n0 := objectCount(t, c)
	p := must[*managers.Proxy](t, "create Queue")(c.Create(ctx, "Queue", nil, nil))
	q := managers.QueueProxy{Proxy: p}
	consumer := startPython(t, env.consumer, "client_consumer.py", env.consumerArgs(p.Token(), "get", "5")...)
	items := []any{"a", 1, 2.5, []any{int64(1), "x"}, map[string]any{"k": "v"}}
	for _, it := range items {
		if err := q.Put(ctx, it); err != nil {
			t.Fatalf("put %v: %v", it, err)
		}
	}
	var got struct{ Items []any }
	consumer.JSONLine(60*time.Second, &got)
	consumer.Wait(30 * time.Second)
	checkEqual(t, "items the Python consumer got", got.Items, items)

	var ok struct{ OK bool }
	runPythonJSON(t, env.consumer, &ok, "client_consumer.py", env.consumerArgs(p.Token(), "put", `[10, "b", [1, 2]]`)...)
	for _, want := range []any{10, "b", []any{1, 2}} {
		v, err := q.GetTimeout(ctx, 20*time.Second)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		checkEqual(t, "item from Python", v, want)
	}
	if _, err := q.GetTimeout(ctx, 50*time.Millisecond); !managers.IsQueueEmpty(err) {
		t.Errorf("get(timeout) on an empty queue: %v, want queue.Empty", err)
	}
	if _, err := q.GetNowait(ctx); !managers.IsQueueEmpty(err) {
		t.Errorf("get_nowait on an empty queue: %v, want queue.Empty", err)
	}
	if n := must[int](t, "qsize")(q.Qsize(ctx)); n != 0 {
		t.Errorf("qsize = %d", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "qsize", nil, nil); err != managers.ErrProxyClosed {
		t.Errorf("call after Close: %v", err)
	}
	if n := objectCount(t, c); n != n0 {
		t.Errorf("number_of_objects after Close = %d, want %d", n, n0)
	}
}

// scenarioDictList: dict and list operations and their exceptions.
func scenarioDictList(t *testing.T, env clientEnv, c *managers.Client) {
	ctx := ctxT(t)
	n0 := objectCount(t, c)
	dp := must[*managers.Proxy](t, "create dict")(c.Create(ctx, "dict", nil, nil))
	d := managers.DictProxy{Proxy: dp}
	must[struct{}](t, "set")(struct{}{}, d.Set(ctx, "a", 1))
	must[struct{}](t, "set")(struct{}{}, d.Set(ctx, "b", "x"))
	must[struct{}](t, "update")(struct{}{}, d.Update(ctx, map[string]any{"c": 3.5}))
	checkEqual(t, "len", must[int](t, "len")(d.Len(ctx)), 3)
	checkEqual(t, "d['a']", must[any](t, "get")(d.Get(ctx, "a")), 1)
	checkEqual(t, "d.get('zz', 7)", must[any](t, "get default")(d.GetDefault(ctx, "zz", 7)), 7)
	if _, err := d.Get(ctx, "zz"); !managers.IsKeyError(err) {
		t.Errorf("d['zz']: %v, want KeyError", err)
	} else if exc := managers.PythonException(err); exc == nil || len(exc.Args) != 1 || plainValue(exc.Args[0]) != "zz" {
		t.Errorf("KeyError args: %#v", exc)
	}
	keys := must[[]any](t, "keys")(d.Keys(ctx))
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(plainValue(keys[i])) < fmt.Sprint(plainValue(keys[j])) })
	checkEqual(t, "keys (sorted: 2.7 dicts have no order)", keys, []any{"a", "b", "c"})
	items := must[[]pickle.DictItem](t, "items")(d.Items(ctx))
	found := false
	for _, it := range items {
		found = found || (plainValue(it.Key) == "b" && plainValue(it.Value) == "x")
	}
	if len(items) != 3 || !found {
		t.Errorf("items = %#v", items)
	}
	must[struct{}](t, "delete")(struct{}{}, d.Delete(ctx, "a"))
	if has := must[bool](t, "contains")(d.Contains(ctx, "a")); has {
		t.Error("'a' still in d")
	}
	if _, err := c.Create(ctx, "nosuchtype", nil, nil); !managers.IsRemoteTraceback(err) {
		t.Errorf("create of an unknown typeid: %v, want a remote traceback", err)
	}

	lp := must[*managers.Proxy](t, "create list")(c.Create(ctx, "list", pickle.Tuple{pickle.NewList(int64(0))}, nil))
	l := managers.ListProxy{Proxy: lp}
	must[struct{}](t, "append")(struct{}{}, l.Append(ctx, 1))
	must[struct{}](t, "extend")(struct{}{}, l.Extend(ctx, 2, 3))
	checkEqual(t, "len(l)", must[int](t, "len")(l.Len(ctx)), 4)
	checkEqual(t, "l[1:3]", must[[]any](t, "slice")(l.Slice(ctx, 1, 3)), []any{1, 2})
	checkEqual(t, "l[-1]", must[any](t, "get")(l.Get(ctx, -1)), 3)
	checkEqual(t, "l.pop(-1)", must[any](t, "pop")(l.Pop(ctx, -1)), 3)
	must[struct{}](t, "set")(struct{}{}, l.Set(ctx, 0, "zero"))
	checkEqual(t, "l[:]", must[[]any](t, "items")(l.Items(ctx)), []any{"zero", 1, 2})
	if _, err := l.Get(ctx, 10); !managers.IsIndexError(err) {
		t.Errorf("l[10]: %v, want IndexError", err)
	}
	var consumed struct{ Value any }
	runPythonJSON(t, env.consumer, &consumed, "client_consumer.py", env.consumerArgs(lp.Token(), "value")...)
	checkEqual(t, "list read by Python", consumed.Value, []any{"zero", 1, 2})
	sum, err := managers.CallInto[[]int](ctx, lp, "__getitem__", pickle.NewObject(pickle.Global{Module: "builtins", Name: "slice"}, int64(1), nil, nil))
	if err != nil || !reflect.DeepEqual(sum, []int{1, 2}) {
		t.Errorf("CallInto[[]int] = %v, %v", sum, err)
	}
	dp.Close()
	lp.Close()
	if n := objectCount(t, c); n != n0 {
		t.Errorf("number_of_objects after Close = %d, want %d", n, n0)
	}
}

// scenarioCounter: registered Python callables, #PROXY results via method_to_typeid, #ERROR,
// #TRACEBACK, refcounts.
func scenarioCounter(t *testing.T, env clientEnv, c *managers.Client) {
	ctx := ctxT(t)
	n0 := objectCount(t, c)
	cp := must[*managers.Proxy](t, "create Counter")(c.Create(ctx, "Counter", pickle.Tuple{5}, nil))
	if n := objectCount(t, c); n != n0+1 {
		t.Errorf("number_of_objects after create = %d, want %d", n, n0+1)
	}
	ex := cp.Exposed()
	sort.Strings(ex)
	if strings.Join(ex, ",") != "child,child,fail,incr,value" {
		t.Errorf("exposed = %v", ex)
	}
	checkEqual(t, "incr(2)", must[any](t, "incr")(cp.Call(ctx, "incr", pickle.Tuple{2}, nil)), 7)
	kw := pickle.NewDict()
	_ = kw.Set("k", 3)
	checkEqual(t, "incr(k=3)", must[any](t, "incr")(cp.Call(ctx, "incr", nil, kw)), 10)
	if _, err := cp.Call(ctx, "fail", pickle.Tuple{"boom"}, nil); !managers.IsKeyError(err) {
		t.Errorf("fail: %v, want KeyError", err)
	}
	if _, err := cp.Call(ctx, "nosuchmethod", nil, nil); !managers.IsRemoteTraceback(err) {
		t.Errorf("unexposed method: %v, want a remote traceback", err)
	}
	if s, err := cp.Call(ctx, "__repr__", nil, nil); err != nil || !strings.Contains(fmt.Sprint(plainValue(s)), "Counter") {
		t.Errorf("__repr__ = %v, %v", s, err)
	}
	v := must[any](t, "child")(cp.Call(ctx, "child", nil, nil))
	child, ok := v.(*managers.Proxy)
	if !ok {
		t.Fatalf("child() returned %T, want *managers.Proxy", v)
	}
	if child.TypeID() != "Child" || !pickle.Equal(child.Token().Address, c.Address()) {
		t.Errorf("child token = %v", child.Token())
	}
	if n := objectCount(t, c); n != n0+2 {
		t.Errorf("number_of_objects with the child = %d, want %d", n, n0+2)
	}
	checkEqual(t, "child.add(1)", must[any](t, "add")(child.Call(ctx, "add", pickle.Tuple{1}, nil)), 11)
	methods := must[[]string](t, "get_methods")(c.GetMethods(ctx, child.Token()))
	sort.Strings(methods)
	if strings.Join(methods, ",") != "add,get" {
		t.Errorf("get_methods = %v", methods)
	}
	info := must[string](t, "debug_info")(c.DebugInfo(ctx))
	if !strings.Contains(info, cp.Token().ID) || !strings.Contains(info, "refcount=1") {
		t.Errorf("debug_info does not show the counter with refcount 1:\n%s", info)
	}
	if err := child.Close(); err != nil {
		t.Fatal(err)
	}
	if err := child.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	checkEqual(t, "value after the child closed", must[any](t, "value")(cp.Call(ctx, "value", nil, nil)), 10)
	cp.Close()
	if n := objectCount(t, c); n != n0 {
		t.Errorf("number_of_objects after Close = %d, want %d", n, n0)
	}

	// get_queue: a registered callable returning one shared queue.
	gq := must[*managers.Proxy](t, "get_queue")(c.Create(ctx, "get_queue", nil, nil))
	q := managers.QueueProxy{Proxy: gq}
	must[struct{}](t, "put")(struct{}{}, q.Put(ctx, "shared"))
	var got struct{ Items []any }
	runPythonJSON(t, env.consumer, &got, "client_consumer.py", env.consumerArgs(gq.Token(), "get", "1")...)
	checkEqual(t, "shared queue item", got.Items, []any{"shared"})
	gq.Close()
	if n := objectCount(t, c); n != n0 {
		t.Errorf("number_of_objects at the end = %d, want %d", n, n0)
	}
}

// scenarioNested: proxies passed as arguments are stored by reference (3.x) or by value (2.7),
// and read back through Python after the Go side closed its own proxies.
func scenarioNested(t *testing.T, env clientEnv, c *managers.Client) {
	ctx := ctxT(t)
	n0 := objectCount(t, c)
	dp := must[*managers.Proxy](t, "create dict")(c.Create(ctx, "dict", nil, nil))
	d := managers.DictProxy{Proxy: dp}
	lp := must[*managers.Proxy](t, "create list")(c.Create(ctx, "list", pickle.Tuple{pickle.NewList(int64(1), int64(2))}, nil))
	must[struct{}](t, "d['l'] = l")(struct{}{}, d.Set(ctx, "l", lp))
	must[struct{}](t, "append")(struct{}{}, managers.ListProxy{Proxy: lp}.Append(ctx, 3))
	autoNested := env.mpgo || env.server.AtLeast(3, 9) || env.py2
	// A 2.7 server stores the referent in place of the proxy; mpgo gives a 2.7 client the value.
	byValue := env.py2 || (env.mpgo && env.consumer.IsPy2())
	var qp *managers.Proxy
	if !env.py2 {
		qp = must[*managers.Proxy](t, "create Queue")(c.Create(ctx, "Queue", nil, nil))
		err := d.Set(ctx, "q", qp)
		switch {
		case autoNested && err != nil:
			t.Fatalf("d['q'] = queue proxy: %v", err)
		case !autoNested && !managers.IsRemoteTraceback(err):
			t.Errorf("d['q'] = queue proxy on %s: %v, want the AutoProxy manager_owned traceback", env.server.Name(), err)
		}
		must[struct{}](t, "put")(struct{}{}, managers.QueueProxy{Proxy: qp}.Put(ctx, "via-dict"))
	}
	// Read back through Go: a nested proxy comes back as a *Proxy (3.x) or the list (2.7).
	v := must[any](t, "d['l']")(d.Get(ctx, "l"))
	if p, ok := v.(*managers.Proxy); ok {
		checkEqual(t, "nested list via Go", must[[]any](t, "items")(managers.ListProxy{Proxy: p}.Items(ctx)), []any{1, 2, 3})
		p.Close()
	} else if env.py2 {
		// 2.7 stored the list itself in place of the proxy, so the append shows.
		checkEqual(t, "nested list value via Go (2.7)", v, []any{1, 2, 3})
	} else {
		t.Errorf("d['l'] = %T, want a proxy", v)
	}
	// The Go side lets go of the list and the queue: the dict keeps them alive.
	lp.Close()
	if qp != nil {
		qp.Close()
	}
	var got struct {
		Kind  string
		Value any
	}
	runPythonJSON(t, env.consumer, &got, "client_consumer.py", env.consumerArgs(dp.Token(), "dictget", "l")...)
	if byValue {
		if got.Kind != "value" {
			t.Errorf("2.7 stores the referent: d['l'] kind %q", got.Kind)
		}
		checkEqual(t, "d['l'] read by Python", got.Value, []any{1, 2, 3})
	} else {
		if got.Kind != "proxy" {
			t.Errorf("d['l'] read by Python is a %s, want a proxy", got.Kind)
		}
		checkEqual(t, "d['l'] read by Python", got.Value, []any{1, 2, 3})
	}
	if qp != nil && autoNested && !byValue {
		runPythonJSON(t, env.consumer, &got, "client_consumer.py", env.consumerArgs(dp.Token(), "dictget", "q")...)
		checkEqual(t, "item from the nested queue", got.Value, "via-dict")
	}
	dp.Close()
	if n := objectCount(t, c); n != n0 {
		t.Errorf("number_of_objects after Close = %d, want %d", n, n0)
	}
}

// scenarioConcurrent: 100 goroutines share one client, half of them blocking in get.
func scenarioConcurrent(t *testing.T, env clientEnv, c *managers.Client) {
	ctx := ctxT(t)
	p := must[*managers.Proxy](t, "create Queue")(c.Create(ctx, "Queue", nil, nil))
	defer p.Close()
	q := managers.QueueProxy{Proxy: p}
	const workers, per = 50, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]int{}
	errs := make(chan error, 2*workers)
	for g := 0; g < workers; g++ {
		wg.Add(2)
		go func() { // getters first, so they block
			defer wg.Done()
			for i := 0; i < per; i++ {
				v, err := q.GetTimeout(ctx, 50*time.Second)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[v.(int64)]++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := q.Put(ctx, int64(g*per+i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != workers*per {
		t.Errorf("got %d distinct items, want %d", len(seen), workers*per)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("item %d received %d times", k, n)
		}
	}
}

func runClientScenarios(t *testing.T, env clientEnv, names ...string) {
	all := map[string]func(*testing.T, clientEnv, *managers.Client){
		"queue": scenarioQueue, "dict_list": scenarioDictList, "counter": scenarioCounter,
		"nested": scenarioNested, "concurrent": scenarioConcurrent,
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := env.dial(t)
			all[name](t, env, c)
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestClientSyncManager(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		env := startClientServer(t, py, "sync")
		runClientScenarios(t, env, "queue", "dict_list", "counter", "nested", "concurrent")
	})
}

func TestClientBaseManager(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		env := startClientServer(t, py, "base")
		runClientScenarios(t, env, "counter")
	})
}

// TestClientDialectAuto: the zero config detects a 2.7 server from its reply.
func TestClientDialectAuto(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		env := startClientServer(t, py, "base")
		c, err := managers.Dial(ctxT(t), "tcp", env.addr, &managers.ClientConfig{AuthKey: env.key})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Python2() != py.IsPy2() {
			t.Errorf("Python2() = %v", c.Python2())
		}
		p, err := c.Create(ctxT(t), "Counter", pickle.Tuple{1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, "incr", must[any](t, "incr")(p.Call(ctxT(t), "incr", nil, nil)), 2)
		p.Close()
		if _, err := managers.Dial(ctxT(t), "tcp", env.addr, &managers.ClientConfig{AuthKey: []byte("wrong")}); err == nil {
			t.Error("Dial with a wrong key succeeded")
		}
	})
}

// goCounter is the Go twin of client_server.py's Counter, for the mpgo server.
type goCounter struct {
	mu sync.Mutex
	n  int64
}

func (c *goCounter) PyRepr() string { return fmt.Sprintf("<Counter %d>", c.n) }

func (c *goCounter) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name {
	case "incr":
		k := int64(1)
		if len(args) > 0 {
			k = args[0].(int64)
		} else if v, ok := kwargs.Get("k"); ok {
			k = v.(int64)
		}
		c.n += k
		return c.n, nil
	case "value":
		return c.n, nil
	case "fail":
		return nil, managers.NewPyException("builtins", "KeyError", args...)
	case "child":
		return &goChild{n: c.n}, nil
	}
	return nil, fmt.Errorf("no method %s", name)
}

type goChild struct {
	mu sync.Mutex
	n  int64
}

func (c *goChild) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name == "add" {
		c.n += args[0].(int64)
	}
	return c.n, nil
}

// startMpgoServer runs mpgo's own server in process with SyncManager's typeids and the same
// extras as client_server.py.
func startMpgoServer(t *testing.T, consumer python) clientEnv {
	t.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister("Counter", managers.Type{
		New: func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (managers.Object, error) {
			c := &goCounter{}
			if len(args) > 0 {
				c.n = args[0].(int64)
			}
			return c, nil
		},
		Exposed:        []string{"incr", "value", "fail", "child"},
		MethodToTypeID: map[string]string{"child": "Child"},
	})
	reg.MustRegister("Child", managers.Type{Exposed: []string{"get", "add"}})
	reg.MustRegister("get_queue", managers.Singleton(managers.NewQueue(0)))
	key := randomKey(t)
	_, addr := serveGo(t, "tcp", "127.0.0.1:0", key, reg, 0)
	return clientEnv{addr: addr, key: key, consumer: consumer, mpgo: true}
}

// TestClientMpgoServer runs the same scenarios against mpgo's own server, with Python clients
// of every version on the other side.
func TestClientMpgoServer(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		env := startMpgoServer(t, py)
		runClientScenarios(t, env, "queue", "dict_list", "counter", "nested", "concurrent")
	})
}

// TestMpgoCallInspect runs `mpgo call` and `mpgo inspect` against CPython managers.
func TestMpgoCallInspect(t *testing.T) {
	bin := mpgoBinary(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		env := startClientServer(t, py, "sync")
		run := func(args ...string) string {
			t.Helper()
			// The key in hex: the random key may hold a NUL, which an environment variable cannot.
			args = append([]string{args[0], "--authkey-hex", hexKey(env.key)}, args[1:]...)
			cmd := exec.CommandContext(ctxT(t), bin, args...)
			cmd.Env = filterEnv(os.Environ(), "MPGO_AUTHKEY")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("mpgo %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if out := run("call", "--address", env.addr, "--create-args", "[5]", "Counter", "incr", "2"); out != "7" {
			t.Errorf("call Counter incr 2 = %q, want 7", out)
		}
		if out := run("call", "--address", env.addr, "--json", "--create-args", `[[1, "a", null]]`, "list", "__len__"); out != "3" {
			t.Errorf("call list __len__ = %q", out)
		}
		if out := run("call", "--address", env.addr, "get_queue", "put", "hello"); out != "None" {
			t.Errorf("call get_queue put = %q", out)
		}
		if out := run("call", "--address", env.addr, "--json", "get_queue", "get"); out != `"hello"` {
			t.Errorf("call get_queue get = %q", out)
		}
		out := run("inspect", "--address", env.addr)
		if !strings.Contains(out, "number_of_objects: 0") {
			t.Errorf("inspect:\n%s", out)
		}
		var info struct {
			NumberOfObjects int  `json:"number_of_objects"`
			Python2         bool `json:"python2"`
		}
		if err := json.Unmarshal([]byte(run("inspect", "--json", "--address", env.addr)), &info); err != nil || info.Python2 != py.IsPy2() {
			t.Errorf("inspect --json: %+v %v", info, err)
		}
	})
}
