package managers_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

func requestCount(s managers.Snapshot, typeid, method string) (uint64, bool) {
	for _, r := range s.Requests {
		if r.TypeID == typeid && r.Method == method {
			return r.Count, true
		}
	}
	return 0, false
}

// waitSnapshot returns the first Snapshot of srv for which ok holds, within 10 s.
func waitSnapshot(t *testing.T, srv *managers.Server, ok func(managers.Snapshot) bool) managers.Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := srv.Snapshot()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching snapshot within 10 s; the last: %+v", s)
		}
		time.Sleep(time.Millisecond) // polls a condition
	}
}

// TestSnapshot: requests are counted under their typeid and exposed method; names a client
// makes up (methods, idents, public functions) all land in one "other" pair each, adding no
// pairs however many there are; objects, refcounts and queue depths are reported by typeid.
func TestSnapshot(t *testing.T) {
	srv := &managers.Server{}
	ts := startServer(t, srv)
	ctx := t.Context()
	m := ts.manager(pymock.Py313)
	defer m.Close()

	counter, _, err := m.Create(ctx, "Counter", int64(0))
	if err != nil {
		t.Fatal(err)
	}
	q1, _, err := m.Create(ctx, "Queue")
	if err != nil {
		t.Fatal(err)
	}
	q2, _, err := m.Create(ctx, "Queue")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Public(ctx, "incref", q2)
	mustReply(t, r, err, "#RETURN")
	for i := 0; i < 3; i++ {
		r, err := m.Call(ctx, counter, "incr", nil, nil)
		mustReply(t, r, err, "#RETURN")
	}
	for _, q := range []string{q1, q1, q2} {
		r, err := m.Call(ctx, q, "put", pickle.Tuple{"x"}, nil)
		mustReply(t, r, err, "#RETURN")
	}
	r, err = m.Call(ctx, counter, "__repr__", nil, nil)
	mustReply(t, r, err, "#RETURN")

	// A request is counted once its reply is written, so the client may see the reply first.
	before := waitSnapshot(t, srv, func(s managers.Snapshot) bool {
		n, _ := requestCount(s, "Counter", "__repr__")
		return n == 1
	})
	if n, _ := requestCount(before, "Counter", "incr"); n != 3 {
		t.Errorf("Counter.incr count %d, want 3", n)
	}
	if n, _ := requestCount(before, "Queue", "put"); n != 3 {
		t.Errorf("Queue.put count %d, want 3", n)
	}
	if n, _ := requestCount(before, "Counter", "__repr__"); n != 1 {
		t.Errorf("Counter.__repr__ count %d, want 1", n)
	}
	if n, _ := requestCount(before, managers.StatsServerTypeID, "create"); n != 3 {
		t.Errorf("create count %d, want 3", n)
	}
	if n, _ := requestCount(before, managers.StatsServerTypeID, "accept_connection"); n == 0 {
		t.Error("accept_connection not counted")
	}

	// A client making names up: many unknown methods, idents and public functions.
	const made = 50
	for i := 0; i < made; i++ {
		name := fmt.Sprintf("made_up_%d", i)
		r, err := m.Call(ctx, counter, name, nil, nil)
		mustReply(t, r, err, "#TRACEBACK")
		r, err = m.Call(ctx, fmt.Sprintf("%x", 0xdead0000+i), name, nil, nil)
		mustReply(t, r, err, "#TRACEBACK")
		r, err = m.Public(ctx, name)
		mustReply(t, r, err, "#TRACEBACK")
	}
	after := waitSnapshot(t, srv, func(s managers.Snapshot) bool {
		n, _ := requestCount(s, managers.StatsServerTypeID, managers.StatsOther)
		return n == made
	})
	if len(after.Requests) != len(before.Requests) {
		t.Errorf("made-up names added counters: %d pairs before, %d after", len(before.Requests), len(after.Requests))
	}
	if n, _ := requestCount(after, "Counter", managers.StatsOther); n != made {
		t.Errorf("Counter.other count %d, want %d", n, made)
	}
	if n, _ := requestCount(after, managers.StatsOther, managers.StatsOther); n != made {
		t.Errorf("other.other count %d, want %d", n, made)
	}
	if n, _ := requestCount(after, managers.StatsServerTypeID, managers.StatsOther); n != made {
		t.Errorf("#server.other count %d, want %d", n, made)
	}
	var total uint64
	for _, r := range after.Requests {
		total += r.Count
	}
	// Durations are sampled: each connection's first request and every 8th after it.
	if after.Duration.Count == 0 || after.Duration.Count > total || after.Duration.Count < total/8 || after.Duration.Sum <= 0 {
		t.Errorf("histogram count %d sum %v, want a sample of the %d requests and a positive sum", after.Duration.Count, after.Duration.Sum, total)
	}
	if c := after.Duration.Counts; len(c) != len(after.Duration.Bounds) || c[len(c)-1] > total {
		t.Errorf("histogram buckets %v over %d requests", c, total)
	}

	wantObjects := map[string][2]int{"Counter": {1, 1}, "Queue": {2, 3}}
	if len(after.Objects) != len(wantObjects) {
		t.Errorf("objects %+v, want %v", after.Objects, wantObjects)
	}
	for _, o := range after.Objects {
		if w := wantObjects[o.TypeID]; o.Objects != w[0] || o.RefCount != w[1] {
			t.Errorf("objects of %s: %d with refcount %d, want %d and %d", o.TypeID, o.Objects, o.RefCount, w[0], w[1])
		}
	}
	if len(after.Queues) != 1 || after.Queues[0] != (managers.QueueDepth{TypeID: "Queue", Queues: 2, Len: 3}) {
		t.Errorf("queues %+v, want Queue: 2 queues, 3 items", after.Queues)
	}
	if after.Serving < 1 || len(after.Listeners) != 1 || after.Listeners[0] != ts.addr {
		t.Errorf("serving %d listeners %v", after.Serving, after.Listeners)
	}
	if after.Closing || srv.Closing() {
		t.Error("closing before Shutdown")
	}
}

// TestSnapshotHandshakeFailures: failed handshakes reported to HandshakeFailed are counted by
// reason and listed newest first.
func TestSnapshotHandshakeFailures(t *testing.T) {
	srv := &managers.Server{}
	reported := make(chan struct{}, 10)
	ts := startServerConfig(t, srv, &connection.Config{AuthKey: testKey, OnHandshakeError: func(remote net.Addr, err error) {
		srv.HandshakeFailed(remote, err)
		reported <- struct{}{}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, key := range []string{"wrong", "also wrong"} {
		if c, err := connection.Dial(ctx, "tcp", ts.addr, &connection.Config{AuthKey: []byte(key)}); err == nil {
			c.Close()
			t.Fatal("handshake with a wrong key succeeded")
		}
		select {
		case <-reported:
		case <-ctx.Done():
			t.Fatal("the failure was not reported")
		}
	}
	s := srv.Snapshot()
	if n := s.HandshakeFailures[connection.ReasonWrongKey]; n != 2 {
		t.Errorf("wrong_key failures %d, want 2 (%v)", n, s.HandshakeFailures)
	}
	if len(s.RecentFailures) != 2 || s.RecentFailures[0].Reason != connection.ReasonWrongKey || s.RecentFailures[0].Remote == "" ||
		s.RecentFailures[0].Time.Before(s.RecentFailures[1].Time) {
		t.Errorf("recent failures %+v", s.RecentFailures)
	}
}

// TestSnapshotSingletonQueue: a queue registered with Singleton (mpgo serve --queue NAME) is in
// the snapshot before any client has created it, and counted once after.
func TestSnapshotSingletonQueue(t *testing.T) {
	reg := managers.NewRegistry()
	q := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(q))
	srv := &managers.Server{Registry: reg}
	ts := startServer(t, srv)
	if err := q.Put(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	depth := func() []managers.QueueDepth { return srv.Snapshot().Queues }
	if got := depth(); len(got) != 1 || got[0].TypeID != "get_queue" || got[0].Queues != 1 || got[0].Len != 1 {
		t.Fatalf("before create: %+v", got)
	}
	m := ts.manager(pymock.Py313)
	defer m.Close()
	if _, _, err := m.Create(t.Context(), "get_queue"); err != nil {
		t.Fatal(err)
	}
	if got := depth(); len(got) != 1 || got[0].Queues != 1 || got[0].Len != 1 {
		t.Fatalf("after create: %+v", got)
	}
}
