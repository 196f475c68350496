package managers_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// The ReclaimAfter tests run in a synctest bubble over in-memory connections: time is fake, so
// "after ReclaimAfter" and "not before" are exact, and the bubble fails the test if any
// goroutine (the sweeper included) outlives Close.

const reclaimAfter = time.Minute

// reclaimEnv is a server with ReclaimAfter on an in-memory listener, inside a bubble.
type reclaimEnv struct {
	t     *testing.T
	srv   *managers.Server
	pl    *pymock.PipeListener
	done  chan error
	logs  *logtest.Hook
	queue *managers.Queue // behind the "get_queue" Singleton
}

func newReclaimEnv(t *testing.T, after time.Duration) *reclaimEnv {
	t.Helper()
	reg := testRegistry(t)
	q := managers.NewQueue(0)
	reg.MustRegister("get_queue", managers.Singleton(q))
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	pl := pymock.NewPipeListener()
	l, err := connection.NewListener(pl, &connection.Config{MaxFrameSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	e := &reclaimEnv{t: t, srv: &managers.Server{Registry: reg, Logger: log, ReclaimAfter: after}, pl: pl, done: make(chan error, 1), logs: hook, queue: q}
	go func() { e.done <- e.srv.Serve(l) }()
	return e
}

// client is a fake CPython client (one process with one thread) of the server.
func (e *reclaimEnv) client() *pymock.Manager {
	return &pymock.Manager{Dial: e.pl.Dial, Version: pymock.Py313}
}

// close closes the server; the bubble then checks that no goroutine is left.
func (e *reclaimEnv) close() {
	e.srv.Close()
	if err := <-e.done; !errorsIs(err, managers.ErrServerClosed) {
		e.t.Errorf("Serve returned %v", err)
	}
}

// wait lets fake time pass and every goroutine settle.
func (e *reclaimEnv) wait(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func (e *reclaimEnv) create(m *pymock.Manager, typeid string, args ...any) string {
	e.t.Helper()
	ident, _, err := m.Create(e.t.Context(), typeid, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return ident
}

func (e *reclaimEnv) call(m *pymock.Manager, ident, method string, args ...any) pymock.Reply {
	e.t.Helper()
	r, err := m.Call(e.t.Context(), ident, method, pickle.Tuple(args), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// tracked reports whether ident has a refcount.
func (e *reclaimEnv) tracked(ident string) bool {
	_, ok := e.srv.Refcounts()[ident]
	return ok
}

// released returns the log lines of released objects, as "typeid ident refcount".
func (e *reclaimEnv) released() []string {
	var out []string
	for _, en := range e.logs.AllEntries() {
		if en.Level == logrus.InfoLevel && en.Message == "managers: released an object no live connection has used for ReclaimAfter" {
			out = append(out, fmt.Sprintf("%v %v %v", en.Data["typeid"], en.Data["ident"], en.Data["refcount"]))
		}
	}
	return out
}

func TestReclaimDeadClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()
		start := e.srv.NumberOfObjects()

		// A client creates a counter and a queue, uses the counter, takes a second reference to
		// it (a proxy pickled to a child process that is killed too), and dies: its method
		// connection closes, no decref is ever sent.
		dead := e.client()
		c := e.create(dead, "Counter", int64(1))
		q := e.create(dead, "Queue")
		mustReply(t, e.call(dead, c, "incr"), nil, "#RETURN")
		r, err := dead.Public(t.Context(), "incref", c)
		mustReply(t, r, err, "#RETURN")
		dead.Close()
		synctest.Wait()
		if n := e.srv.NumberOfObjects(); n != start+2 {
			t.Fatalf("objects = %d, want %d", n, start+2)
		}

		e.wait(reclaimAfter - time.Second)
		if !e.tracked(c) || !e.tracked(q) || len(e.released()) != 0 {
			t.Fatalf("released before ReclaimAfter: %v %v", e.srv.Refcounts(), e.released())
		}
		e.wait(reclaimAfter/2 + 2*time.Second) // the sweep after ReclaimAfter has run
		if n := e.srv.NumberOfObjects(); n != start {
			t.Fatalf("objects = %d after ReclaimAfter, want %d (%v)", n, start, e.srv.Refcounts())
		}
		got := map[string]bool{}
		for _, l := range e.released() {
			got[l] = true
		}
		if want := []string{"Counter " + c + " 2", "Queue " + q + " 1"}; len(got) != 2 || !got[want[0]] || !got[want[1]] {
			t.Fatalf("log lines %v, want %v", e.released(), want)
		}
		// The released object is gone: a late decref (or call) is a KeyError, as after the
		// last decref.
		r, err = e.client().Public(t.Context(), "decref", c)
		mustReply(t, r, err, "#TRACEBACK")
	})
}

func TestReclaimKeepsLiveAndTouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()

		// live: used once by a method connection that stays open (an idle client).
		live := e.client()
		defer live.Close()
		l := e.create(live, "Counter")
		mustReply(t, e.call(live, l, "incr"), nil, "#RETURN")

		// touched: no connection stays open, but a client keeps incref'ing and decref'ing it.
		toucher := e.client()
		tch := e.create(toucher, "Counter")

		// dead: a client that used its counter and died at the same time.
		dead := e.client()
		d := e.create(dead, "Counter")
		mustReply(t, e.call(dead, d, "incr"), nil, "#RETURN")
		dead.Close()

		for range 8 { // 2 ReclaimAfter
			e.wait(reclaimAfter / 4)
			for _, f := range []string{"incref", "decref"} {
				r, err := toucher.Public(t.Context(), f, tch)
				mustReply(t, r, err, "#RETURN")
			}
		}
		if e.tracked(d) {
			t.Fatalf("dead client's object not released: %v", e.srv.Refcounts())
		}
		if !e.tracked(l) || !e.tracked(tch) {
			t.Fatalf("live or touched object released: %v (live %s, touched %s)", e.srv.Refcounts(), l, tch)
		}
		mustReply(t, e.call(live, l, "incr"), nil, "#RETURN") // idle for 2 ReclaimAfter, still works

		// Once the live client goes and the touching stops, their objects follow.
		live.Close()
		e.wait(reclaimAfter*3/2 + time.Second)
		if n := e.srv.NumberOfObjects(); n != 0 {
			t.Fatalf("objects left: %v", e.srv.Refcounts())
		}
	})
}

// TestReclaimUnusedProxy pins the documented caveat: a live client's proxy that has not called
// a method holds no connection, so its object is released after ReclaimAfter and its first call
// fails.
func TestReclaimUnusedProxy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()
		m := e.client()
		defer m.Close()
		other := e.create(m, "Counter")
		mustReply(t, e.call(m, other, "incr"), nil, "#RETURN") // the thread's connection is open
		unused := e.create(m, "Counter")                       // but never names this one
		e.wait(reclaimAfter * 2)
		if e.tracked(unused) || !e.tracked(other) {
			t.Fatalf("refcounts %v (unused %s, used %s)", e.srv.Refcounts(), unused, other)
		}
		mustReply(t, e.call(m, unused, "incr"), nil, "#TRACEBACK") // KeyError
	})
}

func TestReclaimSingleton(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()
		// 20 clients call get_queue() and die; one more keeps an unused proxy.
		var ident string
		for range 20 {
			m := e.client()
			ident = e.create(m, "get_queue")
			mustReply(t, e.call(m, ident, "put", "x"), nil, "#RETURN")
			m.Close()
		}
		idle := e.client()
		defer idle.Close()
		if id := e.create(idle, "get_queue"); id != ident {
			t.Fatalf("singleton idents %s, %s", id, ident)
		}
		if rc := e.srv.Refcounts()[ident]; rc != 21 {
			t.Fatalf("refcount %d, want 21", rc)
		}
		e.wait(reclaimAfter * 2)
		if n := e.srv.NumberOfObjects(); n != 0 {
			t.Fatalf("objects %d after reclaim: %v", n, e.srv.Refcounts())
		}
		if got := e.released(); len(got) != 1 || got[0] != "get_queue "+ident+" 21" {
			t.Fatalf("log %v", got)
		}
		// The queue lives on (the server holds it), and so does its ident: the idle client's
		// proxy still works, its decref is ignored, and get_queue() gives the same ident.
		if n := e.queue.Qsize(); n != 20 {
			t.Fatalf("queue size %d", n)
		}
		r := e.call(idle, ident, "get")
		if v := mustReply(t, r, nil, "#RETURN"); v != "x" {
			t.Fatalf("get = %v", v)
		}
		r, err := idle.Public(t.Context(), "decref", ident)
		mustReply(t, r, err, "#RETURN")
		if id := e.create(e.client(), "get_queue"); id != ident || e.srv.Refcounts()[ident] != 1 {
			t.Fatalf("get_queue after reclaim: ident %s (was %s), refcounts %v", id, ident, e.srv.Refcounts())
		}
		// And that reference is released in turn once its client and the idle one are gone.
		idle.Close()
		e.wait(reclaimAfter * 2)
		if n := e.srv.NumberOfObjects(); n != 0 || len(e.released()) != 2 {
			t.Fatalf("objects %v, log %v", e.srv.Refcounts(), e.released())
		}
	})
}

func TestReclaimGoAPIAndRefs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()
		// An object created from Go keeps the Go reference; the dead client's goes.
		g, _, err := e.srv.Create(t.Context(), "Counter", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		dead := e.client()
		r, err := dead.Public(t.Context(), "incref", g)
		mustReply(t, r, err, "#RETURN")
		// A holder that stores a proxy of a counter (a *Ref): both are the dead client's.
		h := e.create(dead, "Holder")
		c := e.create(dead, "Counter")
		tok := managers.Token{TypeID: "Counter", Address: "pipe", ID: c}
		mustReply(t, e.call(dead, h, "set", managers.RebuildProxy{Func: managers.AutoProxyFunc, Token: tok}), nil, "#RETURN")
		dead.Close()
		e.wait(reclaimAfter * 2)
		if got := e.srv.Refcounts(); len(got) != 1 || got[g] != 1 {
			t.Fatalf("refcounts %v, want only %s: 1", got, g)
		}
		// Swept once with nothing to release, it is released again after a later client.
		e.wait(reclaimAfter * 2)
		dead2 := e.client()
		mustReply(t, e.call(dead2, g, "incr"), nil, "#RETURN")
		r, err = dead2.Public(t.Context(), "incref", g)
		mustReply(t, r, err, "#RETURN")
		dead2.Close()
		if rc := e.srv.Refcounts()[g]; rc != 2 {
			t.Fatalf("refcount %d, want 2", rc)
		}
		e.wait(reclaimAfter * 2)
		if got := e.srv.Refcounts(); len(got) != 1 || got[g] != 1 {
			t.Fatalf("refcounts %v, want only %s: 1", got, g)
		}
		if err := e.srv.Decref(g); err != nil || e.srv.NumberOfObjects() != 0 {
			t.Fatalf("Decref: %v, objects %v", err, e.srv.Refcounts())
		}
	})
}

// TestReclaimProxyInResult: a client that receives a proxy in a method's result (here from a
// holder, as from a shared queue) uses its object through that connection.
func TestReclaimProxyInResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		defer e.close()
		dead := e.client()
		h := e.create(dead, "Holder")
		c := e.create(dead, "Counter")
		tok := managers.Token{TypeID: "Counter", Address: "pipe", ID: c}
		mustReply(t, e.call(dead, h, "set", managers.RebuildProxy{Func: managers.AutoProxyFunc, Token: tok}), nil, "#RETURN")
		dead.Close()
		live := e.client()
		defer live.Close()
		r := e.call(live, h, "get")
		if rp, ok := managers.RebuildProxyFromValue(mustReply(t, r, nil, "#RETURN")); !ok || rp.Token.ID != c {
			t.Fatalf("get = %v", r.Value)
		}
		e.wait(reclaimAfter * 2)
		if !e.tracked(h) || !e.tracked(c) {
			t.Fatalf("refcounts %v, want %s and %s", e.srv.Refcounts(), h, c)
		}
	})
}

func TestReclaimOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, 0)
		defer e.close()
		dead := e.client()
		c := e.create(dead, "Counter")
		mustReply(t, e.call(dead, c, "incr"), nil, "#RETURN")
		dead.Close()
		e.wait(24 * time.Hour)
		if !e.tracked(c) || len(e.released()) != 0 {
			t.Fatalf("released with ReclaimAfter 0: %v", e.srv.Refcounts())
		}
	})
}

// TestReclaimShutdown: Shutdown (like Close) stops the sweeper; the bubble fails the test if it
// is left running, and nothing is released once the server is down.
func TestReclaimShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReclaimEnv(t, reclaimAfter)
		dead := e.client()
		c := e.create(dead, "Counter")
		dead.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		<-e.done
		e.wait(reclaimAfter * 2)
		if !e.tracked(c) {
			t.Fatalf("released after Shutdown")
		}
	})
}

// TestReclaimRace runs clients that die and clients that keep calling against a real loopback
// server with a short ReclaimAfter, for the race detector: the live clients' objects survive
// every sweep, and once every client has closed the object count returns to its start.
func TestReclaimRace(t *testing.T) {
	after := 400 * time.Millisecond // well above the gap between a create and the first call
	srv := &managers.Server{ReclaimAfter: after}
	ts := startServer(t, srv)
	ctx := t.Context()
	start := srv.NumberOfObjects()
	const clients = 6
	until := time.Now().Add(3 * after) // several sweeps
	errc := make(chan error, clients)
	for i := range clients {
		go func() {
			m := ts.manager(pymock.Py313)
			defer m.Close()
			ident, _, err := m.Create(ctx, "Counter")
			for err == nil && time.Now().Before(until) {
				var r pymock.Reply
				r, err = m.Call(ctx, ident, "incr", nil, nil)
				if err == nil && r.Kind != "#RETURN" {
					err = fmt.Errorf("call on %s: %s %v", ident, r.Kind, r.Value)
				}
				if err == nil && i%2 == 1 { // a dying client: it closes and starts again, no decref
					m.Close()
					ident, _, err = m.Create(ctx, "Counter")
				}
			}
			errc <- err
		}()
	}
	for range clients {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for srv.NumberOfObjects() != start {
		if time.Now().After(deadline) {
			t.Fatalf("objects %d, want %d", srv.NumberOfObjects(), start)
		}
		time.Sleep(after / 4) // polling a condition, bounded by deadline
	}
}
