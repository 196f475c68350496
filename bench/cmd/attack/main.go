package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/connection"
)

type options struct {
	idle, slow, sources, tries, wrong, conc int
	servers, python, mpgoBin, jsonOut       string
	serveArgs                               string
	warmup                                  int
	timeout                                 time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.idle, "idle", 10000, "idle unauthenticated sockets held during the siege")
	flag.IntVar(&o.slow, "slow", 1000, "slowloris sockets held during the siege")
	flag.IntVar(&o.sources, "sources", 100, "source addresses (127.0.1.1 ...) the siege's sockets are spread over")
	flag.IntVar(&o.tries, "tries", 100, "real-client tries (connect + Queue + put + get) during the siege")
	flag.IntVar(&o.wrong, "wrong", 10000, "wrong-key handshakes")
	flag.IntVar(&o.conc, "wrong-concurrency", 8, "wrong-key handshakes at a time")
	flag.StringVar(&o.servers, "servers", "mpgo,cpython", "servers to attack: mpgo, cpython")
	flag.StringVar(&o.python, "python", "3.13", "CPython version (pyenv) or path, for the client and the cpython server")
	flag.StringVar(&o.mpgoBin, "mpgo", "", "mpgo binary (default: go build ./cmd/mpgo)")
	flag.StringVar(&o.serveArgs, "serve-args", "", "extra `FLAGS` for mpgo serve, space-separated (e.g. \"--max-unauthenticated 12000\")")
	flag.IntVar(&o.warmup, "wrong-warmup", 1000, "wrong-key handshakes before the RSS is first read (the runtime's pools and heap settle)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	flag.Parse()
	host.RaiseNoFile()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := run(ctx, &o); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
}

// result is one server's figures.
type result struct {
	Server string `json:"server"`

	// siege
	Held        int       `json:"held"`          // sockets open when the probe started
	Reopened    int64     `json:"reopened"`      // sockets the server closed during the siege (re-opened)
	TriesOK     int       `json:"tries_ok"`      // probe tries that succeeded
	TriesFailed int       `json:"tries_failed"`  // probe tries that failed or timed out (10 s)
	LatencyMS   []float64 `json:"latency_ms"`    // per successful try
	P50MS       float64   `json:"p50_ms"`        //
	P99MS       float64   `json:"p99_ms"`        //
	MaxMS       float64   `json:"max_ms"`        //
	BaselineP50 float64   `json:"baseline_p50"`  // the same probe without the siege
	SiegeRSSKiB int64     `json:"siege_rss_kib"` // server RSS while the siege is held

	// wrong keys
	WrongAccepted int     `json:"wrong_accepted"`
	WrongFailed   int     `json:"wrong_failed"`
	RSSBeforeKiB  int64   `json:"rss_before_kib"`
	RSSAfterKiB   int64   `json:"rss_after_kib"`
	LogLines      int     `json:"log_lines"` // server log lines written during the wrong-key phase
	WrongSeconds  float64 `json:"wrong_seconds"`
}

func run(ctx context.Context, o *options) error {
	python, err := host.FindPython(o.python)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mpgo-attack")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	probe := filepath.Join(tmp, "probe.py")
	if err := os.WriteFile(probe, []byte(probeScript), 0o644); err != nil {
		return err
	}
	cpyServer := filepath.Join(tmp, "cpython_server.py")
	if err := os.WriteFile(cpyServer, []byte(cpythonServerScript), 0o644); err != nil {
		return err
	}
	key := make([]byte, 32)
	rand.Read(key)

	var results []*result
	for _, name := range strings.Split(o.servers, ",") {
		var s *server
		switch strings.TrimSpace(name) {
		case "mpgo":
			bin := o.mpgoBin
			if bin == "" {
				if bin, err = host.Build(context.Background(), tmp, "mpgo", "./cmd/mpgo"); err != nil {
					return err
				}
			}
			args := []string{"serve", "--address", "127.0.0.1:0", "--authkey-hex", hex.EncodeToString(key), "--queue", "get_queue"}
			cmd := exec.Command(bin, append(args, strings.Fields(o.serveArgs)...)...)
			s, err = startServer(ctx, "mpgo", cmd, mpgoAddr)
		case "cpython":
			cmd := exec.Command(python, cpyServer, hex.EncodeToString(key))
			s, err = startServer(ctx, "cpython "+o.python, cmd, cpyAddr)
		default:
			return fmt.Errorf("unknown server %q", name)
		}
		if err != nil {
			return err
		}
		r, err := attack(ctx, o, s, python, probe, key)
		s.stop()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		results = append(results, r)
	}
	printResults(o, results)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		return os.WriteFile(o.jsonOut, b, 0o644)
	}
	return nil
}

func attack(ctx context.Context, o *options, s *server, python, probe string, key []byte) (*result, error) {
	r := &result{Server: s.name}
	fmt.Fprintf(os.Stderr, "== %s on %s\n", s.name, s.addr)

	// The probe alone, for reference.
	base, _, err := runProbe(ctx, python, probe, s.addr, key, 20)
	if err != nil {
		return nil, fmt.Errorf("probe without attack: %w", err)
	}
	r.BaselineP50 = percentile(base, 50)

	// Wrong keys, on the warmed-up server before the siege.
	wrongKeys(ctx, s.addr, o.warmup, o.conc)
	r.RSSBeforeKiB = rssKiB(s)
	linesBefore := s.lines.Load()
	t0 := time.Now()
	r.WrongAccepted, r.WrongFailed = wrongKeys(ctx, s.addr, o.wrong, o.conc)
	r.WrongSeconds = time.Since(t0).Seconds()
	// Let a summary interval (10 s) pass so that the summary line is counted too.
	select {
	case <-time.After(11 * time.Second):
	case <-ctx.Done():
	}
	r.RSSAfterKiB = rssKiB(s)
	r.LogLines = int(s.lines.Load() - linesBefore)
	// Siege.
	sctx, stop := context.WithCancel(ctx)
	sg := newSiege(s.addr, o.sources)
	held := sg.start(sctx, o.idle, o.slow)
	select {
	case <-held:
	case <-time.After(2 * time.Minute):
		fmt.Fprintf(os.Stderr, "   only %d of %d sockets open after 2 min; probing anyway\n", sg.open.Load(), o.idle+o.slow)
	}
	r.Held = int(sg.open.Load())
	r.SiegeRSSKiB = rssKiB(s)
	fmt.Fprintf(os.Stderr, "   siege held: %d sockets, server RSS %d MiB; probing %d tries\n", r.Held, r.SiegeRSSKiB>>10, o.tries)
	lat, failed, err := runProbe(ctx, python, probe, s.addr, key, o.tries)
	r.Reopened = sg.reopened.Load()
	stop()
	sg.wait()
	if err != nil {
		return nil, fmt.Errorf("probe under siege: %w", err)
	}
	r.LatencyMS, r.TriesOK, r.TriesFailed = lat, len(lat), failed
	r.P50MS, r.P99MS = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		r.MaxMS = percentile(lat, 100)
	}

	return r, nil
}

// siege holds idle and slowloris sockets, re-opening each as soon as the
// server closes it.
type siege struct {
	addr     string
	sources  int
	open     atomic.Int64
	reopened atomic.Int64
	wg       sync.WaitGroup
}

func newSiege(addr string, sources int) *siege { return &siege{addr: addr, sources: sources} }

func (s *siege) start(ctx context.Context, idle, slow int) <-chan struct{} {
	held := make(chan struct{})
	var once sync.Once
	target := int64(idle + slow)
	dialSem := make(chan struct{}, 64) // the ramp: 64 dials at a time
	if target == 0 {
		close(held)
	}
	for i := 0; i < idle+slow; i++ {
		s.wg.Add(1)
		go func(i int, slowloris bool) {
			defer s.wg.Done()
			src := &net.TCPAddr{IP: net.IPv4(127, 0, 1+byte(i%s.sources/250), byte(i%s.sources%250+1))}
			d := net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}
			first := true
			for ctx.Err() == nil {
				select {
				case dialSem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				c, err := d.DialContext(ctx, "tcp", s.addr)
				<-dialSem
				if err != nil {
					select {
					case <-time.After(50 * time.Millisecond): // the listen backlog is full: back off
					case <-ctx.Done():
					}
					continue
				}
				if !first {
					s.reopened.Add(1)
				}
				first = false
				if s.open.Add(1) == target {
					once.Do(func() { close(held) })
				}
				hold(ctx, c, slowloris)
				s.open.Add(-1)
				c.Close()
			}
		}(i, i < slow)
	}
	return held
}

func (s *siege) wait() { s.wg.Wait() }

// hold keeps c until the server closes it or ctx ends: idle, or (slowloris)
// writing one byte of a plausible response every 500 ms.
func hold(ctx context.Context, c net.Conn, slowloris bool) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c) // returns when the server closes the socket
		close(closed)
	}()
	if !slowloris {
		<-closed
		return
	}
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	resp := []byte("\x00\x00\x00\x30{sha256}0123456789abcdef0123456789abcdef01234567")
	for i := 0; ; i = (i + 1) % len(resp) {
		select {
		case <-closed:
			return
		case <-t.C:
			if _, err := c.Write(resp[i : i+1]); err != nil {
				<-closed
				return
			}
		}
	}
}

// wrongKeys runs n handshakes with a wrong key, conc at a time.
func wrongKeys(ctx context.Context, addr string, n, conc int) (accepted, failed int) {
	var acc, fail atomic.Int64
	next := make(chan struct{})
	var wg sync.WaitGroup
	bad := []byte("not the key")
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				c, err := connection.Dial(dctx, "tcp", addr, &connection.Config{AuthKey: bad})
				cancel()
				if err == nil {
					acc.Add(1)
					c.Close()
				} else {
					fail.Add(1)
				}
			}
		}()
	}
	for range n {
		if ctx.Err() != nil {
			break
		}
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return int(acc.Load()), int(fail.Load())
}

// runProbe runs the Python probe for n tries and returns the latencies of
// the successful ones and the number of failures.
func runProbe(ctx context.Context, python, probe, addr string, key []byte, n int) ([]float64, int, error) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, python, probe, host, port, hex.EncodeToString(key), strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", python, err)
	}
	var lat []float64
	failed := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "FAIL") {
			failed++
			continue
		}
		if v, err := strconv.ParseFloat(l, 64); err == nil {
			lat = append(lat, v)
		}
	}
	return lat, failed, nil
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func printResults(o *options, rs []*result) {
	if o.serveArgs != "" {
		fmt.Printf("mpgo serve %s\n", o.serveArgs)
	}
	fmt.Printf("\nsiege: %d idle + %d slowloris sockets over %d source addresses; probe: %d tries of connect + Queue + put + get (Python %s)\n",
		o.idle, o.slow, o.sources, o.tries, o.python)
	fmt.Printf("%-14s %8s %9s %8s %9s %9s %9s %9s %9s\n", "server", "held", "reopened", "ok/fail", "base p50", "p50", "p99", "max", "RSS")
	for _, r := range rs {
		fmt.Printf("%-14s %8d %9d %4d/%-3d %8.1fms %8.1fms %8.1fms %8.1fms %7dMiB\n", r.Server, r.Held, r.Reopened, r.TriesOK, r.TriesFailed,
			r.BaselineP50, r.P50MS, r.P99MS, r.MaxMS, r.SiegeRSSKiB>>10)
	}
	fmt.Printf("\nwrong keys: %d handshakes, %d at a time, after %d to warm up\n", o.wrong, o.conc, o.warmup)
	fmt.Printf("%-14s %9s %9s %9s %12s %9s\n", "server", "accepted", "refused", "seconds", "RSS growth", "log lines")
	for _, r := range rs {
		fmt.Printf("%-14s %9d %9d %9.1f %9d KiB %9d\n", r.Server, r.WrongAccepted, r.WrongFailed, r.WrongSeconds, r.RSSAfterKiB-r.RSSBeforeKiB, r.LogLines)
	}
	if len(rs) == 2 && rs[1].P99MS > 0 {
		fmt.Printf("\nunder siege, p99 %s / %s = %.2fx\n", rs[0].Server, rs[1].Server, rs[0].P99MS/rs[1].P99MS)
	}
}

// server is one attacked server process.
type server struct {
	name  string
	addr  string
	cmd   *exec.Cmd
	done  chan struct{}
	lines atomic.Int64 // lines written to stderr (the log)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// rssKiB is the server's resident memory, 0 if it cannot be read.
func rssKiB(s *server) int64 {
	kb, _ := host.VmRSS(s.pid())
	return kb
}

func (s *server) stop() {
	syscall.Kill(-s.pid(), syscall.SIGKILL)
	<-s.done
}

var (
	mpgoAddrRE = regexp.MustCompile(`serving on (\S+)`)
	cpyAddrRE  = regexp.MustCompile(`^ADDRESS (\S+) (\d+)$`)
)

func mpgoAddr(l string) (string, bool) {
	m := mpgoAddrRE.FindStringSubmatch(l)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func cpyAddr(l string) (string, bool) {
	m := cpyAddrRE.FindStringSubmatch(l)
	if m == nil {
		return "", false
	}
	return net.JoinHostPort(m[1], m[2]), true
}

// startServer runs cmd in its own process group until parse finds its
// address on stdout; stderr lines are counted as log lines.
func startServer(ctx context.Context, name string, cmd *exec.Cmd, parse func(string) (string, bool)) (*server, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if a, ok := parse(sc.Text()); ok && !found {
				found = true
				addrc <- a
			}
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines.Add(1)
		}
	}()
	go func() {
		readers.Wait()
		cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addrc:
		s.addr = a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before listening", name)
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s printed no address within 20 s", name)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// probeScript times connect + Queue + put + get on new connections, one
// line per try: milliseconds, or FAIL and the error. A try is bounded by a
// 10 s alarm (multiprocessing's sockets ignore socket.setdefaulttimeout:
// Client() sets them blocking).
const probeScript = `
import signal, sys, time, binascii
from multiprocessing.managers import SyncManager
host, port, key, n = sys.argv[1], int(sys.argv[2]), binascii.unhexlify(sys.argv[3]), int(sys.argv[4])
class Timeout(Exception):
    pass
def alarm(signum, frame):
    raise Timeout("no answer within 10 s")
signal.signal(signal.SIGALRM, alarm)
for i in range(n):
    t0 = time.time()
    signal.alarm(10)
    try:
        m = SyncManager(address=(host, port), authkey=key)
        m.connect()
        q = m.Queue()
        q.put(i)
        assert q.get() == i
        del q, m
        print("%.3f" % ((time.time() - t0) * 1000))
    except Exception as e:
        print("FAIL %r" % (e,))
    signal.alarm(0)
    sys.stdout.flush()
`

// cpythonServerScript is CPython's own SyncManager server.
const cpythonServerScript = `
import sys, binascii
from multiprocessing.managers import SyncManager
m = SyncManager(address=('127.0.0.1', 0), authkey=binascii.unhexlify(sys.argv[1]))
s = m.get_server()
print("ADDRESS %s %d" % s.address)
sys.stdout.flush()
s.serve_forever()
`
