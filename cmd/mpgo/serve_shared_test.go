package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/pickle"
)

// TestServeShared starts serve with --shared objects of several types and uses each as a
// Python client would: the typeid returns the same object every time, with its type's methods.
func TestServeShared(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--address", "127.0.0.1:0", "--authkey", "k", "--log-level", "error",
			"--queue", "jobs",
			"--shared", "counts=dict",
			"--shared", `hits=Value("i", 40)`,
			"--shared", "items=list([1, 2])",
			"--shared", "tasks=JoinableQueue(1)",
			"--shared", "guard=Lock",
			"--shared", "ready=Barrier(2)",
			"--shared", "ns=Namespace",
		}, stdio{out: pw, err: &stderr})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
		if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
			addr = a
		}
		if strings.Contains(sc.Text(), "counts = m.counts()") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	text := strings.Join(out, "\n")
	if addr == "" {
		t.Fatalf("no address in output:\n%s", text)
	}
	for _, want := range []string{
		"from multiprocessing.managers import BaseManager, DictProxy, ValueProxy, ListProxy, AcquirerProxy, BarrierProxy, NamespaceProxy, IteratorProxy",
		"SharedManager.register('Iterator', proxytype=IteratorProxy, create_method=False)",
		"SharedManager.register('counts', proxytype=DictProxy)",
		"SharedManager.register('tasks')  # a shared JoinableQueue",
		"SharedManager.register('ready', proxytype=BarrierProxy)",
		"counts = m.counts(); hits = m.hits(); items = m.items(); tasks = m.tasks(); guard = m.guard(); ready = m.ready(); ns = m.ns()",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	m := &pymock.Manager{Dial: pymock.TCP("tcp", addr), Key: []byte("k"), Version: pymock.Py313}
	defer m.Close()
	call := func(typeid, method string, args ...any) any {
		t.Helper()
		id, _, err := m.Create(ctx, typeid)
		if err != nil {
			t.Fatalf("create %s: %v", typeid, err)
		}
		r, err := m.Call(ctx, id, method, pickle.Tuple(args), nil)
		if err != nil || r.Kind != "#RETURN" {
			t.Fatalf("%s.%s: %v %v", typeid, method, r, err)
		}
		return r.Value
	}
	call("counts", "__setitem__", "a", int64(1))
	if v := call("counts", "__getitem__", "a"); v != int64(1) { // the same dict, through a second create
		t.Errorf("counts['a'] = %v", v)
	}
	if id1, ex, _ := m.Create(ctx, "counts"); !slices.Contains(ex, "__iter__") {
		t.Errorf("counts exposes %v (id %s), want the dict methods", ex, id1)
	}
	if v := call("hits", "get"); v != int64(40) {
		t.Errorf("hits.get() = %v", v)
	}
	if v := call("items", "__len__"); v != int64(2) {
		t.Errorf("len(items) = %v", v)
	}
	call("tasks", "put", "t")
	if v := call("tasks", "full"); v != true {
		t.Errorf("tasks (maxsize 1) not full after a put: %v", v)
	}
	if v := call("guard", "acquire"); v != true {
		t.Errorf("guard.acquire() = %v", v)
	}
	if v := call("ready", "__getattribute__", "parties"); v != int64(2) {
		t.Errorf("ready.parties = %v", v)
	}
	call("ns", "__setattr__", "x", "y")
	if v := call("ns", "__getattribute__", "x"); v != "y" {
		t.Errorf("ns.x = %v", v)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeSharedFlags(t *testing.T) {
	for _, c := range []struct {
		arg, want string
	}{
		{"x", "want NAME=TYPE"},
		{"1x=dict", "not a Python identifier"},
		{"x=Pool", "unknown TYPE \"Pool\""},
		{"x=Iterator", "unknown TYPE"},
		{"x=dict(", "must end with ')'"},
		{"x=Value(i, 0)", "JSON values"},
		{"x=Barrier(0)", "parties must be > 0"},
		{"x=Array(\"i\")", "missing 1 required positional argument"},
		{"dict=dict", "already registered"},
		{"jobs=list", "given twice"},
	} {
		var sb strings.Builder
		err := runServe(t.Context(), []string{"--address", "127.0.0.1:0", "--queue", "jobs", "--shared", c.arg}, stdio{out: io.Discard, err: &sb})
		var ue usageError
		if !errors.As(err, &ue) && !strings.Contains(err.Error(), "invalid value") {
			t.Errorf("%s: %v, want a usage error", c.arg, err)
			continue
		}
		if !strings.Contains(err.Error()+sb.String(), c.want) {
			t.Errorf("%s: %v, want it to say %q", c.arg, err, c.want)
		}
	}
}
