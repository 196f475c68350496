package natsqueue

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mpgo/managers"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRedeliverWindow: an item a server fetched and never acknowledged nor handed back (the
// server died between fetching and replying) is delivered again after Config.Redeliver, to
// another server.
func TestRedeliverWindow(t *testing.T) {
	e, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := t.Context()
	const window = 300 * time.Millisecond
	open := func(js jetstream.JetStream) *Queue {
		q, err := Open(ctx, js, Config{Name: "window", Redeliver: window})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	// The "dying" server has a connection of its own.
	nc, err := nats.Connect(e.Server.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	dying := open(js)
	defer dying.Close()
	survivor := open(e.JetStream)
	defer survivor.Close()
	if err := survivor.Put(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	it, ok, err := dying.fetchNow(ctx)
	if err != nil || !ok {
		t.Fatalf("fetch: %v %v", ok, err)
	}
	if v, err := it.p.Value(); err != nil || v != "work" {
		t.Fatalf("fetched %v, %v", v, err)
	}
	start := time.Now()
	nc.Close() // dies without acknowledging
	if n, err := survivor.Len(ctx); err != nil || n != 1 {
		t.Fatalf("qsize while the item is held by a dead server = %d, %v; want 1 (it counts)", n, err)
	}
	if _, err := survivor.GetNowait(); err == nil {
		t.Fatal("the item held by the dead server was delivered again at once")
	}
	v, err := survivor.GetTimeout(ctx, 30*time.Second)
	if err != nil || v != "work" {
		t.Fatalf("redelivered get: %v %v", v, err)
	}
	if d := time.Since(start); d < window {
		t.Fatalf("redelivered after %v, before the %v window", d, window)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := survivor.Len(cctx); err != nil || n != 0 {
		t.Fatalf("qsize after the redelivered get = %d, %v", n, err)
	}
}

// TestMaxsizeCountsUnacked: an item delivered to a getter but not yet acknowledged still takes
// its place under maxsize and in qsize.
func TestMaxsizeCountsUnacked(t *testing.T) {
	e, err := StartEmbedded(EmbeddedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := t.Context()
	q, err := Open(ctx, e.JetStream, Config{Name: "unacked", Maxsize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Put(ctx, "held"); err != nil {
		t.Fatal(err)
	}
	it, ok, err := q.fetchNow(ctx)
	if err != nil || !ok {
		t.Fatalf("fetch: %v %v", ok, err)
	}
	if err := q.PutNowait("more"); !managers.IsQueueFull(err) {
		t.Fatalf("put_nowait while the only slot is held unacknowledged: %v", err)
	}
	if n, err := q.Len(ctx); err != nil || n != 1 {
		t.Fatalf("qsize with the item unacknowledged = %d, %v", n, err)
	}
	if _, err := q.GetNowait(); !managers.IsQueueEmpty(err) {
		t.Fatalf("get_nowait with the only item held: %v", err)
	}
	q.ackStart()
	q.ack(it.msg)
	if err := q.PutNowait("more"); err != nil {
		t.Fatalf("put_nowait after the acknowledgement: %v", err)
	}
}
