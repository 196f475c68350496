package compat_tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// CPython BaseManager/SyncManager clients of every installed version against the Go server
// (managers.Server) hosted in the test process, and against `mpgo serve`.

// srvMaths is the documentation's Maths example, served through reflection.
type srvMaths struct{}

func (srvMaths) Add(x, y int64) int64 { return x + y }
func (srvMaths) Mul(x, y int64) int64 { return x * y }

// srvCounter has a method_to_typeid method (child) returning a new shared list.
type srvCounter struct {
	mu sync.Mutex
	n  int64
}

func (c *srvCounter) Incr(by int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += by
	return c.n
}

func (c *srvCounter) Child() managers.Object { return managers.NewList(int64(1), int64(2)) }

func (c *srvCounter) PyRepr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("Counter(%d)", c.n)
}

var srvErrorMethods = []string{"key_error", "index_error", "value_error", "type_error", "attribute_error",
	"empty", "full", "go_error", "panic", "unserializable"}

func srvErrors(_ context.Context, name string, _ pickle.Tuple, _ *pickle.Dict) (any, error) {
	switch name {
	case "key_error":
		return nil, managers.NewPyException("builtins", "KeyError", "k")
	case "index_error":
		return nil, managers.NewPyException("builtins", "IndexError", "list index out of range")
	case "value_error":
		return nil, managers.NewPyException("builtins", "ValueError", "bad value")
	case "type_error":
		return nil, &pickle.TypeError{Msg: "unhashable type: 'list'"}
	case "attribute_error":
		return nil, managers.NewPyException("builtins", "AttributeError", "no attribute 'x'")
	case "empty":
		return nil, managers.ErrQueueEmpty
	case "full":
		return nil, managers.ErrQueueFull
	case "go_error":
		return nil, errors.New("a Go failure")
	case "panic":
		panic("deliberate panic")
	case "unserializable":
		return make(chan int), nil
	}
	return nil, fmt.Errorf("no method %s", name)
}

// srvEnv is a Go server hosted by the test.
type srvEnv struct {
	srv   *managers.Server
	addr  string
	key   []byte
	queue *managers.Queue
	unix  bool
}

func (e *srvEnv) args(extra ...string) []string {
	if e.unix {
		return append([]string{"--unix", e.addr, "--authkey-hex", hexKey(e.key)}, extra...)
	}
	return append(append(tcpArgs(e.addr), "--authkey-hex", hexKey(e.key)), extra...)
}

// startGoServer serves the test typeids (and every SyncManager typeid) on 127.0.0.1:0.
func startGoServer(t *testing.T) *srvEnv { return startGoServerOn(t, "tcp", "127.0.0.1:0") }

// startGoServerOn is startGoServer on another network (e.g. a Unix socket).
func startGoServerOn(t *testing.T, network, address string) *srvEnv {
	t.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	q := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(q))
	maths, err := managers.ReflectType(func() *srvMaths { return &srvMaths{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister("Maths", maths)
	counter, err := managers.ReflectType(func() *srvCounter { return &srvCounter{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	counter.MethodToTypeID = map[string]string{"child": "Child"}
	counter.Exposed = []string{"incr"}
	reg.MustRegister("Counter", counter)
	reg.MustRegister("Child", managers.Type{})
	reg.MustRegister("Errors", managers.Type{
		New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
			return managers.ObjectFunc(srvErrors), nil
		},
		Exposed: srvErrorMethods,
	})
	reg.MustRegister("Bounded", managers.Type{New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
		return managers.NewQueue(1), nil
	}})
	key := []byte(fmt.Sprintf("key-%d", time.Now().UnixNano()))
	srv, addr := serveGo(t, network, address, key, reg, 1<<20)
	return &srvEnv{srv: srv, addr: addr, key: key, queue: q, unix: network == "unix"}
}

func TestServerRemoteQueue(t *testing.T) {
	env := startGoServer(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.queue.Put(ctx, "from go"); err != nil {
			t.Fatal(err)
		}
		// Process 1 puts three items and gets one (the Go item, put first).
		var r1 struct {
			Got   []any
			Qsize int
		}
		runPythonJSON(t, py, &r1, "mgr_remote_queue.py", env.args("--put", "a", "b", "c", "--get", "1")...)
		if len(r1.Got) != 1 || r1.Got[0] != "from go" || r1.Qsize != 3 {
			t.Fatalf("putter: got %+v, want [from go] with qsize 3", r1)
		}
		// Process 2 gets two.
		var r2 struct {
			Got   []any
			Qsize int
		}
		runPythonJSON(t, py, &r2, "mgr_remote_queue.py", env.args("--get", "2")...)
		if fmt.Sprint(r2.Got) != "[a b]" || r2.Qsize != 1 {
			t.Fatalf("getter: got %+v, want [a b] with qsize 1", r2)
		}
		// Go gets the last one.
		v, err := env.queue.Get(ctx)
		if err != nil || !pickle.Equal(v, "c") {
			t.Fatalf("Go Get = %#v, %v; want \"c\"", v, err)
		}
		if _, err := env.queue.GetNowait(); !errors.Is(err, managers.ErrQueueEmpty) {
			t.Fatalf("GetNowait on an empty queue: %v", err)
		}
	})
}

func TestServerMaths(t *testing.T) {
	env := startGoServer(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		var r struct{ Add, Mul int }
		runPythonJSON(t, py, &r, "mgr_maths.py", env.args()...)
		if r.Add != 7 || r.Mul != 56 {
			t.Fatalf("add(4, 3) = %d, mul(7, 8) = %d; want 7 and 56", r.Add, r.Mul)
		}
	})
}

func TestServerFeatures(t *testing.T) {
	env := startGoServer(t)
	forEachPython(t, nil, func(t *testing.T, py python) { checkFeatures(t, py, env) })
}

// TestServerUnixSocket runs the feature tour over a Unix socket (token addresses are paths).
func TestServerUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "mpgo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := startGoServerOn(t, "unix", filepath.Join(dir, "m.sock"))
	forEachPython(t, nil, func(t *testing.T, py python) { checkFeatures(t, py, env) })
}

func checkFeatures(t *testing.T, py python, env *srvEnv) {
	{
		var r struct {
			Incr        int
			Child       []int
			ChildProxy  string `json:"child_proxy"`
			Str         string
			Errors      map[string][2]string
			Nested      []int
			NStartJ     int    `json:"n_start"`
			NMidJ       int    `json:"n_mid"`
			NEndJ       int    `json:"n_end"`
			DebugStartJ string `json:"debug_start"`
			DebugMid    string `json:"debug_mid"`
			DebugEndJ   string `json:"debug_end"`
		}
		runPythonJSON(t, py, &r, "mgr_features.py", env.args()...)
		if r.Incr != 5 {
			t.Errorf("incr = %d, want 5", r.Incr)
		}
		if fmt.Sprint(r.Child) != "[1 2 3]" || !strings.HasPrefix(r.ChildProxy, "AutoProxy") {
			t.Errorf("child = %v (%s), want [1 2 3] through an AutoProxy", r.Child, r.ChildProxy)
		}
		if r.Str != "Counter(5)" {
			t.Errorf("str(counter) = %q, want Counter(5)", r.Str)
		}
		if r.NStartJ != 0 || r.DebugStartJ != "" {
			t.Errorf("at start: number_of_objects = %d, debug_info = %q", r.NStartJ, r.DebugStartJ)
		}
		if r.NMidJ != 2 || !strings.Contains(r.DebugMid, "refcount=1\n    Counter(5)") {
			t.Errorf("mid: number_of_objects = %d, debug_info = %q", r.NMidJ, r.DebugMid)
		}
		if r.NEndJ != r.NStartJ || r.DebugEndJ != r.DebugStartJ {
			t.Errorf("at end: number_of_objects = %d, debug_info = %q; want the start values", r.NEndJ, r.DebugEndJ)
		}
		if fmt.Sprint(r.Nested) != "[1 2]" && !(py.IsPy2() && fmt.Sprint(r.Nested) == "[1]") {
			t.Errorf("nested list proxy: %v", r.Nested)
		}
		want := map[string]string{
			"key_error":            "KeyError",
			"index_error":          "IndexError",
			"value_error":          "ValueError",
			"type_error":           "TypeError",
			"attribute_error":      "AttributeError",
			"empty":                "queue.Empty",
			"full":                 "queue.Full",
			"go_error":             "RemoteError",
			"panic":                "RemoteError",
			"unserializable":       "RemoteError",
			"after_panic":          "KeyError",
			"put_full":             "queue.Full",
			"put_timeout":          "queue.Full",
			"get_empty":            "queue.Empty",
			"get_timeout":          "queue.Empty",
			"negative_timeout":     "ValueError",
			"task_done":            "ValueError",
			"not_exposed":          "RemoteError",
			"unknown_ident":        "RemoteError",
			"getvalue_unpicklable": "RemoteError",
		}
		texts := map[string]string{
			"key_error":        "'k'",
			"index_error":      "list index out of range",
			"type_error":       "unhashable type: 'list'",
			"go_error":         "a Go failure",
			"panic":            "deliberate panic",
			"unserializable":   "Unserializable message",
			"negative_timeout": "'timeout' must be a non-negative number",
			"task_done":        "task_done() called too many times",
			"not_exposed":      "KeyError: 'nosuch'",
			"unknown_ident":    "KeyError: 'ffff0000'",
		}
		for name, cls := range want {
			got, ok := r.Errors[name]
			if !ok || got[0] != cls {
				t.Errorf("%s raised %q, want %s", name, got, cls)
				continue
			}
			if txt := texts[name]; txt != "" && !strings.Contains(got[1], txt) {
				t.Errorf("%s: text %q does not contain %q", name, got[1], txt)
			}
		}
		if !py.IsPy2() && !strings.Contains(r.Errors["not_exposed"][1], "AttributeError: method 'nosuch'") {
			t.Errorf("not_exposed: 3.x text should chain the AttributeError: %q", r.Errors["not_exposed"][1])
		}
	}
}

func TestServerManyProcesses(t *testing.T) {
	env := startGoServer(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		const n = 50
		var r struct {
			Items, Sums, Exitcodes []int
		}
		runPythonJSON(t, py, &r, "mgr_many.py", env.args("--procs", fmt.Sprint(n))...)
		if len(r.Items) != n || len(r.Sums) != n {
			t.Fatalf("got %d items and %d sums, want %d", len(r.Items), len(r.Sums), n)
		}
		sort.Ints(r.Items)
		for i := 0; i < n; i++ {
			if r.Items[i] != i || r.Sums[i] != i+1000 {
				t.Fatalf("item %d = %d, sum %d = %d", i, r.Items[i], i, r.Sums[i])
			}
		}
		if fmt.Sprint(r.Exitcodes) != "[0]" {
			t.Fatalf("exit codes %v", r.Exitcodes)
		}
	})
}

// TestServeCommandShutdown runs `mpgo serve` with a --queue, uses the queue from Python, and
// shuts the server down from a Python client: mpgo must exit 0.
func TestServeCommandShutdown(t *testing.T) {
	bin := mpgoBinary(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		key := []byte("serve-key")
		keyFile := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(keyFile, append(key, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--address", "127.0.0.1:0", "--authkey-file", keyFile, "--queue", "get_queue", "--log-level", "debug")
		cmd.WaitDelay = 5 * time.Second
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		t.Cleanup(func() {
			select {
			case <-exited:
			default:
				cmd.Process.Kill()
				<-exited
			}
		})
		sc := bufio.NewScanner(stdout)
		var addr string
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
				addr = a
				break
			}
		}
		go func() { drain(stdout); exited <- cmd.Wait() }()
		if addr == "" {
			t.Fatalf("no address printed\n%s", stderr.String())
		}
		args := append(tcpArgs(addr), "--authkey-hex", hexKey(key))
		var r struct{ Got []any }
		runPythonJSON(t, py, &r, "mgr_remote_queue.py", append(args, "--put", "x", "--get", "1")...)
		if fmt.Sprint(r.Got) != "[x]" {
			t.Fatalf("queue through mpgo serve: %v", r.Got)
		}
		var s struct{ Shutdown any }
		runPythonJSON(t, py, &s, "mgr_shutdown.py", args...)
		select {
		case err := <-exited:
			exited <- err
			if err != nil {
				t.Fatalf("mpgo serve exited with %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("mpgo serve did not exit after shutdown\n%s", stderr.String())
		}
	})
}

// typedJob is what mgr_remote_queue.py --put-records puts.
type typedJob struct {
	ID    int64  `pickle:"id"`
	Name  string `pickle:"name"`
	Sizes []int  `pickle:"sizes"`
	Big   int64  `pickle:"big"`
}

// TestServerTypedQueue: Python clients put dicts in a queue hosted by the Go server; a
// managers.TypedQueue reads them as Go structs (Python 2's str as string, its 64-bit int as
// int64).
func TestServerTypedQueue(t *testing.T) {
	env := startGoServer(t)
	jobs := managers.NewTypedQueue[typedJob](env.queue)
	forEachPython(t, nil, func(t *testing.T, py python) {
		var r struct{ Qsize int }
		runPythonJSON(t, py, &r, "mgr_remote_queue.py", env.args("--put-records", "3")...)
		if r.Qsize != 3 {
			t.Fatalf("qsize %d after 3 puts", r.Qsize)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for i := range 3 {
			j, err := jobs.GetTimeout(ctx, 10*time.Second)
			want := typedJob{ID: int64(i), Name: fmt.Sprintf("job%d", i), Sizes: []int{i, 2 * i}, Big: 1<<40 + int64(i)}
			if err != nil || fmt.Sprint(j) != fmt.Sprint(want) {
				t.Fatalf("item %d: %+v, %v; want %+v", i, j, err, want)
			}
		}
	})
}
