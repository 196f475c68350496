package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench"
	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

type options struct {
	servers   []string
	conns     []int
	workloads []loadgen.Workload
	duration  time.Duration
	warmup    time.Duration
	runs      int
	pyProcs   []int
	pyDur     time.Duration
	pyClient  string
	connectN  int
	idle      int
	idleHold  time.Duration
	sections  map[string]bool
	mpgoBin   string
	mpgoTags  string
	mpgoArgs  []string
	pprof     string
	out       string
	md        string
	svg       string
	pin       *pinning
}

func main() {
	role := flag.String("role", "", "internal: run as a helper server (echo)")
	var o options
	servers := flag.String("servers", "cpython3.13,cpython3.11,mpgo,echo", "servers to drive: cpythonX.Y, mpgo, echo")
	conns := flag.String("conns", "1,4,16,64,256", "connection counts for the Go load generator")
	workloads := flag.String("workloads", "queue,dict", "workloads: queue (put/get), dict (__setitem__/__getitem__)")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "measured time per cell")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per cell")
	flag.IntVar(&o.runs, "runs", 3, "runs per cell; the table shows the median")
	pyProcs := flag.String("pyprocs", "1,2,4", "Python client process counts")
	flag.DurationVar(&o.pyDur, "pyduration", 2*time.Second, "measured time per Python client cell")
	flag.StringVar(&o.pyClient, "pyclient", "3.13", "CPython version (or interpreter path) for the Python clients")
	flag.IntVar(&o.connectN, "connect-n", 20, "samples of Python connect()+m.Queue() time")
	flag.IntVar(&o.idle, "idle", 10000, "idle connections held against mpgo in the idle section")
	flag.DurationVar(&o.idleHold, "idle-hold", 0, "keep the idle connections open this long after measuring (to take profiles)")
	sections := flag.String("sections", "go,py,connect,idle", "sections to run: go, py, connect, idle")
	flag.StringVar(&o.mpgoBin, "mpgo", "", "prebuilt mpgo binary (default: go build ./cmd/mpgo)")
	flag.StringVar(&o.mpgoTags, "tags", "", "build tags for the mpgo binary")
	mpgoArgs := flag.String("mpgo-args", "", "extra arguments for mpgo serve, split at blanks (e.g. \"--http 127.0.0.1:0\" to measure the metrics' cost)")
	flag.StringVar(&o.pprof, "pprof", "", "serve pprof from mpgo at this address (builds with -tags mpgo_pprof, sets MPGO_PPROF)")
	flag.StringVar(&o.out, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.md, "md", "", "also write the result tables as Markdown to this file")
	flag.StringVar(&o.svg, "svg", "", "also write an SVG chart of the go section's ops/s against connections per server to this file")
	pin := flag.String("pin", "auto", "CPU pinning: auto (generator on the lower half of the CPUs, servers on the upper half), off, or GEN/SRV lists such as 0/1")
	quick := flag.Bool("quick", false, "smoke run: 1 run, 0.5s cells, conns 1,16, 1000 idle connections")
	flag.Parse()

	o.mpgoArgs = strings.Fields(*mpgoArgs)
	if *role == "echo" {
		if err := runEcho(); err != nil {
			fmt.Fprintln(os.Stderr, "echo:", err)
			os.Exit(1)
		}
		return
	}
	if *quick {
		o.runs, o.duration, o.warmup, o.pyDur, o.connectN = 1, 500*time.Millisecond, 100*time.Millisecond, 500*time.Millisecond, 5
		if !flagSet("conns") {
			*conns = "1,16"
		}
		if !flagSet("pyprocs") {
			*pyProcs = "1,2"
		}
		if !flagSet("idle") {
			o.idle = 1000
		}
	}
	var err error
	if o.pin, err = newPinning(*pin); err != nil {
		fmt.Fprintln(os.Stderr, "mgrbench:", err)
		os.Exit(2)
	}
	o.servers = splitList(*servers)
	o.conns = intList(*conns)
	for _, w := range splitList(*workloads) {
		o.workloads = append(o.workloads, loadgen.Workload(w))
	}
	o.pyProcs = intList(*pyProcs)
	o.sections = map[string]bool{}
	for _, s := range splitList(*sections) {
		o.sections[s] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, &o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mgrbench:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(s string) []int {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "mgrbench: bad number %q\n", f)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}

// report is everything measured, also written with -json.
type report struct {
	Started time.Time                      `json:"started"`
	Load    string                         `json:"loadavg_before"`
	Options map[string]string              `json:"options"`
	Go      map[string]map[string]*cellAgg `json:"go"`      // server -> "workload/conns" -> result
	Py      map[string]map[string]*cellAgg `json:"py"`      // server -> "procs" -> result
	Connect map[string]*connectResult      `json:"connect"` // server -> connect()+m.Queue(); "echo": the transport floor
	Idle    *idleResult                    `json:"idle,omitempty"`
	Errors  []string                       `json:"errors,omitempty"`
}

// cellAgg is the median over runs of one cell.
type cellAgg struct {
	OpsPerSec float64   `json:"ops_per_sec"`
	SrvCPUus  float64   `json:"server_cpu_us_per_op,omitempty"` // server CPU time per operation
	GenCPUus  float64   `json:"generator_cpu_us_per_op,omitempty"`
	P50us     float64   `json:"p50_us"`
	P99us     float64   `json:"p99_us"`
	Runs      []float64 `json:"runs_ops_per_sec"`
	p50s      []float64
	p99s      []float64
	srvCPU    []float64
	genCPU    []float64
}

func (c *cellAgg) addCPU(srv, gen float64) {
	c.srvCPU = append(c.srvCPU, srv)
	c.genCPU = append(c.genCPU, gen)
	c.SrvCPUus, c.GenCPUus = median(c.srvCPU), median(c.genCPU)
}

func (c *cellAgg) add(opsps float64, p50, p99 time.Duration) {
	c.Runs = append(c.Runs, opsps)
	c.p50s = append(c.p50s, float64(p50)/1e3)
	c.p99s = append(c.p99s, float64(p99)/1e3)
	c.OpsPerSec, c.P50us, c.P99us = median(c.Runs), median(c.p50s), median(c.p99s)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func run(ctx context.Context, o *options) error {
	host.RaiseNoFile()
	rep := &report{
		Started: time.Now(),
		Options: map[string]string{"args": strings.Join(os.Args[1:], " "), "gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)), "pin": o.pin.String()},
		Go:      map[string]map[string]*cellAgg{},
		Py:      map[string]map[string]*cellAgg{},
		Connect: map[string]*connectResult{},
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.Load = strings.TrimSpace(string(b))
		fmt.Printf("load average before: %s\n", rep.Load)
	}
	fmt.Printf("CPU pinning: %s\n", o.pin)
	scriptDir, err := os.MkdirTemp("", "mgrbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scriptDir)
	if err := writeScripts(scriptDir); err != nil {
		return err
	}
	key := []byte("mpgo-bench-authkey")

	// Start every server once; they live for the whole run.
	var srvs []*server
	var mpgoBin string     // built once, also for the idle section's server
	goEnv := o.pin.goEnv() // for the Go servers (mpgo, echo)
	mpgoEnv := goEnv
	defer func() {
		for _, s := range srvs {
			s.stop()
		}
	}()
	for _, name := range o.servers {
		var s *server
		var err error
		switch {
		case name == "echo":
			s, err = startEcho(ctx, goEnv)
		case name == "mpgo":
			mpgoBin, err = mpgoBinary(o, scriptDir)
			if err == nil {
				if o.pprof != "" {
					mpgoEnv = append(mpgoEnv, "MPGO_PPROF="+o.pprof)
				}
				s, err = startMpgo(ctx, mpgoBin, key, mpgoEnv, o.mpgoArgs)
			}
		case strings.HasPrefix(name, "cpython"):
			var py string
			py, err = host.FindPython(strings.TrimPrefix(name, "cpython"))
			if err == nil {
				s, err = startCPython(ctx, name, py, scriptDir, key)
			}
		default:
			err = fmt.Errorf("unknown server %q", name)
		}
		if err != nil {
			msg := fmt.Sprintf("%s: n/a (%v)", name, err)
			fmt.Println(msg)
			rep.Errors = append(rep.Errors, msg)
			continue
		}
		// Sanity: a manager must answer a one-shot dummy.
		if !s.echo {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := loadgen.OneShot(cctx, s.addr, s.key, "dummy")
			cancel()
			if err != nil {
				msg := fmt.Sprintf("%s: n/a (dummy failed: %v)", name, err)
				fmt.Println(msg)
				rep.Errors = append(rep.Errors, msg)
				s.stop()
				continue
			}
		}
		fmt.Printf("%s listening on %s (pid %d)\n", s.name, s.addr, s.pid())
		srvs = append(srvs, s)
	}

	if o.sections["go"] {
		var pids []int
		for _, s := range srvs {
			pids = append(pids, s.pid())
		}
		o.pin.pin(pids)
		runGo(ctx, o, srvs, rep)
		o.pin.unpin(pids)
	}
	if o.sections["py"] || o.sections["connect"] {
		runPy(ctx, o, srvs, scriptDir, rep)
	}
	if o.sections["idle"] && o.idle > 0 {
		for _, s := range srvs {
			if s.name != "mpgo" {
				continue
			}
			// A fresh server: the one the load sections drove keeps its
			// heap's high-water mark (Go returns freed memory to the OS
			// slowly), and the idle connections would fit into it without
			// the RSS growing. The pprof address is the driven server's.
			fresh, err := startMpgo(ctx, mpgoBin, key, nil, o.mpgoArgs)
			if err == nil {
				pprofAddr := ""
				if o.pprof != "" {
					s.stop()
					fresh.stop()
					fresh, err = startMpgo(ctx, mpgoBin, key, mpgoEnv, o.mpgoArgs)
					pprofAddr = o.pprof
				}
				if err == nil {
					var r *idleResult
					r, err = runIdle(ctx, fresh, o.idle, pprofAddr, o.idleHold)
					rep.Idle = r
					fresh.stop()
				}
			}
			if err != nil {
				msg := fmt.Sprintf("idle: %v", err)
				fmt.Println(msg)
				rep.Errors = append(rep.Errors, msg)
			}
		}
	}
	printReport(o, srvs, rep)
	var names []string
	for _, s := range srvs {
		names = append(names, s.name)
	}
	if o.svg != "" && len(rep.Go) > 0 {
		f, err := os.Create(o.svg)
		if err != nil {
			return err
		}
		writeSVG(f, o, names, rep)
		if err := f.Close(); err != nil {
			return err
		}
	}
	if o.md != "" {
		f, err := os.Create(o.md)
		if err != nil {
			return err
		}
		writeMarkdown(f, o, names, rep)
		if err := f.Close(); err != nil {
			return err
		}
	}
	if o.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.out, b, 0o644); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func runGo(ctx context.Context, o *options, srvs []*server, rep *report) {
	total := o.runs * len(srvs) * len(o.workloads) * len(o.conns)
	fmt.Printf("go load generator: %d cells of %v (+%v warm-up)\n", total, o.duration, o.warmup)
	for r := 0; r < o.runs; r++ {
		for _, w := range o.workloads {
			for _, n := range o.conns {
				for _, s := range srvs {
					if s.echo && w != o.workloads[0] {
						continue // echo does not depend on the workload
					}
					if ctx.Err() != nil {
						return
					}
					var s0, s1, g0, g1 time.Duration
					cell := loadgen.Cell{Workload: w, Conns: n, Warmup: o.warmup, Duration: o.duration,
						AtStart: func() { s0, _ = cpuTime(s.pid()); g0 = selfCPU() },
						AtEnd:   func() { s1, _ = cpuTime(s.pid()); g1 = selfCPU() },
					}
					res, err := loadgen.Run(ctx, s.target(), cell)
					key := fmt.Sprintf("%s/%d", w, n)
					if err != nil {
						msg := fmt.Sprintf("run %d %s %s: %v", r+1, s.name, key, err)
						fmt.Println(msg)
						rep.Errors = append(rep.Errors, msg)
						continue
					}
					m := rep.Go[s.name]
					if m == nil {
						m = map[string]*cellAgg{}
						rep.Go[s.name] = m
					}
					if m[key] == nil {
						m[key] = &cellAgg{}
					}
					m[key].add(res.OpsPerSec(), res.Hist.Quantile(0.5), res.Hist.Quantile(0.99))
					var srvUS, genUS float64
					if res.Ops > 0 {
						srvUS = float64(s1-s0) / 1e3 / float64(res.Ops)
						genUS = float64(g1-g0) / 1e3 / float64(res.Ops)
						m[key].addCPU(srvUS, genUS)
					}
					fmt.Printf("  run %d %-12s %-10s %10.0f ops/s  p50 %8s  p99 %8s  cpu/op server %5.1fus generator %5.1fus\n", r+1, s.name, key,
						res.OpsPerSec(), fmtDur(res.Hist.Quantile(0.5)), fmtDur(res.Hist.Quantile(0.99)), srvUS, genUS)
				}
			}
		}
	}
}

func fmtDur(d time.Duration) string {
	us := float64(d) / 1e3
	if us >= 1000 {
		return fmt.Sprintf("%.2fms", us/1000)
	}
	return fmt.Sprintf("%.0fus", us)
}

func fmtUS(us float64) string { return fmtDur(time.Duration(us * 1e3)) }

func fmtOps(v float64) string {
	if v >= 1e3 {
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func printReport(o *options, srvs []*server, rep *report) {
	var names []string
	for _, s := range srvs {
		names = append(names, s.name)
	}
	cp := ""
	for _, n := range []string{"cpython3.13"} {
		if rep.Go[n] != nil || rep.Py[n] != nil {
			cp = n
		}
	}
	fmt.Printf("\n== Go load generator: ops/s p50 p99 (median of %d runs, %v each)\n", o.runs, o.duration)
	if len(rep.Go) > 0 {
		fmt.Printf("%-11s", "cell")
		for _, n := range names {
			fmt.Printf(" | %-25s", n)
		}
		fmt.Printf(" | %-9s | %-9s | %s\n", "mpgo/cp", "mpgo/echo", "p99 cp/mpgo")
		for _, w := range o.workloads {
			for _, c := range o.conns {
				key := fmt.Sprintf("%s/%d", w, c)
				fmt.Printf("%-11s", key)
				for _, n := range names {
					k := key
					if n == "echo" {
						k = fmt.Sprintf("%s/%d", o.workloads[0], c)
					}
					if a := rep.Go[n][k]; a != nil {
						fmt.Printf(" | %7s %8s %8s", fmtOps(a.OpsPerSec), fmtUS(a.P50us), fmtUS(a.P99us))
					} else {
						fmt.Printf(" | %-25s", "n/a")
					}
				}
				mp := rep.Go["mpgo"][key]
				fmt.Printf(" | %-9s | %-9s | %s\n",
					ratio(mp, rep.Go[cp][key], false), ratio(mp, rep.Go["echo"][fmt.Sprintf("%s/%d", o.workloads[0], c)], false),
					ratio(mp, rep.Go[cp][key], true))
			}
		}
	}
	if len(rep.Go) > 0 {
		fmt.Printf("\n== server CPU time per operation (us; /proc/PID/stat, 10 ms ticks) [generator CPU per op]\n")
		for _, w := range o.workloads {
			for _, c := range o.conns {
				key := fmt.Sprintf("%s/%d", w, c)
				fmt.Printf("%-11s", key)
				for _, n := range names {
					k := key
					if n == "echo" {
						k = fmt.Sprintf("%s/%d", o.workloads[0], c)
					}
					if a := rep.Go[n][k]; a != nil {
						fmt.Printf(" | %-12s %6.1f [%4.1f]", n, a.SrvCPUus, a.GenCPUus)
					}
				}
				fmt.Println()
			}
		}
	}
	if len(rep.Py) > 0 {
		fmt.Printf("\n== Python %s clients with real proxies (Queue put/get): ops/s p50 p99 (one run, %v)\n", o.pyClient, o.pyDur)
		for _, p := range o.pyProcs {
			key := strconv.Itoa(p)
			fmt.Printf("%-11s", key+" procs")
			for _, n := range names {
				if a := rep.Py[n][key]; a != nil {
					fmt.Printf(" | %-7s %8s %8s", fmtOps(a.OpsPerSec), fmtUS(a.P50us), fmtUS(a.P99us))
				} else if n != "echo" {
					fmt.Printf(" | %-25s", "n/a")
				}
			}
			fmt.Printf(" | mpgo/cp %s\n", ratio(rep.Py["mpgo"][key], rep.Py[cp][key], false))
		}
	}
	if len(rep.Connect) > 0 {
		fmt.Printf("\n== Python SyncManager.connect() + m.Queue(), median of %d (wall, and the Python client's own CPU)\n", o.connectN)
		for _, n := range names {
			if c := rep.Connect[n]; c != nil {
				fmt.Printf("%-12s %8.2f ms  client CPU %.2f ms\n", connectLabel(n), c.WallMS, c.ClientCPUMS)
			}
		}
	}
	if r := rep.Idle; r != nil {
		fmt.Printf("\n== idle connections against mpgo\n")
		fmt.Printf("held %d authenticated method-call connections; server RSS %d -> %d KiB: %.1f KiB/connection\n",
			r.Conns, r.RSSBeforeKiB, r.RSSAfterKiB, r.KiBPerConn)
		if r.GoKiBPerConn != 0 {
			fmt.Printf("Go heap+stack in use %d -> %d KiB: %.1f KiB/connection (stacks %d -> %d KiB)\n",
				(r.HeapInuseBefore+r.StackInuseBefore)>>10, (r.HeapInuseAfter+r.StackInuseAfter)>>10, r.GoKiBPerConn,
				r.StackInuseBefore>>10, r.StackInuseAfter>>10)
		}
		fmt.Printf("while held: one-shot dummy %s, call on a held connection %s (ok=%v)\n",
			fmtUS(r.DummyUS), fmtUS(r.HeldCallUS), r.Answered)
	}
	if len(rep.Errors) > 0 {
		fmt.Printf("\nerrors:\n  %s\n", strings.Join(rep.Errors, "\n  "))
	}
}

// ratio formats a/b for throughput, or b/a for p99 when inv.
func ratio(a, b *cellAgg, inv bool) string {
	if a == nil || b == nil || a.OpsPerSec == 0 || b.OpsPerSec == 0 {
		return "n/a"
	}
	if inv {
		if a.P99us == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1fx", b.P99us/a.P99us)
	}
	return fmt.Sprintf("%.2fx", a.OpsPerSec/b.OpsPerSec)
}

func writeScripts(dir string) error {
	return fs.WalkDir(bench.Scripts, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := bench.Scripts.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
}

func mpgoBinary(o *options, tmp string) (string, error) {
	if o.mpgoBin != "" {
		return o.mpgoBin, nil
	}
	tags := o.mpgoTags
	if o.pprof != "" {
		tags = strings.Trim(tags+",mpgo_pprof", ",")
	}
	var extra []string
	if tags != "" {
		extra = []string{"-tags", tags}
	}
	return host.Build(context.Background(), tmp, "mpgo", "./cmd/mpgo", extra...)
}
