package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

// idleResult is the outcome of the idle-connection section.
type idleResult struct {
	Conns        int     `json:"conns"`
	RSSBeforeKiB int64   `json:"rss_before_kib"`
	RSSAfterKiB  int64   `json:"rss_after_kib"`
	KiBPerConn   float64 `json:"kib_per_conn"`
	DummyUS      float64 `json:"dummy_us"`
	HeldCallUS   float64 `json:"held_call_us"`
	Answered     bool    `json:"answered"`
	SetupSeconds float64 `json:"setup_seconds"`
	// From the mpgo_pprof build's /debug/vars (after a forced GC), when -pprof is set.
	HeapInuseBefore  uint64  `json:"heap_inuse_before,omitempty"`
	HeapInuseAfter   uint64  `json:"heap_inuse_after,omitempty"`
	StackInuseBefore uint64  `json:"stack_inuse_before,omitempty"`
	StackInuseAfter  uint64  `json:"stack_inuse_after,omitempty"`
	GoKiBPerConn     float64 `json:"go_kib_per_conn,omitempty"`
}

type memStats struct {
	HeapInuse, StackInuse, Sys uint64
}

// goMem reads runtime.MemStats from an mpgo_pprof build after forcing a GC.
func goMem(addr string) (*memStats, error) {
	cl := &http.Client{Timeout: 10 * time.Second}
	if resp, err := cl.Get("http://" + addr + "/debug/pprof/heap?gc=1&debug=1"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := cl.Get("http://" + addr + "/debug/vars")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct{ Memstats memStats }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return &v.Memstats, nil
}

// runIdle opens n authenticated method-call connections (handshake +
// accept_connection) to s, measures the server's RSS growth per connection,
// and checks that the server still answers a new one-shot request and a
// method call on one of the held connections.
func runIdle(ctx context.Context, s *server, n int, pprofAddr string, hold time.Duration) (*idleResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	r := &idleResult{Conns: n}
	ident, err := loadgen.Create(ctx, s.addr, s.key, "Queue")
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	defer loadgen.OneShot(context.Background(), s.addr, s.key, "decref", ident)
	// Warm the server (first connections grow pools, the heap settles).
	if warm, err := loadgen.DialMany(ctx, s.target(), 64, 16, true); err == nil {
		for _, c := range warm {
			c.Close()
		}
	}
	var m0 *memStats
	if pprofAddr != "" {
		m0, _ = goMem(pprofAddr)
	}
	if r.RSSBeforeKiB, err = host.VmRSS(s.pid()); err != nil {
		return nil, err
	}
	fmt.Printf("idle: opening %d connections to %s\n", n, s.name)
	t0 := time.Now()
	conns, err := loadgen.DialMany(ctx, s.target(), n, 64, true)
	if err != nil {
		return nil, err
	}
	r.SetupSeconds = time.Since(t0).Seconds()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, c := range conns {
		c.DropReader()
	}
	runtime.GC()
	if r.RSSAfterKiB, err = host.VmRSS(s.pid()); err != nil {
		return nil, err
	}
	r.KiBPerConn = float64(r.RSSAfterKiB-r.RSSBeforeKiB) / float64(n)
	if m0 != nil {
		if m1, err := goMem(pprofAddr); err == nil {
			r.HeapInuseBefore, r.HeapInuseAfter = m0.HeapInuse, m1.HeapInuse
			r.StackInuseBefore, r.StackInuseAfter = m0.StackInuse, m1.StackInuse
			r.GoKiBPerConn = (float64(m1.HeapInuse+m1.StackInuse) - float64(m0.HeapInuse+m0.StackInuse)) / 1024 / float64(n)
		}
	}

	t1 := time.Now()
	if _, err := loadgen.OneShot(ctx, s.addr, s.key, "dummy"); err != nil {
		return r, fmt.Errorf("dummy while %d held: %w", n, err)
	}
	r.DummyUS = float64(time.Since(t1)) / 1e3
	held := conns[n/2]
	held.NC.SetDeadline(time.Now().Add(10 * time.Second))
	t2 := time.Now()
	if _, err := held.Call(loadgen.Request(ident, "qsize")); err != nil {
		return r, fmt.Errorf("call on a held connection: %w", err)
	}
	r.HeldCallUS = float64(time.Since(t2)) / 1e3
	r.Answered = true
	if hold > 0 {
		fmt.Printf("idle: holding %d connections for %v (pprof: go tool pprof http://%s/debug/pprof/heap)\n", n, hold, pprofAddr)
		select {
		case <-time.After(hold):
		case <-ctx.Done():
		}
	}
	return r, nil
}
