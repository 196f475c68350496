package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Workload names what one operation is.
type Workload string

// Workloads. One operation is one request/reply round trip; operations
// alternate between the two requests of the workload.
const (
	Queue Workload = "queue" // Queue.put(payload) / Queue.get() on one shared queue
	Dict  Workload = "dict"  // dict.__setitem__(key_i, payload) / __getitem__(key_i), one key per connection
)

// Payload is the value put into the queue / dict.
const Payload = "mpgo-bench-payload"

// Target is a server to drive.
type Target struct {
	Addr string
	Key  []byte // authkey; nil with Echo
	Echo bool   // a plain frame echo server: no handshake, no manager requests
}

// Result is the outcome of one cell (one workload at one concurrency).
type Result struct {
	Ops      uint64        // operations completed in the measured window
	Duration time.Duration // measured window
	Hist     Histogram     // per-operation latency
}

// OpsPerSec returns the throughput.
func (r *Result) OpsPerSec() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Duration.Seconds()
}

// Cell describes one measurement.
type Cell struct {
	Workload Workload
	Conns    int
	Warmup   time.Duration
	Duration time.Duration
	// TypeID is the typeid of the shared object ("": Queue or dict after the workload), e.g.
	// the NAME of `mpgo serve --queue NAME`.
	TypeID string
	// AtStart and AtEnd, when set, are called when the measured window opens
	// and closes (e.g. to sample the server's CPU time).
	AtStart, AtEnd func()
}

// dialParallel bounds concurrent dials (CPython's listen backlog is 16 before 3.13).
const dialParallel = 16

// Run measures one cell against t. Every connection is set up first
// (handshake, accept_connection); then all start together, run Warmup
// unrecorded and Duration recorded. The shared object is decref'd at the end.
func Run(ctx context.Context, t Target, c Cell) (*Result, error) {
	setupCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ident := ""
	if !t.Echo {
		typeid := "Queue"
		if c.Workload == Dict {
			typeid = "dict"
		}
		if c.TypeID != "" {
			typeid = c.TypeID
		}
		var err error
		ident, err = Create(setupCtx, t.Addr, t.Key, typeid)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", typeid, err)
		}
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			OneShot(dctx, t.Addr, t.Key, "decref", ident)
		}()
	}
	conns, err := DialMany(setupCtx, t, c.Conns, dialParallel, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, cn := range conns {
			cn.Close()
		}
	}()

	var start sync.WaitGroup
	start.Add(1)
	begin := time.Now().Add(50 * time.Millisecond)
	recStart := begin.Add(c.Warmup)
	end := recStart.Add(c.Duration)
	deadline := end.Add(30 * time.Second)
	hists := make([]Histogram, len(conns))
	ops := make([]uint64, len(conns))
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for i, cn := range conns {
		a, b := OpFrames(c.Workload, ident, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cn.NC.SetDeadline(deadline)
			start.Wait()
			h := &hists[i]
			var n uint64
			frames := [2][]byte{a, b}
			for k := 0; ; k++ {
				now := time.Now()
				if !now.Before(end) || ctx.Err() != nil {
					break
				}
				if err := cn.Write(frames[k&1]); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				p, err := cn.ReadFrame()
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				lat := time.Since(now)
				if !t.Echo && !OKReply(p) {
					_, err := checkReply(p)
					if err == nil {
						err = errors.New("unexpected reply")
					}
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				if !now.Before(recStart) {
					h.Record(lat)
					n++
				}
			}
			ops[i] = n
		}()
	}
	time.Sleep(time.Until(begin))
	start.Done()
	time.Sleep(time.Until(recStart))
	if c.AtStart != nil {
		c.AtStart()
	}
	time.Sleep(time.Until(end))
	if c.AtEnd != nil {
		c.AtEnd()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, *e
	}
	r := &Result{Duration: c.Duration}
	for i := range hists {
		r.Hist.Merge(&hists[i])
		r.Ops += ops[i]
	}
	return r, nil
}

// OKReply is the fast check of a '#RETURN' reply: the kind is the first
// string of the pickle, within its first 20 bytes.
func OKReply(p []byte) bool {
	return bytes.Contains(p[:min(len(p), 24)], returnKind)
}

var returnKind = []byte("#RETURN")

// OpFrames returns the two precomputed request frames connection i alternates.
func OpFrames(w Workload, ident string, i int) (a, b []byte) {
	switch w {
	case Dict:
		key := fmt.Sprintf("key-%d", i)
		return Frame(Request(ident, "__setitem__", key, Payload)), Frame(Request(ident, "__getitem__", key))
	default:
		return Frame(Request(ident, "put", Payload)), Frame(Request(ident, "get"))
	}
}

// DialMany opens n connections to t, at most par at a time; with accept it
// also sends accept_connection on each (manager targets).
func DialMany(ctx context.Context, t Target, n, par int, accept bool) ([]*Conn, error) {
	conns := make([]*Conn, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			key := t.Key
			if t.Echo {
				key = nil
			}
			cn, err := Dial(ctx, t.Addr, key)
			if err == nil && accept && !t.Echo {
				if dl, ok := ctx.Deadline(); ok {
					cn.NC.SetDeadline(dl)
				}
				err = cn.AcceptConnection(fmt.Sprintf("MainProcess|bench-%d", i))
				cn.NC.SetDeadline(time.Time{})
				if err != nil {
					cn.Close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("connection %d: %w", i, err)
				}
				return
			}
			conns[i] = cn
		}()
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	if first != nil {
		for _, cn := range conns {
			if cn != nil {
				cn.Close()
			}
		}
		return nil, first
	}
	return conns, nil
}
