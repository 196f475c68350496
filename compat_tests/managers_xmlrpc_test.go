package compat_tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// CPython clients of a manager with serializer='xmlrpclib' against the Go server, on the same
// port as pickle clients (python_fixtures/mgr_xmlrpc.py).

type xmlrpcResult struct {
	NStart         int `json:"n_start"`
	NEnd           int `json:"n_end"`
	Values         [][3]any
	Cross          map[string]any
	Unserializable [2]string
	Bigint         [2]string
	I8             [2]string
	After          [2]string
	ClientSide     [2]string `json:"client_side"`
	Errors         map[string][2]string
	Dict           struct {
		Items    [][2]any
		Get      []int
		Len      int
		Contains bool
		Missing  [2]string
		Iter     [2]string
		Copy     map[string]any
	}
	List struct {
		Len        int
		Item       string
		IndexError [2]string `json:"index_error"`
	}
	Value     []float64
	Array     []any
	Namespace []any
	Lock      []any
	Event     []bool
	Threads   struct {
		Calls    int
		Failures []string
	}
}

func TestServerXMLRPCLib(t *testing.T) {
	env := startGoServer(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		var r xmlrpcResult
		runPythonJSON(t, py, &r, "mgr_xmlrpc.py", env.args()...)
		for _, v := range r.Values {
			if v[1] != true {
				t.Errorf("queue round trip of %v: got %v", v[0], v[2])
			}
		}
		if len(r.Values) < 16 {
			t.Errorf("only %d values tried", len(r.Values))
		}
		// A tuple becomes a list; bytes an xmlrpclib Binary (Python 2: a str stays a str), and
		// back a bytes (str) for the pickle client.
		wantX, wantP := "[int str Binary dict]", "[int bytes dict]"
		if py.IsPy2() {
			wantX, wantP = "[int unicode str dict]", "[int str dict]"
		}
		if fmt.Sprint(r.Cross["xml_got"]) != wantX || r.Cross["xml_equal"] != true {
			t.Errorf("xmlrpclib client got %v (equal: %v) from the pickle client, want %s", r.Cross["xml_got"], r.Cross["xml_equal"], wantX)
		}
		if fmt.Sprint(r.Cross["pickle_got"]) != wantP || r.Cross["pickle_equal"] != true {
			t.Errorf("pickle client got %v (equal: %v) from the xmlrpclib client, want %s", r.Cross["pickle_got"], r.Cross["pickle_equal"], wantP)
		}
		if fmt.Sprint(r.Cross["pickle_datetime"]) != "[DateTime 20260102T15:04:05]" {
			t.Errorf("pickle client got %v for the xmlrpclib client's DateTime", r.Cross["pickle_datetime"])
		}
		check := func(what string, got [2]string, class, text string) {
			t.Helper()
			if got[0] != class || !strings.Contains(got[1], text) {
				t.Errorf("%s: got %s %q, want %s containing %q", what, got[0], got[1], class, text)
			}
		}
		check("unserializable item", r.Unserializable, "RemoteError", "TypeError: cannot marshal <class 'set'> objects")
		check("64-bit int item", r.I8, "ok", "1099511627776")
		check("big int item", r.Bigint, "RemoteError", "OverflowError: int exceeds XML-RPC limits")
		check("next call", r.After, "ok", "still usable")
		check("client-side refusal", r.ClientSide, "TypeError", "cannot marshal")
		check("KeyError", r.Errors["key_error"], "RemoteError", "KeyError: 'k'")
		check("IndexError", r.Errors["index_error"], "RemoteError", "IndexError: list index out of range")
		check("ValueError", r.Errors["value_error"], "RemoteError", "ValueError: bad value")
		check("TypeError", r.Errors["type_error"], "RemoteError", "TypeError: unhashable type: 'list'")
		check("queue.Empty", r.Errors["empty"], "RemoteError", "queue.Empty")
		check("Go error", r.Errors["go_error"], "RemoteError", "RuntimeError: a Go failure")
		check("unserializable result", r.Errors["unserializable"], "RemoteError", "cannot marshal")
		check("after errors", r.Errors["after"], "RemoteError", "KeyError: 'k'")
		if fmt.Sprint(r.Dict.Items) != "[[a 1] [b [1 2]]]" || fmt.Sprint(r.Dict.Get) != "[1 2]" || r.Dict.Len != 2 || !r.Dict.Contains || len(r.Dict.Copy) != 2 {
			t.Errorf("dict: %+v", r.Dict)
		}
		check("dict missing key", r.Dict.Missing, "RemoteError", "KeyError: 'nope'")
		check("dict iteration (a proxy)", r.Dict.Iter, "RemoteError", "cannot marshal <class 'multiprocessing.managers.Token'> objects")
		if r.List.Len != 4 || r.List.Item != "x" {
			t.Errorf("list: %+v", r.List)
		}
		check("list index", r.List.IndexError, "RemoteError", "IndexError")
		if fmt.Sprint(r.Value) != "[42 0.5]" || fmt.Sprint(r.Array) != "[3 10 [10 2 3]]" {
			t.Errorf("Value: %v, Array: %v", r.Value, r.Array)
		}
		if len(r.Namespace) != 3 || fmt.Sprint(r.Namespace[:2]) != "[1 two]" || !strings.Contains(fmt.Sprint(r.Namespace[2]), "AttributeError") {
			t.Errorf("Namespace: %v", r.Namespace)
		}
		if fmt.Sprint(r.Lock) != "[true false <nil>]" || fmt.Sprint(r.Event) != "[true true]" {
			t.Errorf("Lock: %v, Event: %v", r.Lock, r.Event)
		}
		if r.Threads.Calls != 100 || len(r.Threads.Failures) > 0 {
			t.Errorf("concurrent clients: %d calls, failures %v", r.Threads.Calls, r.Threads.Failures)
		}
		if r.NEnd != r.NStart {
			t.Errorf("number_of_objects: %d at the end, %d at the start", r.NEnd, r.NStart)
		}
	})
}

// TestClientXMLRPCLib: the Go client with Serializer xmlrpclib against CPython's own manager
// server with serializer='xmlrpclib' (python_fixtures/client_server.py), every version.
func TestClientXMLRPCLib(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		key := randomKey(t)
		p := startPython(t, py, "client_server.py", "--authkey-hex", hexKey(key), "--mode", "sync", "--serializer", "xmlrpclib")
		var info struct {
			Host string
			Port int
		}
		p.JSONLine(60*time.Second, &info)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := managers.Dial(ctx, "tcp", fmt.Sprintf("%s:%d", info.Host, info.Port),
			&managers.ClientConfig{AuthKey: key, Serializer: managers.SerializerXMLRPCLib})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n0, err := c.NumberOfObjects(ctx)
		if err != nil {
			t.Fatal(err)
		}

		counter, err := c.Create(ctx, "Counter", pickle.Tuple{int64(40)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := counter.Call(ctx, "incr", pickle.Tuple{int64(2)}, nil); err != nil || v != int64(42) {
			t.Fatalf("incr: %v, %v", v, err)
		}
		// CPython's xmlrpclib server sends the KeyError as a struct of its __dict__.
		_, err = counter.Call(ctx, "fail", pickle.Tuple{"k"}, nil)
		var re *managers.RemoteError
		if !errors.As(err, &re) || re.Kind != managers.KindError || !strings.Contains(err.Error(), "cannot carry") {
			t.Errorf("fail: %v; want an #ERROR RemoteError saying the exception was lost", err)
		}
		if v, err := counter.Call(ctx, "value", nil, nil); err != nil || v != int64(42) {
			t.Fatalf("value after an error: %v, %v", v, err)
		}
		// A method_to_typeid result: the token cannot travel.
		if _, err := counter.Call(ctx, "child", nil, nil); !errors.As(err, &re) || re.Kind != managers.KindUnserializable || !strings.Contains(re.Traceback, "Token") {
			t.Errorf("child: %v; want #UNSERIALIZABLE naming Token", err)
		}

		q, err := c.Create(ctx, "get_queue", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct{ put, want any }{
			{"h\u00e5", "h\u00e5"},
			{pickle.Tuple{int64(1), nil, true, 2.5}, pickle.NewList(int64(1), nil, true, 2.5)},
			{[]byte{0, 0xff}, []byte{0, 0xff}},
			{func() any { d := pickle.NewDict(); _ = d.Set("k", pickle.NewList()); return d }(), func() any { d := pickle.NewDict(); _ = d.Set("k", pickle.NewList()); return d }()},
		} {
			if _, err := q.Call(ctx, "put", pickle.Tuple{v.put}, nil); err != nil {
				t.Fatalf("put %s: %v", pickle.Repr(v.put), err)
			}
			got, err := q.Call(ctx, "get", nil, nil)
			if err != nil || !pickle.Equal(got, v.want) {
				t.Errorf("get: %s, %v; want %s", pickle.Repr(got), err, pickle.Repr(v.want))
			}
		}
		// What the Go client cannot encode fails before anything is sent.
		set, _ := pickle.NewSet()
		if _, err := q.Call(ctx, "put", pickle.Tuple{set}, nil); err == nil || !strings.Contains(err.Error(), "cannot marshal <class 'set'>") {
			t.Errorf("put of a set: %v", err)
		}

		d, err := c.Create(ctx, "dict", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Call(ctx, "__setitem__", pickle.Tuple{"a", int64(1)}, nil); err != nil {
			t.Fatal(err)
		}
		if v, err := d.Call(ctx, "__getitem__", pickle.Tuple{"a"}, nil); err != nil || v != int64(1) {
			t.Fatalf("d['a']: %v, %v", v, err)
		}
		// mpgo call speaks it too.
		cmd := exec.CommandContext(ctx, mpgoBinary(t), "call", "--address", fmt.Sprintf("%s:%d", info.Host, info.Port),
			"--authkey-hex", hexKey(key), "--serializer", "xmlrpclib", "--json", "--create-args", `[[1, "a"]]`, "list", "__getitem__", "1")
		cmd.Env = filterEnv(os.Environ(), "MPGO_AUTHKEY")
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != `"a"` {
			t.Errorf("mpgo call --serializer xmlrpclib: %v\n%s", err, out)
		}
		counter.Close()
		q.Close()
		d.Close()
		// child() left one object on CPython's server (it cannot send the proxy, and keeps the
		// object it made for it).
		if n, err := c.NumberOfObjects(ctx); err != nil || n != n0+1 {
			t.Errorf("number_of_objects: %d, %v; want %d", n, err, n0+1)
		}
	})
}

// TestManagersCPythonSuiteXMLRPCLib runs CPython's own test of a manager with
// serializer='xmlrpclib' (test._test_multiprocessing._TestRemoteManager.test_remote, 2.7:
// test.test_multiprocessing) of every installed Python against an in-process mpgo server, its
// QueueManager and QueueManager2 pointed at that server (python_fixtures/cpython_manager_tests.py
// --xmlrpclib).
func TestManagersCPythonSuiteXMLRPCLib(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		key := randomKey(t)
		reg := managers.NewRegistry()
		if err := managers.RegisterSyncManager(reg); err != nil {
			t.Fatal(err)
		}
		reg.MustRegister("get_queue", managers.Singleton(managers.NewQueue(0)))
		_, addr := serveGo(t, "tcp", "127.0.0.1:0", key, reg, 1<<20)
		var res suiteResult
		runPythonJSON(t, py, &res, "cpython_manager_tests.py", append(tcpArgs(addr), "--authkey-hex", hexKey(key), "--xmlrpclib")...)
		t.Logf("%s CPython's xmlrpclib manager test against mpgo: run=%d passed=%d failed=%d errors=%d skipped=%d",
			py.Name(), res.Run, res.Passed, res.Failed, res.Errors, res.Skipped)
		if res.Run == 0 || res.Passed != res.Run {
			t.Errorf("%s: run=%d passed=%d", py.Name(), res.Run, res.Passed)
		}
		for _, p := range res.Problems {
			t.Errorf("%s: %s %s: %s", py.Name(), p.Test, p.Kind, p.Reason)
		}
	})
}
