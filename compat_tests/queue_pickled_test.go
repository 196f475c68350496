package compat_tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/mpgo/mpgo/pickle"
)

// TestQueuePickledItems: the queue keeps the items Python clients put pickled in the putter's
// dialect and hands them to getters as they are, or re-encoded for another dialect. Every
// interpreter puts the items of python_fixtures/mgr_queue_items.py (a small tuple, dicts with
// repeated keys, shared and recursive lists, memo indices past 255, a 100 KiB str that goes
// outside the reply's frames, bytes, sets, an exception...) into one queue per other
// interpreter (and itself); then every interpreter gets and checks what each one put: 2.7 <->
// 3.13 included. A Go Get of an item a Python client put returns its value.
func TestQueuePickledItems(t *testing.T) {
	runQueueItemsMatrix(t, func(t *testing.T, name string) (managers.Object, func(context.Context) (any, error)) {
		q := managers.NewQueue(0)
		return q, q.Get
	})
}

// TestDurablePickledItems is TestQueuePickledItems with durable queues (managers/natsqueue on
// an embedded JetStream, as `mpgo serve --store` builds them): each JetStream message holds the
// item pickled in the putter's dialect, and every interpreter gets what every other one put.
func TestDurablePickledItems(t *testing.T) {
	e, err := natsqueue.StartEmbedded(natsqueue.EmbeddedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	runQueueItemsMatrix(t, func(t *testing.T, name string) (managers.Object, func(context.Context) (any, error)) {
		q, err := natsqueue.Open(t.Context(), e.JetStream, natsqueue.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q, q.Get
	})
}

// runQueueItemsMatrix serves one queue made by newQueue per pair of interpreters (putter,
// getter), runs mgr_queue_items.py's put phase on every interpreter and then its get phase,
// and checks a Go get of an item a Python client put.
func runQueueItemsMatrix(t *testing.T, newQueue func(t *testing.T, name string) (managers.Object, func(context.Context) (any, error))) {
	pys := pythons(t)
	names := make([]string, len(pys))
	for i, py := range pys {
		names[i] = strings.ReplaceAll(py.Name(), ".", "_")
	}
	reg := managers.NewRegistry()
	gets := map[string]func(context.Context) (any, error){}
	for _, src := range names {
		for _, dst := range names {
			name := "q_" + src + "_" + dst
			q, get := newQueue(t, name)
			gets[src+">"+dst] = get
			reg.MustRegister(name, managers.Singleton(q))
		}
	}
	key := []byte(fmt.Sprintf("key-%d", time.Now().UnixNano()))
	_, addr := serveGo(t, "tcp", "127.0.0.1:0", key, reg, 16<<20)
	args := func(me, phase string) []string {
		return append(tcpArgs(addr), "--authkey-hex", hexKey(key), "--me", me, "--peers", strings.Join(names, ","), "--phase", phase)
	}
	type result struct {
		OK      bool
		Checked int
		Errors  []string
	}
	for i, py := range pys {
		var r result
		runPythonJSON(t, py, &r, "mgr_queue_items.py", args(names[i], "put")...)
	}
	for i, py := range pys {
		var r result
		runPythonJSON(t, py, &r, "mgr_queue_items.py", args(names[i], "get")...)
		if !r.OK || r.Checked != len(pys)*13 {
			t.Errorf("%s got %d items: %s", py.Name(), r.Checked, strings.Join(r.Errors, "\n"))
		}
	}
	// The Python getters emptied every queue; the first interpreter puts its items once more,
	// and Go gets the first, (7, 'task-7', 1.5).
	first := names[0]
	var r result
	runPythonJSON(t, pys[0], &r, "mgr_queue_items.py", append(tcpArgs(addr), "--authkey-hex", hexKey(key),
		"--me", first, "--peers", first, "--phase", "put")...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := gets[first+">"+first](ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(pickle.Pickled); ok {
		t.Fatalf("Go Get returned a %v, not the value", v)
	}
	want := pickle.Tuple{int64(7), "task-7", 1.5} // (a Python 2 str is a Py2String, which Equal takes for the str)
	if !pickle.Equal(v, want) {
		t.Fatalf("Go Get = %s, want %s", pickle.Repr(v), pickle.Repr(want))
	}
}
