package bench_test

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mpgo/bench/internal/loadgen"
	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// These benchmarks measure the server request path in-process: a
// managers.Server on loopback TCP and the harness's load generator as the
// client (precomputed protocol-4 frames, so nearly all of the cost and all
// allocations but a few are the server's). Run them with
//
//	go test -run '^$' -bench Server -benchmem ./bench/
//
// They only report; nothing here asserts timings.

var benchKey = []byte("mpgo-bench-authkey")

// startServer runs a managers.Server with the SyncManager types on 127.0.0.1:0 until the
// benchmark ends.
func startServer(tb testing.TB) string {
	tb.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		tb.Fatal(err)
	}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: benchKey})
	if err != nil {
		tb.Fatal(err)
	}
	srv := &managers.Server{AuthKey: benchKey, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	tb.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, managers.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

func benchTarget(tb testing.TB) loadgen.Target {
	return loadgen.Target{Addr: startServer(tb), Key: benchKey}
}

func create(tb testing.TB, t loadgen.Target, w loadgen.Workload) string {
	tb.Helper()
	typeid := "Queue"
	if w == loadgen.Dict {
		typeid = "dict"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ident, err := loadgen.Create(ctx, t.Addr, t.Key, typeid)
	if err != nil {
		tb.Fatal(err)
	}
	return ident
}

func dialMethodConn(tb testing.TB, t loadgen.Target) *loadgen.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := loadgen.DialMany(ctx, t, 1, 1, true)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cs[0].Close() })
	return cs[0]
}

// cpuClock measures the process's CPU time (user+system) over a benchmark:
// on a shared, loaded machine CPU time per operation is far more stable
// than wall time. Client and server share the process, so it is their sum;
// the load generator's part is small and constant.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) *cpuClock {
	b.ResetTimer()
	return &cpuClock{start: processCPU()}
}

// report adds the cpu-ns/op metric.
func (c *cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

// roundTrips runs n operations on c, alternating the workload's two requests.
func roundTrips(tb testing.TB, c *loadgen.Conn, a, b []byte, n int) {
	frames := [2][]byte{a, b}
	for k := 0; k < n; k++ {
		if err := c.Write(frames[k&1]); err != nil {
			tb.Fatal(err)
		}
		p, err := c.ReadFrame()
		if err != nil {
			tb.Fatal(err)
		}
		if !loadgen.OKReply(p) {
			tb.Fatalf("reply %q", p)
		}
	}
}

// BenchmarkServerRequest is one request/reply on one method-call connection
// (Queue put/get, dict __setitem__/__getitem__).
func BenchmarkServerRequest(b *testing.B) {
	for _, w := range []loadgen.Workload{loadgen.Queue, loadgen.Dict} {
		b.Run(string(w), func(b *testing.B) {
			t := benchTarget(b)
			ident := create(b, t, w)
			c := dialMethodConn(b, t)
			fa, fb := loadgen.OpFrames(w, ident, 0)
			roundTrips(b, c, fa, fb, 100) // warm up
			b.ReportAllocs()
			clk := startCPU(b)
			roundTrips(b, c, fa, fb, b.N)
			clk.report(b)
		})
	}
}

// BenchmarkServerRequestParallel runs request/reply loops on GOMAXPROCS*p
// connections at once (go test -cpu / -benchtime as usual; -test.parallelism
// via b.SetParallelism).
func BenchmarkServerRequestParallel(b *testing.B) {
	for _, w := range []loadgen.Workload{loadgen.Queue, loadgen.Dict} {
		b.Run(string(w), func(b *testing.B) {
			t := benchTarget(b)
			ident := create(b, t, w)
			var next atomic.Int64
			b.SetParallelism(8)
			b.ReportAllocs()
			clk := startCPU(b)
			defer clk.report(b)
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				cs, err := loadgen.DialMany(ctx, t, 1, 1, true)
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
				c := cs[0]
				defer c.Close()
				fa, fb := loadgen.OpFrames(w, ident, i)
				frames := [2][]byte{fa, fb}
				for k := 0; pb.Next(); k++ {
					if err := c.Write(frames[k&1]); err != nil {
						b.Error(err)
						return
					}
					p, err := c.ReadFrame()
					if err != nil {
						b.Error(err)
						return
					}
					if !loadgen.OKReply(p) {
						b.Errorf("reply %q", p)
						return
					}
				}
				// leave the queue balanced: a put without its get is harmless
			})
		})
	}
}

// BenchmarkServerConnect is one new authenticated connection with a one-shot
// 'dummy' request: what BaseManager.connect() costs the server.
func BenchmarkServerConnect(b *testing.B) {
	t := benchTarget(b)
	ctx := context.Background()
	b.ReportAllocs()
	clk := startCPU(b)
	for i := 0; i < b.N; i++ {
		if _, err := loadgen.OneShot(ctx, t.Addr, t.Key, "dummy"); err != nil {
			b.Fatal(err)
		}
	}
	clk.report(b)
}

// TestServerRoundTrip checks the benchmark setup itself (fast; runs in
// normal go test).
func TestServerRoundTrip(t *testing.T) {
	tg := benchTarget(t)
	for _, w := range []loadgen.Workload{loadgen.Queue, loadgen.Dict} {
		ident := create(t, tg, w)
		c := dialMethodConn(t, tg)
		fa, fb := loadgen.OpFrames(w, ident, 0)
		roundTrips(t, c, fa, fb, 10)
	}
}
