package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/pickle"
)

// TestServeSignal runs the serve command in-process, talks to it like a Python client, then
// cancels its context (what SIGINT/SIGTERM do): it must return nil (exit status 0).
func TestServeSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--address", "127.0.0.1:0", "--authkey", "k", "--queue", "jobs", "--log-level", "error"}, stdio{out: pw, err: &stderr})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
		if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
			addr = a
		}
		if strings.Contains(sc.Text(), "q = m.jobs()") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" {
		t.Fatalf("no address in output:\n%s", strings.Join(out, "\n"))
	}
	if !strings.Contains(strings.Join(out, "\n"), "QueueManager.register('jobs')") {
		t.Fatalf("no --queue snippet:\n%s", strings.Join(out, "\n"))
	}
	m := &pymock.Manager{Dial: pymock.TCP("tcp", addr), Key: []byte("k"), Version: pymock.Py313}
	defer m.Close()
	id, _, err := m.Create(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Call(ctx, id, "put", pickle.Tuple{"x"}, nil)
	if err != nil || r.Kind != "#RETURN" {
		t.Fatalf("put: %v %v", r, err)
	}
	if _, _, err := m.Create(ctx, "Queue"); err != nil { // a SyncManager typeid
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{{"--queue", "1bad"}, {"--log-format", "xml"}, {"--log-level", "loud"}, {"extra"}, {"--authkey", "a", "--authkey-file", "f"}} {
		var ue usageError
		err := runServe(t.Context(), append(args, "--address", "127.0.0.1:0"), stdio{out: io.Discard, err: io.Discard})
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if err := runServe(t.Context(), []string{"-h"}, stdio{out: io.Discard, err: io.Discard}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
