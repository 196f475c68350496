package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/pickle"
)

func TestServeStoreFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string // in the usage error
	}{
		{[]string{"--store", dir, "--nats", "nats://127.0.0.1:4222"}, "exclude each other"},
		{[]string{"--nats", " , "}, "URL"},
		{[]string{"--store", dir, "--fsync", "sometimes"}, "default or always"},
		{[]string{"--fsync", "always"}, "needs --store"},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--fsync", "always"}, "sync_interval"},
		{[]string{"--nats-listen", "127.0.0.1:0"}, "needs --store"},
		{[]string{"--store", dir, "--nats-listen", "nohostport"}, "HOST:PORT"},
		{[]string{"--store", dir, "--replicas", "3"}, "needs --nats"},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--replicas", "0"}, "1 to 5"},
		{[]string{"--nats", "nats://127.0.0.1:4222", "--replicas", "7"}, "1 to 5"},
		{[]string{"--nats-creds", "f"}, "needs --nats"},
		{[]string{"--store", dir, "--nats-wait", "0s"}, "positive"},
		{[]string{"--store", dir, "--redeliver", "-1s"}, "negative"},
		{[]string{"--store", file}, "not a directory"},
	} {
		var ue usageError
		err := runServe(t.Context(), append(c.args, "--address", "127.0.0.1:0", "--authkey", "k"), stdio{out: io.Discard, err: io.Discard})
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
}

// serveOutput runs serve in-process with args until its output shows the address; it returns the
// address, the output so far and a stop function that cancels the context and returns serve's
// error.
func serveOutput(t *testing.T, args ...string) (addr string, out []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, append([]string{"--address", "127.0.0.1:0", "--authkey", "k", "--log-level", "error"}, args...), stdio{out: pw, err: &stderr})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out = append(out, sc.Text())
		if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
			addr = a
			break
		}
	}
	go io.Copy(io.Discard, pr)
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
			return nil
		}
	}
	if addr == "" {
		err := stop()
		t.Fatalf("no address (serve: %v):\n%s\n%s", err, strings.Join(out, "\n"), stderr.String())
	}
	return addr, out, stop
}

// TestServeStoreRestart puts items into a --store queue (--queue and --shared Queue(N)), stops
// serve as SIGTERM does, starts it again on the same directory and gets them back; a changed
// maxsize is refused at start.
func TestServeStoreRestart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--store", dir, "--queue", "jobs", "--shared", "small=Queue(3)", "--shared", "d=dict"}
	call := func(addr string, f func(m *pymock.Manager, jobs, small string)) {
		t.Helper()
		m := &pymock.Manager{Dial: pymock.TCP("tcp", addr), Key: []byte("k"), Version: pymock.Py313}
		defer m.Close()
		jobs, _, err := m.Create(t.Context(), "jobs")
		if err != nil {
			t.Fatal(err)
		}
		small, _, err := m.Create(t.Context(), "small")
		if err != nil {
			t.Fatal(err)
		}
		f(m, jobs, small)
	}
	addr, out, stop := serveOutput(t, args...)
	if !strings.Contains(strings.Join(out, "\n"), "durable queues in "+dir) {
		t.Errorf("no durable line:\n%s", strings.Join(out, "\n"))
	}
	call(addr, func(m *pymock.Manager, jobs, small string) {
		for _, c := range []struct{ id, item string }{{jobs, "a"}, {jobs, "b"}, {small, "s"}} {
			if r, err := m.Call(t.Context(), c.id, "put", pickle.Tuple{c.item}, nil); err != nil || r.Kind != "#RETURN" {
				t.Fatalf("put %s: %v %v", c.item, r, err)
			}
		}
	})
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	addr, _, stop = serveOutput(t, args...)
	call(addr, func(m *pymock.Manager, jobs, small string) {
		var got []any
		for _, id := range []string{jobs, jobs, small} {
			r, err := m.Call(t.Context(), id, "get", pickle.Tuple{true, 10.0}, nil)
			if err != nil || r.Kind != "#RETURN" {
				t.Fatalf("get: %v %v", r, err)
			}
			got = append(got, r.Value)
		}
		if s := strings.Join([]string{got[0].(string), got[1].(string), got[2].(string)}, ","); s != "a,b,s" {
			t.Errorf("after restart got %s, want a,b,s", s)
		}
	})
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// The stream of small has maxsize 3: asking for 5 must be refused, not silently applied.
	err := runServe(t.Context(), []string{"--address", "127.0.0.1:0", "--authkey", "k", "--log-level", "error",
		"--store", dir, "--shared", "small=Queue(5)"}, stdio{out: io.Discard, err: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "small") {
		t.Errorf("changed maxsize: %v, want an error naming the queue", err)
	}
}
