package compat_tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// TestServerReclaimKilledClient: a CPython client that created a Queue, a dict and a list and
// called get_queue() is killed with SIGKILL; with Server.ReclaimAfter its objects are released
// and the object count returns to its start, while a live client that stays idle longer than
// ReclaimAfter keeps its objects and uses them again.
func TestServerReclaimKilledClient(t *testing.T) {
	// Well above the longest pause a loaded machine puts between a client's create, incref and
	// first call, when no connection of the client uses the new object (README).
	const after = time.Second
	forEachPython(t, nil, func(t *testing.T, py python) {
		t.Parallel() // mostly waiting for ReclaimAfter; each interpreter has its own server
		reg := managers.NewRegistry()
		if err := managers.RegisterSyncManager(reg); err != nil {
			t.Fatal(err)
		}
		reg.MustRegister("get_queue", managers.Singleton(managers.NewQueue(0)))
		key := []byte(fmt.Sprintf("reclaim-%d", time.Now().UnixNano()))
		l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
		if err != nil {
			t.Fatal(err)
		}
		srv := &managers.Server{Registry: reg, ReclaimAfter: after}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-done; !errors.Is(err, managers.ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		})
		args := append(tcpArgs(l.Addr().String()), "--authkey-hex", hexKey(key))
		start := srv.NumberOfObjects()

		// waitFor polls the server's object table (a condition, bounded by a generous deadline).
		waitFor := func(what string, cond func(map[string]int) bool) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for !cond(srv.Refcounts()) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: refcounts %v after 30s", what, srv.Refcounts())
				}
				time.Sleep(after / 10)
			}
		}

		stdinR, stdinW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdinW.Close()
		live := startPythonStdin(t, py, stdinR, "mgr_reclaim.py", append(args, "--role", "live")...)
		stdinR.Close()
		var liveIDs struct{ Idents map[string]string }
		live.JSONLine(time.Minute, &liveIDs)

		dead := startPython(t, py, "mgr_reclaim.py", append(args, "--role", "dead")...)
		var deadIDs struct{ Idents map[string]string }
		dead.JSONLine(time.Minute, &deadIDs)
		if got := srv.NumberOfObjects(); got != start+5 {
			t.Fatalf("objects %d with both clients, want %d: %v", got, start+5, srv.Refcounts())
		}
		if err := dead.cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-dead.done

		// The dead client's own objects go; the live client's stay (get_queue too: the live
		// client uses it, so the reference the dead client left on it stays as well).
		waitFor("after the kill", func(rc map[string]int) bool {
			return len(rc) == start+2
		})
		rc := srv.Refcounts()
		for _, name := range []string{"queue", "dict", "list"} {
			if _, ok := rc[deadIDs.Idents[name]]; ok {
				t.Errorf("the killed client's %s (%s) is still there: %v", name, deadIDs.Idents[name], rc)
			}
		}
		if rc[liveIDs.Idents["dict"]] != 1 || rc[liveIDs.Idents["get_queue"]] != 2 {
			t.Fatalf("live client's objects: refcounts %v, want %s: 1, %s: 2", rc, liveIDs.Idents["dict"], liveIDs.Idents["get_queue"])
		}

		// The live client, idle for longer than ReclaimAfter, goes on and exits cleanly.
		if _, err := stdinW.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
		var res struct {
			Dict [][]string
			Got  []string
		}
		live.JSONLine(time.Minute, &res)
		live.Wait(time.Minute)
		if fmt.Sprint(res.Dict) != "[[k v] [k2 v2]]" || fmt.Sprint(res.Got) != "[from the live client from the dead client]" {
			t.Fatalf("live client read %v", res)
		}
		// Its decrefs leave the dead client's reference on get_queue, released in turn.
		waitFor("after the live client exited", func(rc map[string]int) bool {
			return len(rc) == start
		})
	})
}
