package natsqueue_test

import (
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/natsqueue"
	"github.com/mpgo/mpgo/pickle"
)

// TestNakOnFailedReply: a Python client that goes away before the reply to its get is written
// does not take the item with it: the server hands it back to JetStream at once, long before
// the redelivery delay, and the next get receives it. A reply that is written acknowledges
// the item for good.
func TestNakOnFailedReply(t *testing.T) {
	e := embedded(t)
	q := open(t, e, natsqueue.Config{Name: "nak", Redeliver: 10 * time.Minute})
	reg := managers.NewRegistry()
	reg.MustRegister("get_queue", managers.Singleton(q))
	pl := pymock.NewPipeListener()
	l, err := connection.NewListener(pl, &connection.Config{MaxFrameSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{Registry: reg}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	ctx := t.Context()
	for _, v := range pymock.All {
		t.Run(v.String(), func(t *testing.T) {
			m := &pymock.Manager{Dial: pl.Dial, Version: v}
			defer m.Close()
			ident, _, err := m.Create(ctx, "get_queue")
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.Call(ctx, ident, "put", pickle.Tuple{"precious"}, nil)
			if err != nil || r.Kind != "#RETURN" {
				t.Fatalf("put: %v %v", r, err)
			}
			// A connection that sends get and closes without reading: on a pipe the reply
			// write fails as soon as the server tries it.
			p, err := pymock.Connect(ctx, pl.Dial, nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := p.Request("", "accept_connection", pickle.Tuple{"MainProcess"}, nil); err != nil || r.Kind != "#RETURN" {
				t.Fatalf("accept_connection: %v %v", r, err)
			}
			if err := p.Send(pickle.Tuple{ident, "get", pickle.Tuple{}, pickle.NewDict()}); err != nil {
				t.Fatal(err)
			}
			p.Close()
			// The item is back well before the 10 minutes of Redeliver.
			r, err = m.Call(ctx, ident, "get", pickle.Tuple{true, 30.0}, nil)
			if err != nil || r.Kind != "#RETURN" || !pickle.Equal(r.Value, "precious") {
				t.Fatalf("get after a failed reply: %v %v", r, err)
			}
			r, err = m.Call(ctx, ident, "qsize", nil, nil)
			if err != nil || r.Kind != "#RETURN" || r.Value != int64(0) {
				t.Fatalf("qsize after a written get reply: %v %v", r, err)
			}
			r, err = m.Call(ctx, ident, "task_done", nil, nil)
			if err != nil || r.Kind != "#RETURN" {
				t.Fatalf("task_done: %v %v", r, err)
			}
		})
	}
}
