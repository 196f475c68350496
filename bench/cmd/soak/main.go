package main

import (
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/managers"
)

//go:embed soak_client.py
var clientScript []byte

// options are the command's flags.
type options struct {
	duration, warmup, settle     time.Duration
	killEvery                    time.Duration
	junkEvery, malformedEvery    time.Duration
	slowEvery, slowBound         time.Duration
	pyPace, goPace               time.Duration
	victims, stablePerPython     int
	goClients, junkMax, slowMax  int
	slowRequests, bigValue       int
	tolerance, rssTolerance      float64
	pythons, jsonOut, serverArgs string
	goroutines                   bool
	progress                     time.Duration
	profiles, serverLog          string
}

func (o *options) register(fs *flag.FlagSet) {
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "length of the measured soak (after the warm-up)")
	fs.DurationVar(&o.warmup, "warmup", 30*time.Second, "warm-up with the same load and faults before the baseline is taken")
	fs.DurationVar(&o.settle, "settle", 2*time.Minute, "after the soak, how long resources may take to come back within the tolerance")
	fs.DurationVar(&o.killEvery, "kill-every", time.Second, "kill -9 a victim Python client this often (0: no kills)")
	fs.DurationVar(&o.junkEvery, "junk-every", 50*time.Millisecond, "open a junk connection this often: random bytes, idle socket, wrong key, half a handshake (0: none)")
	fs.IntVar(&o.junkMax, "junk-max", 32, "junk connections open at a time")
	fs.DurationVar(&o.malformedEvery, "malformed-every", 100*time.Millisecond, "send a malformed frame on an authenticated connection this often (0: none)")
	fs.DurationVar(&o.slowEvery, "slow-every", 2*time.Second, "start a slow reader this often (0: none)")
	fs.IntVar(&o.slowMax, "slow-max", 4, "slow readers at a time")
	fs.IntVar(&o.slowRequests, "slow-requests", 64, "requests a slow reader sends before waiting to be cut")
	fs.IntVar(&o.bigValue, "slow-value", 256<<10, "bytes of the value a slow reader requests")
	fs.DurationVar(&o.slowBound, "slow-bound", 30*time.Second, "a slow reader not cut after this long counts as not cut")
	fs.IntVar(&o.victims, "victims", 4, "victim Python clients running at a time (the ones killed)")
	fs.IntVar(&o.stablePerPython, "stable-per-python", 1, "stable (never killed) Python clients per interpreter")
	fs.IntVar(&o.goClients, "go-clients", 4, "stable Go clients (managers.Dial, in this process)")
	fs.DurationVar(&o.pyPace, "py-pace", 2*time.Millisecond, "pause between two operations of a Python client")
	fs.DurationVar(&o.goPace, "go-pace", time.Millisecond, "pause between two operations of a Go client")
	fs.Float64Var(&o.tolerance, "tolerance", 0.05, "allowed growth of RSS, fds, goroutines and objects over the baseline (0.05: 5%)")
	fs.Float64Var(&o.rssTolerance, "rss-tolerance", -1, "allowed growth of RSS alone (-1: -tolerance)")
	fs.StringVar(&o.pythons, "pythons", "", "interpreters: versions (3.13) or paths, comma separated (default: $PYTHONS, else every pyenv version, else python3)")
	fs.StringVar(&o.serverArgs, "server-args", "--write-timeout 2s", "extra arguments of mpgo serve, space separated")
	fs.BoolVar(&o.goroutines, "goroutines", true, "build mpgo with -tags mpgo_pprof to count its goroutines (else only RSS, fds and objects)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.profiles, "profiles", "", "save the server's heap and goroutine profiles at the baseline and at the end in this directory (needs -goroutines; the server samples every 4 KiB allocated)")
	fs.StringVar(&o.serverLog, "server-log", "", "also write the server's log (stderr) to this file")
	fs.DurationVar(&o.progress, "progress", time.Minute, "print a progress line this often (0: never)")
}

func main() {
	var o options
	o.register(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep, err := run(ctx, &o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !rep.Pass {
		os.Exit(1)
	}
}

// counters is a set of named counts.
type counters struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *counters) add(name string, n int64) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[name] += n
	c.mu.Unlock()
}

func (c *counters) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// harness is one soak run.
type harness struct {
	o      *options
	srv    *server
	key    []byte
	ledger *ledger
	ops    counters
	faults counters
	crit   atomic.Int64 // critical sections of the stable clients
	// inFlight counts victims killed with a get from soakvq unanswered.
	inFlight atomic.Int64
	seq      atomic.Int64 // client ids
	feedSeq  atomic.Int64
	slowCut  durations // time from a slow reader's first request to its cut

	client                *managers.Client // the coordinator's
	soakq, soakvq, queue  managers.QueueProxy
	dict, big             managers.DictProxy
	event                 managers.EventProxy // never set: primePool waits on it
	lock                  *managers.Proxy
	slotLocks             []*managers.Proxy
	pyArgs                pyArgs
	problemsMu            sync.Mutex
	problems              []string
	problemCount          int
	pythons               []python
	stableExits, stableOK int
}

// problem records something that makes the run fail.
func (h *harness) problem(format string, args ...any) {
	h.problemsMu.Lock()
	defer h.problemsMu.Unlock()
	h.problemCount++
	if len(h.problems) < 20 {
		h.problems = append(h.problems, fmt.Sprintf(format, args...))
	}
}

func (h *harness) rnd(n int) int { return rand.IntN(n) }

// run is the whole soak: build and start the server, warm up, take the
// baseline, soak, drain, let resources settle, and report.
func run(ctx context.Context, o *options, out io.Writer) (*report, error) {
	pys, err := findPythons(o.pythons)
	if err != nil {
		return nil, err
	}
	if len(pys) == 0 {
		return nil, errors.New("no CPython found (set -pythons or $PYTHONS, install pyenv versions, or put python3 on PATH)")
	}
	tmp, err := os.MkdirTemp("", "mpgo-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	script := filepath.Join(tmp, "soak_client.py")
	if err := os.WriteFile(script, clientScript, 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "soak: building mpgo\n")
	var tags []string
	if o.goroutines { // mpgo_pprof serves runtime figures on $MPGO_PPROF; production builds never contain it
		tags = []string{"-tags", "mpgo_pprof"}
	}
	bin, err := host.Build(ctx, tmp, "mpgo", "./cmd/mpgo", tags...)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	for i := range raw {
		raw[i] = byte(rand.IntN(256))
	}
	key := []byte("mpgo-soak-" + hex.EncodeToString(raw))
	var logFile io.Writer
	if o.serverLog != "" {
		f, err := os.Create(o.serverLog)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		logFile = f
	}
	var env []string
	if o.profiles != "" {
		// Sample every 4 KiB allocated (default 512 KiB), so that the profiles show
		// differences of a few hundred KiB.
		env = append(env, "GODEBUG=memprofilerate=4096")
	}
	srv, err := startServer(ctx, bin, key, o.goroutines, strings.Fields(o.serverArgs), logFile, env)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	h := &harness{o: o, srv: srv, key: key, ledger: newLedger(), pythons: pys}
	var names []string
	for _, p := range pys {
		names = append(names, p.String())
	}
	fmt.Fprintf(out, "soak: mpgo serve %s on %s; Pythons %s; warm-up %v, soak %v\n", o.serverArgs, srv.addr, strings.Join(names, " "), o.warmup, o.duration)
	if err := h.setup(ctx, script); err != nil {
		return nil, err
	}
	defer h.client.Close()

	rep := &report{Started: time.Now().UTC(), Args: strings.Join(os.Args[1:], " "), ServerArgs: o.serverArgs, Pythons: names,
		Tolerance: o.tolerance, RSSTolerance: o.rssTol()}
	// Warm-up: the same load and faults, so that pools and the heap reach
	// their working size before the baseline.
	h.load(ctx, o.warmup)
	if _, err := h.drain(ctx); err != nil {
		return nil, err
	}
	base, err := h.quiesce(ctx)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	rep.Baseline = base
	fmt.Fprintf(out, "soak: baseline %s\n", base)
	h.saveProfiles("baseline")
	opsBefore, faultsBefore := h.ops.snapshot(), h.faults.snapshot()
	t0 := time.Now()
	stopProgress, progressDone := make(chan struct{}), make(chan struct{})
	if o.progress <= 0 {
		close(progressDone)
	} else {
		tick := time.NewTicker(o.progress)
		defer tick.Stop()
		go func() {
			defer close(progressDone)
			for {
				select {
				case <-stopProgress:
					return
				case <-tick.C:
				}
				rss, _, _ := procStatus(srv.pid())
				fds, _ := fdCount(srv.pid())
				fmt.Fprintf(out, "soak: %v: %d operations, %d faults, server RSS %d KiB, %d fds, %d problems\n",
					time.Since(t0).Round(time.Second), total(diff(h.ops.snapshot(), opsBefore)), total(diff(h.faults.snapshot(), faultsBefore)),
					rss, fds, h.problemTotal())
			}
		}()
	}
	h.load(ctx, o.duration)
	close(stopProgress)
	<-progressDone
	rep.Seconds = time.Since(t0).Seconds()
	rep.Ops, rep.Faults = diff(h.ops.snapshot(), opsBefore), diff(h.faults.snapshot(), faultsBefore)
	rep.OpsWithWarmup, rep.FaultsWithWarmup = h.ops.snapshot(), h.faults.snapshot()
	if ctx.Err() != nil {
		h.problem("interrupted")
	}
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if rep.Queued, err = h.drain(fctx); err != nil {
		return nil, err
	}
	rep.Accounting = h.ledger.check(h.inFlight.Load())
	rep.Final, rep.SettleSeconds, err = h.settle(fctx, base)
	if err != nil {
		return nil, fmt.Errorf("final measurement: %w", err)
	}
	// Now that the connections of the killed victims are gone (and with them
	// any request of theirs still being served), free the slot Locks they
	// died holding, then check every Lock.
	for i := range h.slotLocks {
		if err := h.freeSlotLock(i); err != nil {
			h.problem("slot lock %d: %v", i, err)
		}
	}
	h.checkLocks(fctx, rep)
	h.saveProfiles("final")
	rep.ServerAlive = srv.alive()
	// A clean shutdown must not panic either.
	syscall.Kill(srv.pid(), syscall.SIGTERM)
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		h.problem("mpgo serve did not exit within 30 s of SIGTERM")
	}
	rep.SlowCutMeanSeconds, rep.SlowCutMaxSeconds = h.slowCut.seconds()
	rep.Panics = srv.panics.Load()
	rep.ServerErrors, rep.ServerWarnings, rep.ServerLogLines = srv.errors.Load(), srv.warnings.Load(), srv.logLines.Load()
	srv.mu.Lock()
	rep.PanicLines, rep.ErrorLines = srv.panicLines, srv.errorLines
	srv.mu.Unlock()
	h.problemsMu.Lock()
	rep.Problems, rep.ProblemCount = h.problems, h.problemCount
	h.problemsMu.Unlock()
	rep.judge()
	rep.print(out)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func total(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

func (h *harness) problemTotal() int {
	h.problemsMu.Lock()
	defer h.problemsMu.Unlock()
	return h.problemCount
}

func diff(a, b map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// setup connects the coordinator and creates the shared objects: the
// registered queues soakq (clients) and soakvq (victims), a Queue, a dict
// with the lock counter, the shared Lock, one Lock per victim slot, and the
// dict holding the slow readers' large value. The coordinator holds them
// for the whole run, so the object count does not depend on which clients
// are connected.
func (h *harness) setup(ctx context.Context, script string) error {
	c, err := h.dial(ctx, poolSize)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	h.client = c
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	create := func(typeid string) (*managers.Proxy, error) {
		p, err := c.Create(cctx, typeid, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", typeid, err)
		}
		return p, nil
	}
	var p *managers.Proxy
	if p, err = create("soakq"); err != nil {
		return err
	}
	h.soakq = managers.QueueProxy{Proxy: p}
	if p, err = create("soakvq"); err != nil {
		return err
	}
	h.soakvq = managers.QueueProxy{Proxy: p}
	if p, err = create("Queue"); err != nil {
		return err
	}
	h.queue = managers.QueueProxy{Proxy: p}
	if p, err = create("dict"); err != nil {
		return err
	}
	h.dict = managers.DictProxy{Proxy: p}
	if err := h.dict.Set(cctx, "counter", int64(0)); err != nil {
		return err
	}
	if h.lock, err = create("Lock"); err != nil {
		return err
	}
	for range h.o.victims {
		l, err := create("Lock")
		if err != nil {
			return err
		}
		h.slotLocks = append(h.slotLocks, l)
	}
	if p, err = create("dict"); err != nil {
		return err
	}
	h.big = managers.DictProxy{Proxy: p}
	if p, err = create("Event"); err != nil {
		return err
	}
	h.event = managers.EventProxy{Proxy: p}
	if err := h.big.Set(cctx, "big", strings.Repeat("x", h.o.bigValue)); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(h.srv.addr)
	h.pyArgs = pyArgs{script: script, host: host, port: port, keyHex: hex.EncodeToString(h.key),
		queueID: h.queue.Token().ID, dictID: h.dict.Token().ID, lockID: h.lock.Token().ID,
		stop: filepath.Join(filepath.Dir(script), "stop"), pace: h.o.pyPace}
	return nil
}

// load runs every client and fault for d, then stops them: faults first,
// then the victims (killed), then the stable clients (stop file / channel),
// which must exit cleanly.
func (h *harness) load(ctx context.Context, d time.Duration) {
	os.Remove(h.pyArgs.stop)
	// Cancelled by a timer rather than a deadline: the faults' own timeouts
	// are children of lctx, and a shared deadline could fire a child's first,
	// making the end of the phase look like a server that did not answer.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	end := time.AfterFunc(d, cancel)
	defer end.Stop()
	var stable []*pyProc
	for _, py := range h.pythons {
		for range h.o.stablePerPython {
			p, err := h.startPy(py, fmt.Sprintf("p%d", h.seq.Add(1)), false, 0, "")
			if err != nil {
				h.problem("start python %s: %v", py, err)
				continue
			}
			stable = append(stable, p)
		}
	}
	stop := make(chan struct{})
	var gw sync.WaitGroup
	for i := range h.o.goClients + 1 {
		gw.Add(1)
		go func() {
			defer gw.Done()
			var err error
			if i == h.o.goClients {
				err = h.feeder(stop)
			} else {
				err = h.goWorker(stop, fmt.Sprintf("g%d", h.seq.Add(1)), h.o.goPace)
			}
			if err != nil {
				h.problem("go client: %v", err)
			}
		}()
	}
	var fw sync.WaitGroup
	run := func(f func()) {
		fw.Add(1)
		go func() { defer fw.Done(); f() }()
	}
	if h.o.killEvery > 0 && h.o.victims > 0 {
		run(func() { h.runVictims(lctx, h.pythons, h.o.victims, h.o.killEvery) })
	}
	run(func() { every(lctx, h.o.junkEvery, h.o.junkMax, h.junk) })
	run(func() { every(lctx, h.o.malformedEvery, 8, h.malformed) })
	run(func() { every(lctx, h.o.slowEvery, h.o.slowMax, h.slowReader) })
	<-lctx.Done()
	fw.Wait()
	close(stop)
	if f, err := os.Create(h.pyArgs.stop); err == nil {
		f.Close()
	}
	gw.Wait()
	for _, p := range stable {
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			h.problem("stable python client %s (%s) did not stop within 2 min", p.id, p.py)
			p.kill()
		}
		p.mu.Lock()
		ok := p.exitErr == nil && p.doneMsg
		p.mu.Unlock()
		h.stableExits++
		if ok {
			h.stableOK++
		} else {
			h.problem("stable python client %s (%s) failed: %v\n%s", p.id, p.py, p.exitErr, p.stderrText())
		}
	}
}

// poolSize is the coordinator's ClientConfig.MaxIdleConns.
const poolSize = 4

// primePool leaves exactly poolSize idle connections in the coordinator's
// pool (poolSize calls at once, each on a connection of its own, all
// returned), so that the server's fds and goroutines at the baseline and at
// the end do not depend on how many calls the coordinator last made at once.
func (h *harness) primePool(ctx context.Context) error {
	errs := make(chan error, poolSize)
	for range poolSize {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			_, err := h.event.Wait(cctx, 100*time.Millisecond)
			errs <- err
		}()
	}
	var err error
	for range poolSize {
		err = errors.Join(err, <-errs)
	}
	return err
}

// saveProfiles writes the server's heap and goroutine profiles to
// -profiles as heap-NAME.pb.gz and goroutines-NAME.txt (compare with go tool
// pprof -base).
func (h *harness) saveProfiles(name string) {
	if h.o.profiles == "" || h.srv.pprofAddr == "" {
		return
	}
	for file, path := range map[string]string{"heap-" + name + ".pb.gz": "/debug/pprof/heap", "goroutines-" + name + ".txt": "/debug/pprof/goroutine?debug=1"} {
		body, err := h.srv.get(path)
		if err == nil {
			err = os.WriteFile(filepath.Join(h.o.profiles, file), []byte(body), 0o644)
		}
		if err != nil {
			h.problem("profile %s: %v", file, err)
		}
	}
}

// sample measures the server once (after a forced collection).
func (h *harness) sample(ctx context.Context) (resources, error) {
	if err := h.primePool(ctx); err != nil {
		return resources{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	n, err := h.client.NumberOfObjects(cctx)
	cancel()
	if err != nil {
		return resources{}, err
	}
	return h.srv.measure(int64(n))
}

// quiesce waits until the idle server's goroutines and fds stop changing
// (the connections of the stopped clients are gone), up to 30 s, and
// returns the last sample: the baseline.
func (h *harness) quiesce(ctx context.Context) (resources, error) {
	prev, err := h.sample(ctx)
	if err != nil {
		return prev, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return prev, ctx.Err()
		}
		cur, err := h.sample(ctx)
		if err != nil {
			return cur, err
		}
		if cur.FDs == prev.FDs && cur.Goroutines == prev.Goroutines && cur.Objects == prev.Objects {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// rssTol is the tolerance for RSS.
func (o *options) rssTol() float64 {
	if o.rssTolerance < 0 {
		return o.tolerance
	}
	return o.rssTolerance
}

// within reports whether final is within the tolerance of base (growth only).
func within(final, base int64, tol float64) bool {
	return float64(final) <= float64(base)*(1+tol)
}

func (r resources) within(base resources, tol, rssTol float64) bool {
	return within(r.RSSKiB, base.RSSKiB, rssTol) && within(r.FDs, base.FDs, tol) &&
		within(r.Goroutines, base.Goroutines, tol) && within(r.Objects, base.Objects, tol)
}

// settle samples every second until the server is back within the
// tolerance or -settle passes; it returns the last sample.
func (h *harness) settle(ctx context.Context, base resources) (resources, float64, error) {
	t0 := time.Now()
	for {
		cur, err := h.sample(ctx)
		if err != nil || cur.within(base, h.o.tolerance, h.o.rssTol()) || time.Since(t0) > h.o.settle {
			return cur, time.Since(t0).Seconds(), err
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return cur, time.Since(t0).Seconds(), ctx.Err()
		}
	}
}

// checkLocks checks that the shared Lock and every slot Lock can be taken
// (none is left held) and that the counter equals the critical sections.
func (h *harness) checkLocks(ctx context.Context, rep *report) {
	for i, p := range append([]*managers.Proxy{h.lock}, h.slotLocks...) {
		l := managers.NewLockProxy(p)
		ok, err := l.Acquire(ctx, false, -1)
		switch {
		case err != nil:
			h.problem("lock %d: %v", i, err)
		case !ok:
			h.problem("lock %d is still held after every client stopped", i)
		default:
			if err := l.Release(ctx); err != nil {
				h.problem("lock %d: release: %v", i, err)
			}
		}
	}
	v, err := h.dict.Get(ctx, "counter")
	if err == nil {
		rep.Counter, err = toInt(v)
	}
	if err != nil {
		h.problem("counter: %v", err)
	}
	rep.CriticalSections = h.crit.Load()
	rep.StableExits, rep.StableOK = h.stableExits, h.stableOK
}

// report is what the run measured, printed and written with -json.
type report struct {
	Started          time.Time        `json:"started"`
	Args             string           `json:"args"`
	ServerArgs       string           `json:"server_args"`
	Pythons          []string         `json:"pythons"`
	Seconds          float64          `json:"seconds"`
	Ops              map[string]int64 `json:"ops"`
	Faults           map[string]int64 `json:"faults"`
	OpsWithWarmup    map[string]int64 `json:"ops_with_warmup"`
	FaultsWithWarmup map[string]int64 `json:"faults_with_warmup"`
	// Time from a slow reader's first request to the server's cut (whole run).
	SlowCutMeanSeconds float64    `json:"slow_cut_mean_seconds"`
	SlowCutMaxSeconds  float64    `json:"slow_cut_max_seconds"`
	Accounting         accounting `json:"accounting"`
	Queued             int64      `json:"queued_at_end"`
	Counter            int64      `json:"lock_counter"`
	CriticalSections   int64      `json:"critical_sections"`
	StableExits        int        `json:"stable_python_exits"`
	StableOK           int        `json:"stable_python_ok"`
	Baseline           resources  `json:"baseline"`
	Final              resources  `json:"final"`
	SettleSeconds      float64    `json:"settle_seconds"`
	Tolerance          float64    `json:"tolerance"`
	RSSTolerance       float64    `json:"rss_tolerance"`
	Panics             int64      `json:"panics"`
	PanicLines         []string   `json:"panic_lines,omitempty"`
	ServerErrors       int64      `json:"server_error_lines"`
	ErrorLines         []string   `json:"error_lines,omitempty"`
	ServerWarnings     int64      `json:"server_warning_lines"`
	ServerLogLines     int64      `json:"server_log_lines"`
	ServerAlive        bool       `json:"server_alive"`
	Problems           []string   `json:"problems,omitempty"`
	ProblemCount       int        `json:"problem_count"`
	Pass               bool       `json:"pass"`
	Reasons            []string   `json:"fail_reasons,omitempty"`
}

// judge sets Pass and the reasons for a failure.
func (r *report) judge() {
	a := r.Accounting
	fail := func(format string, args ...any) { r.Reasons = append(r.Reasons, fmt.Sprintf(format, args...)) }
	if a.Lost > 0 {
		fail("%d acknowledged items lost (e.g. %s)", a.Lost, strings.Join(a.LostExamples, " "))
	}
	if a.LostVictimQueue > a.InFlightAtKill {
		fail("%d items lost from soakvq, more than the %d gets in flight at a kill", a.LostVictimQueue, a.InFlightAtKill)
	}
	if a.Duplicated > 0 {
		fail("%d items got twice (e.g. %s)", a.Duplicated, strings.Join(a.DuplicateExample, " "))
	}
	if a.Unknown > 0 {
		fail("%d items got that were never put (e.g. %s)", a.Unknown, strings.Join(a.UnknownExamples, " "))
	}
	if r.Counter != r.CriticalSections {
		fail("lock counter %d != %d critical sections (mutual exclusion broken)", r.Counter, r.CriticalSections)
	}
	if r.Panics > 0 {
		fail("%d panics in the server log", r.Panics)
	}
	if !r.ServerAlive {
		fail("the server exited during the run")
	}
	check := func(name string, f, b int64, tol float64) {
		if b >= 0 && !within(f, b, tol) {
			fail("%s %d is %+.1f%% over the baseline %d (tolerance %.0f%%)", name, f, pct(f, b), b, tol*100)
		}
	}
	check("RSS KiB", r.Final.RSSKiB, r.Baseline.RSSKiB, r.RSSTolerance)
	check("fds", r.Final.FDs, r.Baseline.FDs, r.Tolerance)
	check("goroutines", r.Final.Goroutines, r.Baseline.Goroutines, r.Tolerance)
	check("objects", r.Final.Objects, r.Baseline.Objects, r.Tolerance)
	if r.ProblemCount > 0 {
		fail("%d problems (first: %s)", r.ProblemCount, r.Problems[0])
	}
	r.Pass = len(r.Reasons) == 0
}

func pct(f, b int64) float64 {
	if b == 0 {
		return 0
	}
	return (float64(f) - float64(b)) / float64(b) * 100
}

func (r resources) String() string {
	g := "not measured"
	if r.Goroutines >= 0 {
		g = fmt.Sprint(r.Goroutines)
	}
	return fmt.Sprintf("RSS %d KiB, %d fds, %s goroutines, %d threads, %d objects", r.RSSKiB, r.FDs, g, r.Threads, r.Objects)
}

func printCounts(w io.Writer, title string, m map[string]int64, secs float64) {
	keys := make([]string, 0, len(m))
	var total int64
	for k, v := range m {
		keys = append(keys, k)
		total += v
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%s (total %d, %.0f/s):\n", title, total, float64(total)/secs)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-28s %12d\n", k, m[k])
	}
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== mpgo soak report\n")
	fmt.Fprintf(w, "soak %.0f s (after the warm-up), server args %q, Pythons %s\n", r.Seconds, r.ServerArgs, strings.Join(r.Pythons, " "))
	printCounts(w, "operations during the soak", r.Ops, r.Seconds)
	printCounts(w, "faults injected during the soak", r.Faults, r.Seconds)
	if r.SlowCutMaxSeconds > 0 {
		fmt.Fprintf(w, "slow readers cut %.1f s after their first request on average, at most %.1f s\n", r.SlowCutMeanSeconds, r.SlowCutMaxSeconds)
	}
	a := r.Accounting
	fmt.Fprintf(w, "items (whole run, warm-up included):\n")
	fmt.Fprintf(w, "  put and acknowledged       %12d\n", a.Acked)
	fmt.Fprintf(w, "  put cut by a kill          %12d (%d of them got once: allowed)\n", a.TriedOnly, a.TriedDelivered)
	fmt.Fprintf(w, "  got (consumers + drains)   %12d\n", a.Got)
	fmt.Fprintf(w, "  still queued at the end    %12d (drained, counted in got)\n", r.Queued)
	fmt.Fprintf(w, "  lost                       %12d\n", a.Lost)
	fmt.Fprintf(w, "  lost from soakvq           %12d (allowed up to %d gets in flight at a kill)\n", a.LostVictimQueue, a.InFlightAtKill)
	fmt.Fprintf(w, "  duplicated                 %12d\n", a.Duplicated)
	fmt.Fprintf(w, "  unknown                    %12d\n", a.Unknown)
	fmt.Fprintf(w, "lock: counter %d, critical sections %d; stable Python clients exited cleanly: %d/%d\n", r.Counter, r.CriticalSections, r.StableOK, r.StableExits)
	fmt.Fprintf(w, "server: %d panics, %d error lines, %d warning lines, %d log lines, alive until the end: %v\n", r.Panics, r.ServerErrors, r.ServerWarnings, r.ServerLogLines, r.ServerAlive)
	fmt.Fprintf(w, "resources     %12s %12s %8s\n", "baseline", "final", "delta")
	row := func(name string, b, f int64) {
		if b < 0 {
			fmt.Fprintf(w, "  %-11s %12s %12s\n", name, "-", "-")
			return
		}
		fmt.Fprintf(w, "  %-11s %12d %12d %+7.1f%%\n", name, b, f, pct(f, b))
	}
	row("RSS KiB", r.Baseline.RSSKiB, r.Final.RSSKiB)
	row("fds", r.Baseline.FDs, r.Final.FDs)
	row("goroutines", r.Baseline.Goroutines, r.Final.Goroutines)
	row("objects", r.Baseline.Objects, r.Final.Objects)
	row("threads", r.Baseline.Threads, r.Final.Threads)
	if r.Baseline.Goroutines >= 0 {
		row("heap KiB", r.Baseline.HeapInuseKiB, r.Final.HeapInuseKiB)
		row("stacks KiB", r.Baseline.StackInuseKiB, r.Final.StackInuseKiB)
		row("idle KiB", r.Baseline.HeapIdleKiB, r.Final.HeapIdleKiB)
	}
	fmt.Fprintf(w, "  (final taken %.0f s after the load stopped; tolerance +%.0f%%, RSS +%.0f%%; threads are OS threads; heap and stacks in use and idle heap not returned to the OS are the Go runtime's view; all four informational)\n",
		r.SettleSeconds, r.Tolerance*100, r.RSSTolerance*100)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	for _, l := range r.PanicLines {
		fmt.Fprintf(w, "panic line: %s\n", l)
	}
	if r.Pass {
		fmt.Fprintf(w, "PASS\n")
		return
	}
	fmt.Fprintf(w, "FAIL\n")
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", s)
	}
}
