package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestClusterRestart: a node stopped and restarted rejoins with the same URL, and a
// 3-replica stream keeps its messages through it.
func TestClusterRestart(t *testing.T) {
	c := natstest.StartCluster(t, 3, t.TempDir())
	nc, err := nats.Connect(c.URL(0), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "r3", []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.Stop(0)
	if c.Node(0) != nil {
		t.Fatal("Node(0) after Stop")
	}
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(0); err == nil {
		t.Fatal("Restart of a running node succeeded")
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	for {
		info, err := st.Info(ctx)
		if err == nil && info.State.Msgs == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("stream after the restart: %v %v", info, err)
		}
		time.Sleep(20 * time.Millisecond) // the client reconnects and the stream elects a leader
	}
}

// TestServerRestart: a single server restarted keeps its port and its streams.
func TestServerRestart(t *testing.T) {
	s := natstest.StartServer(t, t.TempDir())
	nc, err := nats.Connect(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	nc, err = nats.Connect(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	if _, err := js.Stream(ctx, "S"); err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
}
