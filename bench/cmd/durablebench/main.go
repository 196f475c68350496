package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench"
	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

// allServers are the configurations -servers may name, in table order.
var allServers = []string{"cpython3.13", "mpgo", "store", "fsync", "cluster"}

type options struct {
	servers  []string
	conns    []int
	duration time.Duration
	warmup   time.Duration
	runs     int
	items    int
	python   string
	json     string
	pprof    string
	pin      string // "GEN/SRV" CPU lists, "" for none
}

func main() {
	var o options
	servers := flag.String("servers", strings.Join(allServers, ","), "configurations: cpython3.13 (CPython's SyncManager, in memory), mpgo (in memory), store (--store, JetStream's default sync), fsync (--store --fsync always), cluster (--nats to a 3-node loopback cluster, --replicas 3)")
	conns := flag.String("conns", "1,16,64", "connection counts")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "measured time per cell")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per cell")
	flag.IntVar(&o.runs, "runs", 3, "runs per cell; the table shows the median")
	flag.IntVar(&o.items, "items", 200000, "small tuples (i, 'item') queued for the memory section (0: skip it)")
	flag.StringVar(&o.python, "python", "3.13", "CPython version (or interpreter path) of the cpython server")
	flag.StringVar(&o.json, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.pprof, "pprof", "", "serve pprof from the mpgo servers at this address (builds with -tags mpgo_pprof, sets MPGO_PPROF; drive one mpgo configuration at a time)")
	flag.StringVar(&o.pin, "pin", "", "CPU pinning GEN/SRV (e.g. 0/1): this load generator on the CPUs GEN, every server process on SRV (with taskset), as mgrbench -pin does; default none")
	quick := flag.Bool("quick", false, "smoke run: 1 run, 0.5s cells, 20000 items")
	flag.Parse()
	if *quick {
		o.runs, o.duration, o.warmup = 1, 500*time.Millisecond, 100*time.Millisecond
		if !flagSet("items") {
			o.items = 20000
		}
	}
	for _, s := range strings.Split(*servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.HasPrefix(s, "cpython") && !contains(allServers, s) {
				fmt.Fprintf(os.Stderr, "durablebench: unknown server %q\n", s)
				os.Exit(2)
			}
			o.servers = append(o.servers, s)
		}
	}
	for _, f := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "durablebench: bad connection count %q\n", f)
			os.Exit(2)
		}
		o.conns = append(o.conns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, &o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "durablebench:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// report is everything measured, also written with -json.
type report struct {
	Started time.Time                    `json:"started"`
	Load    string                       `json:"loadavg_before"`
	Args    string                       `json:"args"`
	Cells   map[string]map[string]*cell  `json:"cells"`  // server -> conns -> result
	Memory  map[string]*memoryResult     `json:"memory"` // server -> memory per item
	Errors  []string                     `json:"errors,omitempty"`
	Ratios  map[string]map[string]string `json:"ratios_to_cpython"`
}

// cell is the median over runs of one server at one connection count.
type cell struct {
	OpsPerSec float64   `json:"ops_per_sec"`
	P50us     float64   `json:"p50_us"`
	P99us     float64   `json:"p99_us"`
	SrvCPUus  float64   `json:"server_cpu_us_per_op"`
	Runs      []float64 `json:"runs_ops_per_sec"`
	p50, p99  []float64
	cpu       []float64
}

func (c *cell) add(ops float64, p50, p99 time.Duration, cpuUS float64) {
	c.Runs = append(c.Runs, ops)
	c.p50 = append(c.p50, float64(p50)/1e3)
	c.p99 = append(c.p99, float64(p99)/1e3)
	c.cpu = append(c.cpu, cpuUS)
	c.OpsPerSec, c.P50us, c.P99us, c.SrvCPUus = median(c.Runs), median(c.p50), median(c.p99), median(c.cpu)
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

// memoryResult is the RSS growth of a server (all its processes) for queued items.
type memoryResult struct {
	Items       int     `json:"items"`
	RSSBeforeKB int64   `json:"rss_before_kib"`
	RSSAfterKB  int64   `json:"rss_after_kib"`
	KiBPerItem  float64 `json:"kib_per_item"`
	PutSeconds  float64 `json:"put_seconds"`
}

func run(ctx context.Context, o *options) error {
	host.RaiseNoFile()
	rep := &report{Started: time.Now(), Args: strings.Join(os.Args[1:], " "), Cells: map[string]map[string]*cell{},
		Memory: map[string]*memoryResult{}, Ratios: map[string]map[string]string{}}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.Load = strings.TrimSpace(string(b))
		fmt.Printf("load average before: %s\n", rep.Load)
	}
	if o.pin != "" {
		gen, _, ok := strings.Cut(o.pin, "/")
		if !ok {
			return fmt.Errorf("-pin %q: want GEN/SRV", o.pin)
		}
		// Every thread of this process (new threads inherit the mask of the thread creating them).
		if out, err := exec.Command("taskset", "-a", "-p", "-c", gen, strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			return fmt.Errorf("taskset %s: %v: %s", gen, err, out)
		}
		fmt.Printf("CPU pinning: generator %s\n", o.pin)
	}
	tmp, err := os.MkdirTemp("", "durablebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	key := []byte("mpgo-durable-bench")
	var srvs []*server
	defer func() {
		for _, s := range srvs {
			s.stop()
		}
	}()
	for _, name := range o.servers {
		s, err := startServer(ctx, name, o, tmp, key)
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err = loadgen.Create(cctx, s.addr, key, s.typeid)
			cancel()
			if err != nil {
				s.stop()
				err = fmt.Errorf("create %s: %v", s.typeid, err)
			}
		}
		if err != nil {
			msg := fmt.Sprintf("%s: n/a (%v)", name, err)
			fmt.Println(msg)
			rep.Errors = append(rep.Errors, msg)
			continue
		}
		fmt.Printf("%-12s listening on %s (pids %v)\n", s.name, s.addr, s.pids())
		srvs = append(srvs, s)
	}
	fmt.Printf("put/get round trips: %d runs x %d servers x %d connection counts, %v each (+%v warm-up)\n",
		o.runs, len(srvs), len(o.conns), o.duration, o.warmup)
	for r := 0; r < o.runs; r++ {
		for _, n := range o.conns {
			for _, s := range srvs {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var c0, c1 time.Duration
				res, err := loadgen.Run(ctx, loadgen.Target{Addr: s.addr, Key: key}, loadgen.Cell{
					Workload: loadgen.Queue, TypeID: s.typeid, Conns: n, Warmup: o.warmup, Duration: o.duration,
					AtStart: func() { c0 = s.cpu() }, AtEnd: func() { c1 = s.cpu() },
				})
				if err != nil {
					msg := fmt.Sprintf("run %d %s %d conns: %v", r+1, s.name, n, err)
					fmt.Println(msg)
					rep.Errors = append(rep.Errors, msg)
					continue
				}
				cpuUS := 0.0
				if res.Ops > 0 {
					cpuUS = float64(c1-c0) / 1e3 / float64(res.Ops)
				}
				m := rep.Cells[s.name]
				if m == nil {
					m = map[string]*cell{}
					rep.Cells[s.name] = m
				}
				k := strconv.Itoa(n)
				if m[k] == nil {
					m[k] = &cell{}
				}
				m[k].add(res.OpsPerSec(), res.Hist.Quantile(0.5), res.Hist.Quantile(0.99), cpuUS)
				fmt.Printf("  run %d %-12s %3d conns %9.0f ops/s  p50 %8s  p99 %8s  server cpu/op %6.1fus\n", r+1, s.name, n,
					res.OpsPerSec(), fmtUS(float64(res.Hist.Quantile(0.5))/1e3), fmtUS(float64(res.Hist.Quantile(0.99))/1e3), cpuUS)
			}
		}
	}
	if o.items > 0 {
		for _, s := range srvs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m, err := measureMemory(ctx, s, key, o.items)
			if err != nil {
				msg := fmt.Sprintf("memory %s: %v", s.name, err)
				fmt.Println(msg)
				rep.Errors = append(rep.Errors, msg)
				continue
			}
			rep.Memory[s.name] = m
			fmt.Printf("  memory %-12s %d items: RSS %d -> %d KiB, %.3f KiB/item (puts took %.1fs)\n", s.name, m.Items,
				m.RSSBeforeKB, m.RSSAfterKB, m.KiBPerItem, m.PutSeconds)
		}
	}
	printReport(o, srvs, rep)
	if o.json != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.json, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func fmtUS(us float64) string {
	if us >= 1000 {
		return fmt.Sprintf("%.2fms", us/1000)
	}
	return fmt.Sprintf("%.0fus", us)
}

func fmtOps(v float64) string {
	if v >= 1e3 {
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func printReport(o *options, srvs []*server, rep *report) {
	cp := ""
	for _, s := range srvs {
		if strings.HasPrefix(s.name, "cpython") && cp == "" {
			cp = s.name
		}
	}
	fmt.Printf("\n== Queue put/get round trips: ops/s p50 p99 (median of %d runs, %v each); ratio to %s in memory\n", o.runs, o.duration, orNA(cp))
	fmt.Printf("%-6s", "conns")
	for _, s := range srvs {
		fmt.Printf(" | %-33s", s.name)
	}
	fmt.Println()
	for _, n := range o.conns {
		k := strconv.Itoa(n)
		fmt.Printf("%-6s", k)
		for _, s := range srvs {
			c := rep.Cells[s.name][k]
			if c == nil {
				fmt.Printf(" | %-33s", "n/a")
				continue
			}
			r := "-"
			if b := rep.Cells[cp][k]; b != nil && b.OpsPerSec > 0 && s.name != cp {
				r = fmt.Sprintf("%.2fx", c.OpsPerSec/b.OpsPerSec)
				if rep.Ratios[s.name] == nil {
					rep.Ratios[s.name] = map[string]string{}
				}
				rep.Ratios[s.name][k] = r
			}
			fmt.Printf(" | %7s %7s %7s %7s", fmtOps(c.OpsPerSec), fmtUS(c.P50us), fmtUS(c.P99us), r)
		}
		fmt.Println()
	}
	fmt.Printf("\n== server CPU per operation (us; all the server's processes)\n")
	for _, n := range o.conns {
		k := strconv.Itoa(n)
		fmt.Printf("%-6s", k)
		for _, s := range srvs {
			if c := rep.Cells[s.name][k]; c != nil {
				fmt.Printf(" | %-12s %6.1f", s.name, c.SrvCPUus)
			}
		}
		fmt.Println()
	}
	if len(rep.Memory) > 0 {
		fmt.Printf("\n== memory per queued small tuple (RSS growth of all the server's processes)\n")
		base := rep.Memory[cp]
		for _, s := range srvs {
			m := rep.Memory[s.name]
			if m == nil {
				continue
			}
			r := ""
			if base != nil && base.KiBPerItem > 0 && s.name != cp {
				r = fmt.Sprintf("  %.2fx %s", m.KiBPerItem/base.KiBPerItem, cp)
			}
			fmt.Printf("%-12s %7.3f KiB/item%s\n", s.name, m.KiBPerItem, r)
		}
	}
	if len(rep.Errors) > 0 {
		fmt.Printf("\nerrors:\n  %s\n", strings.Join(rep.Errors, "\n  "))
	}
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// measureMemory queues items small tuples (i, 'item') through 16 connections and reports the
// RSS growth of the server's processes per item; the items stay queued.
func measureMemory(ctx context.Context, s *server, key []byte, items int) (*memoryResult, error) {
	before := s.rss()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	ident, err := loadgen.Create(sctx, s.addr, key, s.typeid)
	if err != nil {
		cancel()
		return nil, err
	}
	const par = 16
	conns, err := loadgen.DialMany(sctx, loadgen.Target{Addr: s.addr, Key: key}, par, par, true)
	cancel()
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, par)
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.NC.SetDeadline(time.Now().Add(10 * time.Minute))
			for i := w; i < items && ctx.Err() == nil; i += par {
				if _, err := c.Call(loadgen.Request(ident, "put", []any{i, "item"})); err != nil {
					errs[w] = fmt.Errorf("put %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	took := time.Since(start)
	after := s.rss()
	return &memoryResult{Items: items, RSSBeforeKB: before, RSSAfterKB: after,
		KiBPerItem: float64(after-before) / float64(items), PutSeconds: took.Seconds()}, nil
}

// server is one benchmarked configuration: its processes (the manager first) and the typeid
// of its queue.
type server struct {
	name, addr, typeid string
	procs              []*proc
}

func (s *server) pids() []int {
	var out []int
	for _, p := range s.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

func (s *server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
}

// cpu is the CPU time of every process of the server.
func (s *server) cpu() time.Duration {
	var t time.Duration
	for _, p := range s.procs {
		d, _ := cpuTime(p.cmd.Process.Pid)
		t += d
	}
	return t
}

// rss is the resident set size of every process of the server, in KiB.
func (s *server) rss() int64 {
	var t int64
	for _, p := range s.procs {
		r, _ := host.VmRSS(p.cmd.Process.Pid)
		t += r
	}
	return t
}

func startServer(ctx context.Context, name string, o *options, tmp string, key []byte) (*server, error) {
	s := &server{name: name, typeid: "jobs"}
	if strings.HasPrefix(name, "cpython") {
		py, err := host.FindPython(strings.TrimPrefix(name, "cpython"))
		if name == "cpython3.13" && o.python != "3.13" {
			py, err = host.FindPython(o.python)
		}
		if err != nil {
			return nil, err
		}
		script := filepath.Join(tmp, "cpython_server.py")
		if err := writeScript(script); err != nil {
			return nil, err
		}
		p, m, err := startProc(ctx, name, pinned(o, py, script, "--authkey-hex", hex.EncodeToString(key)), pyAddrRE)
		if err != nil {
			return nil, err
		}
		s.procs, s.addr, s.typeid = []*proc{p}, net.JoinHostPort(m[1], m[2]), "Queue"
		return s, nil
	}
	var tags []string
	if o.pprof != "" {
		tags = []string{"-tags", "mpgo_pprof"}
	}
	bin, err := buildOnce(tmp, "mpgo", "./cmd/mpgo", tags...)
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--address", "127.0.0.1:0", "--queue", "jobs", "--log-level", "warn"}
	switch name {
	case "store":
		args = append(args, "--store", filepath.Join(tmp, "store"))
	case "fsync":
		args = append(args, "--store", filepath.Join(tmp, "fsync"), "--fsync", "always")
	case "cluster":
		urls, err := startCluster(ctx, o, s, tmp)
		if err != nil {
			s.stop()
			return nil, err
		}
		args = append(args, "--nats", strings.Join(urls, ","), "--replicas", "3")
	}
	cmd := pinned(o, bin, args...)
	cmd.Env = append(os.Environ(), "MPGO_AUTHKEY="+string(key))
	if o.pprof != "" {
		cmd.Env = append(cmd.Env, "MPGO_PPROF="+o.pprof)
	}
	p, m, err := startProc(ctx, name, cmd, mpgoAddrRE)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.procs = append([]*proc{p}, s.procs...)
	s.addr = m[1]
	return s, nil
}

// startCluster starts three natsnode processes forming a JetStream cluster on loopback and
// returns their client URLs. A clustered JetStream needs its routes at start: the route ports
// are free ports picked first.
func startCluster(ctx context.Context, o *options, s *server, tmp string) ([]string, error) {
	bin, err := buildOnce(tmp, "natsnode", "./internal/natstest/cmd/natsnode")
	if err != nil {
		return nil, err
	}
	routes := make([]string, 3)
	for i := range routes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		routes[i] = "nats://" + l.Addr().String()
		l.Close()
	}
	var urls []string
	for i := range routes {
		args := []string{"-dir", filepath.Join(tmp, fmt.Sprintf("n%d", i)), "-name", fmt.Sprintf("n%d", i),
			"-listen", "127.0.0.1:0", "-cluster", strings.TrimPrefix(routes[i], "nats://"), "-routes", strings.Join(routes, ",")}
		p, m, err := startProc(ctx, fmt.Sprintf("natsnode n%d", i), pinned(o, bin, args...), clientRE)
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
		urls = append(urls, m[1])
	}
	return urls, nil
}

var (
	pyAddrRE   = regexp.MustCompile(`^ADDRESS (\S+) (\d+)$`)
	mpgoAddrRE = regexp.MustCompile(`^mpgo: serving on (127\.0\.0\.1:\d+)$`)
	clientRE   = regexp.MustCompile(`^CLIENT (\S+)$`)
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// buildOnce builds a command of this module into tmp, with extra go build arguments.
func buildOnce(tmp, name, pkg string, extra ...string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := built[name]; ok {
		return b, nil
	}
	bin, err := host.Build(context.Background(), tmp, name, pkg, extra...)
	if err != nil {
		return "", err
	}
	built[name] = bin
	return bin, nil
}

func writeScript(path string) error {
	b, err := fs.ReadFile(bench.Scripts, "cpython_server.py")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// proc is one process of a server.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	tail []string
}

func (p *proc) add(l string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tail = append(p.tail, l)
	if len(p.tail) > 20 {
		p.tail = p.tail[1:]
	}
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// stop sends SIGTERM to the process group, then SIGKILL after 5s.
func (p *proc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// pinned returns the command name and arguments, run under taskset -c SRV with -pin.
func pinned(o *options, name string, args ...string) *exec.Cmd {
	if _, srv, ok := strings.Cut(o.pin, "/"); ok {
		return exec.Command("taskset", append([]string{"-c", srv, name}, args...)...)
	}
	return exec.Command(name, args...)
}

// startProc starts cmd in its own process group and waits (bounded) for a line of its output
// (stdout and stderr) matching re, and returns re's submatches.
func startProc(ctx context.Context, name string, cmd *exec.Cmd, re *regexp.Regexp) (*proc, []string, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		ok := false
		for sc.Scan() {
			l := sc.Text()
			p.add(l)
			if m := re.FindStringSubmatch(l); m != nil && !ok {
				ok = true
				found <- m
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(p.done)
	}()
	select {
	case m := <-found:
		return p, m, nil
	case <-p.done:
		return nil, nil, fmt.Errorf("%s exited before listening:\n%s", name, p.logs())
	case <-time.After(90 * time.Second):
		p.stop()
		return nil, nil, fmt.Errorf("%s printed no address within 90s:\n%s", name, p.logs())
	case <-ctx.Done():
		p.stop()
		return nil, nil, ctx.Err()
	}
}

// cpuTime returns the user+system CPU time of a process (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ
}
