package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSoakShort runs the whole harness for a few seconds with every fault,
// against the oldest and the newest CPython found (as compat_tests finds
// them: $PYTHONS, else pyenv, else python3), and requires a PASS: no item
// lost or duplicated, no panic, fds, goroutines and objects back within 5%
// of the baseline. RSS gets 25%: a run this short has not reached the heap's
// working size during its warm-up (the 30-minute figures in the README use
// 5%).
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped in -short mode")
	}
	pys, err := findPythons("")
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	if len(pys) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("soak: no CPython found under CI (set PYTHONS, install pyenv versions, or put python3 on PATH)")
		}
		t.Skip("soak: no CPython interpreter found: set PYTHONS to a list of interpreters, install pyenv versions, or put python3 on PATH")
	}
	chosen := []string{pys[0].Path}
	if len(pys) > 1 {
		chosen = append(chosen, pys[len(pys)-1].Path)
	}
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	o.register(fs)
	if err := fs.Parse([]string{
		"-duration", "6s", "-warmup", "4s", "-settle", "60s",
		"-kill-every", "500ms", "-slow-every", "500ms", "-victims", "3", "-go-clients", "2",
		"-rss-tolerance", "0.25", "-pythons", strings.Join(chosen, ","),
		// The cut comes after a few write timeouts: short ones, so that it happens in a short run.
		"-server-args", "--write-timeout 500ms",
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, &o, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	if !rep.Pass {
		t.Fatalf("soak: FAIL: %s", strings.Join(rep.Reasons, "; "))
	}
	// The faults must have happened, or the PASS says nothing.
	for _, k := range []string{"victim_killed", "junk_idle_socket", "junk_wrong_key", "malformed_answered", "malformed_closed", "slow_reader_cut"} {
		if rep.FaultsWithWarmup[k] == 0 {
			t.Errorf("soak: no %s fault in the whole run", k)
		}
	}
	if rep.Accounting.Acked == 0 || rep.Ops["py_put"] == 0 || rep.Ops["go_put"] == 0 {
		t.Errorf("soak: no load: %d items acknowledged, ops %v", rep.Accounting.Acked, rep.Ops)
	}
}
