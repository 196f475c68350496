package managers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// ctxServer serves typeid "probe" whose method "run" calls f with the call's context and
// returns what f returns; "ping" answers "pong".
func ctxServer(t *testing.T, f func(ctx context.Context) any) (*testServer, string) {
	t.Helper()
	obj := managers.ObjectFunc(func(ctx context.Context, name string, _ pickle.Tuple, _ *pickle.Dict) (any, error) {
		if name == "ping" {
			return "pong", nil
		}
		return f(ctx), nil
	})
	reg := managers.NewRegistry()
	reg.MustRegister("probe", managers.Type{
		New:     func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) { return obj, nil },
		Exposed: []string{"run", "ping"},
	})
	ts := startServer(t, &managers.Server{Registry: reg})
	id, _, err := ts.manager(pymock.Py313).Create(t.Context(), "probe")
	if err != nil {
		t.Fatal(err)
	}
	return ts, id
}

// TestPollingCallCancelledOnDisconnect: a call that polls ctx.Err() (instead of selecting on
// Done) is cancelled too when its client goes away.
func TestPollingCallCancelledOnDisconnect(t *testing.T) {
	entered := make(chan struct{})
	finished := make(chan error, 1)
	ts, id := ctxServer(t, func(ctx context.Context) any {
		close(entered)
		deadline := time.Now().Add(10 * time.Second)
		for ctx.Err() == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // the method's own polling
		}
		finished <- ctx.Err()
		return nil
	})
	p, err := pymock.Connect(t.Context(), ts.dial, testKey, pymock.Py313)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Request("", "accept_connection", pickle.Tuple{"x"}, nil)
	mustReply(t, r, err, "#RETURN")
	if err := p.Send(pickle.Tuple{id, "run", pickle.Tuple{}, pickle.NewDict()}); err != nil {
		t.Fatal(err)
	}
	<-entered
	p.Close()
	if err := <-finished; !errors.Is(err, context.Canceled) {
		t.Fatalf("the polling call ended with %v, want context.Canceled", err)
	}
}

// TestContextUsedAfterCall: a goroutine a method leaves behind may wait on the call's context
// after the call has returned; the connection keeps serving calls meanwhile, and the context
// ends with the connection.
func TestContextUsedAfterCall(t *testing.T) {
	later := make(chan struct{})
	ended := make(chan error, 1)
	ts, id := ctxServer(t, func(ctx context.Context) any {
		go func() {
			<-later
			<-ctx.Done()
			ended <- ctx.Err()
		}()
		return "started"
	})
	m := ts.manager(pymock.Py313)
	r, err := m.Call(t.Context(), id, "run", nil, nil)
	if got := mustReply(t, r, err, "#RETURN"); got != "started" {
		t.Fatalf("run = %v", got)
	}
	close(later)
	for range 50 {
		r, err := m.Call(t.Context(), id, "ping", nil, nil)
		if got := mustReply(t, r, err, "#RETURN"); got != "pong" {
			t.Fatalf("ping = %v", got)
		}
	}
	m.Close()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the left-behind wait ended with %v, want context.Canceled", err)
	}
}
