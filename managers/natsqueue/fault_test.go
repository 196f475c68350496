package natsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/natstest"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/nats-io/nats.go"
)

// pyErr fails the test unless err is the Python exception builtins.name with a message
// containing want.
func pyErr(t *testing.T, what string, err error, name, want string) {
	t.Helper()
	pe := managers.PythonException(err)
	if pe == nil || pe.Module != "builtins" || pe.Name != name || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: %v, want builtins.%s containing %q", what, err, name, want)
	}
	t.Logf("%s: %v", what, err)
}

// eventually retries f until it succeeds (bounded), for a queue recovering from a fault.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond) // polling a recovery that announces itself nowhere
	}
}

// TestStreamDeleted: a call that finds the stream deleted raises OSError naming it; the next
// call recreates it and the queue works again.
func TestStreamDeleted(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{Name: "gone"})
	ctx := t.Context()
	if err := q.Put(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.JetStream.DeleteStream(ctx, "MPGO_Q_gone"); err != nil {
		t.Fatal(err)
	}
	pyErr(t, "put after the stream was deleted", q.Put(ctx, "b"), "OSError", "MPGO_Q_gone")
	if err := q.Put(ctx, "c"); err != nil {
		t.Fatalf("put after recreation: %v", err)
	}
	if v, err := q.GetTimeout(ctx, 10*time.Second); err != nil || v != "c" {
		t.Fatalf("get after recreation: %v %v", v, err)
	}
	// A get that finds the stream missing fails the same way.
	if err := e.JetStream.DeleteStream(ctx, "MPGO_Q_gone"); err != nil {
		t.Fatal(err)
	}
	_, err := q.GetNowait()
	pyErr(t, "get_nowait after the stream was deleted", err, "OSError", "MPGO_Q_gone")
	if _, err := q.GetNowait(); !errors.Is(err, managers.ErrQueueEmpty) {
		t.Fatalf("get_nowait after recreation: %v", err)
	}
	if n, err := q.Len(ctx); err != nil || n != 0 {
		t.Fatalf("qsize after recreation: %d %v", n, err)
	}
	// A get blocked in the pull loop when the stream goes fails the same way.
	blocked := make(chan error, 1)
	go func() {
		_, err := q.Get(ctx)
		blocked <- err
	}()
	eventually(t, "the get is waiting", func() error {
		ci, err := e.JetStream.Consumer(ctx, "MPGO_Q_gone", "mpgo")
		if err != nil {
			return err
		}
		if info, err := ci.Info(ctx); err != nil || info.NumWaiting == 0 {
			return fmt.Errorf("no waiting pull (%v)", err)
		}
		return nil
	})
	if err := e.JetStream.DeleteStream(ctx, "MPGO_Q_gone"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		pyErr(t, "a get blocked when the stream was deleted", err, "OSError", "MPGO_Q_gone")
	case <-time.After(30 * time.Second):
		t.Fatal("a blocked get did not fail when the stream was deleted")
	}
	if err := q.Put(ctx, "d"); err != nil {
		t.Fatalf("put after the second recreation: %v", err)
	}
}

// TestNATSUnreachable: while the NATS server is down every call raises ConnectionError
// naming the cause (a blocked get too); when it is back the same Queue works again and the
// acknowledged items are all there.
func TestNATSUnreachable(t *testing.T) {
	s := natstest.StartServer(t, t.TempDir())
	nc, js := connect(t, s.URL)
	q := openJS(t, js, natsqueue.Config{Name: "flaky"})
	ctx := t.Context()
	for _, v := range []string{"a", "b"} {
		if err := q.Put(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := q.Get(ctx) // the queue holds items: this get must be served before the stop
		if err != nil {
			blocked <- err
			return
		}
		_, err = q.GetNowait()
		if err != nil {
			blocked <- err
			return
		}
		_, err = q.Get(ctx) // empty: waits, then NATS goes away
		blocked <- err
	}()
	eventually(t, "getters drained the queue", func() error {
		if n, err := q.Len(ctx); err != nil || n != 0 {
			return errors.New("not yet")
		}
		return nil
	})
	disconnected := make(chan struct{})
	var once sync.Once
	nc.SetDisconnectErrHandler(func(*nats.Conn, error) { once.Do(func() { close(disconnected) }) })
	s.Stop()
	<-disconnected
	pyErr(t, "put while NATS is down", q.Put(ctx, "x"), "ConnectionError", "NATS JetStream unreachable")
	_, err := q.GetNowait()
	pyErr(t, "get_nowait while NATS is down", err, "ConnectionError", "unreachable")
	_, err = q.Len(ctx)
	pyErr(t, "qsize while NATS is down", err, "ConnectionError", "unreachable")
	select {
	case err := <-blocked:
		pyErr(t, "a get blocked when NATS went down", err, "ConnectionError", "unreachable")
	case <-time.After(30 * time.Second):
		t.Fatal("a blocked get did not fail when NATS went down")
	}

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "put after NATS came back", func() error { return q.Put(ctx, "after") })
	v, err := q.GetTimeout(ctx, 10*time.Second)
	if err != nil || v != "after" {
		t.Fatalf("get after NATS came back: %v %v", v, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := q.Unfinished(cctx); err != nil || n != 3 {
		t.Fatalf("unfinished = %d, %v; want 3", n, err)
	}
}

// TestConnectBounded: Connect to an address where nothing answers gives up at ctx's end with
// a message naming the URL, and succeeds once JetStream answers.
func TestConnectBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, _, err = natsqueue.Connect(ctx, []string{url}, "", nil)
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("Connect to nothing: %v", err)
	}
	t.Log(err)
}
