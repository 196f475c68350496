package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/connection/mux/relay"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/internal/wanproxy"
	"github.com/mpgo/mpgo/managers"
)

//go:embed relay_client.py
var clientScript []byte

var (
	pyFlag   = flag.String("python", "", "CPython interpreter (default: the newest pyenv version, else python3)")
	delay    = flag.Duration("delay", 10*time.Millisecond, "emulated link delay, each way")
	samples  = flag.Int("n", 5, "connect samples (and 10x as many call samples)")
	conns    = flag.Int("conns", 16, "Python processes in the throughput section")
	duration = flag.Duration("duration", 3*time.Second, "length of each throughput run")
	rounds   = flag.Int("rounds", 3, "throughput rounds (direct and relayed alternate, so that other load on the machine hits both)")
	only     = flag.String("only", "", "run one section only: connect, calls or throughput")
	profile  = flag.String("cpuprofile", "", "write CPU profiles of the throughput section (server and relay), one per round: FILE.direct.N, FILE.relayed.N (go tool pprof merges the files it is given)")
)

func main() {
	flag.Parse()
	py := findPython()
	dir, err := os.MkdirTemp("", "relaybench")
	check(err)
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "relay_client.py")
	check(os.WriteFile(script, clientScript, 0o644))
	key := []byte("relaybench key")

	pki, err := testpki.NewSet()
	check(err)
	reg := managers.NewRegistry()
	check(managers.RegisterSyncManager(reg))
	srv := &managers.Server{AuthKey: key, Registry: reg}
	pl, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	check(err)
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS()})
	check(err)
	sl, err := connection.NewListener(ml, &connection.Config{AuthKey: key, TrustPreAuthenticated: true})
	check(err)
	go srv.Serve(pl)
	go srv.Serve(sl)
	defer srv.Close()

	direct := pl.Addr().String()
	wanDirect, err := wanproxy.New(direct, *delay)
	check(err)
	defer wanDirect.Close()
	wanDirectK, err := wanproxy.Start(wanproxy.Config{Target: direct, Delay: *delay, KernelACKs: true})
	check(err)
	defer wanDirectK.Close()
	wanMux, err := wanproxy.New(ml.Addr().String(), *delay)
	check(err)
	defer wanMux.Close()

	startRelay := func(server string, key []byte) string {
		r, err := relay.New(&relay.Config{Server: server, Mux: mux.Config{TLS: pki.ClientTLS()}, AuthKey: key})
		check(err)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		check(err)
		go r.Serve(l)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = r.WaitSession(ctx)
		check(err)
		return l.Addr().String()
	}
	wanRelay := startRelay(wanMux.Addr(), key)
	wanPipe := startRelay(wanMux.Addr(), nil)
	loRelay := startRelay(ml.Addr().String(), key)

	fmt.Printf("relaybench: %s, link delay %v each way (round trip %v)\n\n", py, *delay, 2**delay)
	if *only == "" || *only == "connect" || *only == "calls" {
		wanSections(py, script, key, wanDirect.Addr(), wanDirectK.Addr(), wanRelay, wanPipe)
	}
	if *only == "" || *only == "throughput" {
		fmt.Printf("throughput, %d Python processes on loopback, puts+gets per second (%d alternating rounds):\n", *conns, *rounds)
		var ratios []float64
		var all [2]run
		for i := 0; i < *rounds; i++ {
			var rs [2]run
			for mode, addr := range []string{direct, loRelay} {
				rs[mode] = throughput(py, script, addr, key, mode)
				all[mode].ops += rs[mode].ops
				all[mode].goCPU += rs[mode].goCPU
				all[mode].pyCPU += rs[mode].pyCPU
			}
			d, r := rs[0].perSec(), rs[1].perSec()
			ratios = append(ratios, r/d)
			fmt.Printf("  round %d: direct %6.0f  relayed %6.0f  relayed / direct %.2f   CPU us/op direct %s, relayed %s\n",
				i+1, d, r, r/d, rs[0].cpuPerOp(), rs[1].cpuPerOp())
		}
		fmt.Printf("CPU us/op, all rounds (Go: server and relay; Python: the %d clients): direct %s, relayed %s\n", *conns, all[0].cpuPerOp(), all[1].cpuPerOp())
		fmt.Printf("direct / relayed CPU per op (the throughput ratio where CPU alone limits): %.2f\n", all[0].cpuOp()/all[1].cpuOp())
		sort.Float64s(ratios)
		fmt.Printf("relayed / direct, median of the rounds: %.2f (goal >= 0.7)\n", median(ratios))
	}
}

func wanSections(py, script string, key []byte, wanDirect, wanDirectK, wanRelay, wanPipe string) {
	rtt := float64(2*(*delay)) / float64(time.Millisecond)
	if *only == "" || *only == "connect" {
		modes := []struct{ name, addr string }{
			{"direct, link ACKs at once", wanDirect},
			{"direct, link ACKs after 40 ms", wanDirectK},
			{"relay, answering handshakes", wanRelay},
			{"relay, handshakes passed through", wanPipe},
		}
		// One sample of each mode per round, so that other load on the machine hits all.
		ms := make([][]float64, len(modes))
		for i := 0; i < *samples; i++ {
			for j, m := range modes {
				ms[j] = append(ms[j], runSamples(py, script, m.addr, key, "connect", 1)...)
			}
		}
		fmt.Printf("%-34s %10s %10s %12s\n", "connect()+Queue()+put+get", "median ms", "min ms", "round trips")
		for j, m := range modes {
			sort.Float64s(ms[j])
			fmt.Printf("%-34s %10.1f %10.1f %12.1f\n", m.name, median(ms[j]), ms[j][0], median(ms[j])/rtt)
		}
		fmt.Printf("relayed / direct (median): %.2f to %.2f; (min): %.2f to %.2f (goal <= 0.3)\n\n",
			median(ms[2])/median(ms[1]), median(ms[2])/median(ms[0]), ms[2][0]/ms[1][0], ms[2][0]/ms[0][0])
	}
	if *only == "" || *only == "calls" {
		fmt.Printf("%-34s %10s %10s %12s\n", "put+get on an open proxy", "median ms", "min ms", "round trips")
		for _, c := range []struct{ name, addr string }{
			{"direct", wanDirect},
			{"relay, answering handshakes", wanRelay},
		} {
			ms := runSamples(py, script, c.addr, key, "calls", 10**samples)
			fmt.Printf("%-34s %10.1f %10.1f %12.1f\n", c.name, median(ms), ms[0], median(ms)/rtt)
		}
		fmt.Println()
	}
}

func runSamples(py, script, addr string, key []byte, mode string, n int) []float64 {
	out, err := exec.Command(py, script, "--address", addr, "--authkey-hex", fmt.Sprintf("%x", key), "--mode", mode, "--n", fmt.Sprint(n)).Output()
	if err != nil {
		log.Fatalf("%s %s: %v\n%s", mode, addr, err, stderrOf(err))
	}
	var r struct{ Ms []float64 }
	check(json.Unmarshal(lastLine(out), &r))
	sort.Float64s(r.Ms)
	return r.Ms
}

// run is one throughput round's result.
type run struct {
	ops   int           // puts and gets
	goCPU time.Duration // this process's CPU time (the server's and the relay's)
	pyCPU time.Duration // the Python clients' CPU time in their put/get loops
}

func (r run) perSec() float64 { return float64(r.ops) / duration.Seconds() }

var profRound [2]int

// throughput runs conns Python processes, starts them together, and sums
// their ops and CPU times. When -cpuprofile is set, the round is profiled
// (from the start signal to the last result) into FILE.direct.N or
// FILE.relayed.N.
func throughput(py, script, addr string, key []byte, mode int) run {
	type proc struct {
		cmd   *exec.Cmd
		stdin interface{ Write([]byte) (int, error) }
		out   *bufio.Scanner
	}
	ps := make([]proc, *conns)
	for i := range ps {
		cmd := exec.Command(py, script, "--address", addr, "--authkey-hex", fmt.Sprintf("%x", key), "--mode", "ops", "--duration", fmt.Sprint(duration.Seconds()))
		in, err := cmd.StdinPipe()
		check(err)
		o, err := cmd.StdoutPipe()
		check(err)
		cmd.Stderr = os.Stderr
		check(cmd.Start())
		ps[i] = proc{cmd, in, bufio.NewScanner(o)}
	}
	for _, p := range ps {
		if !p.out.Scan() || p.out.Text() != "READY" {
			log.Fatalf("a client did not get ready")
		}
	}
	var pf *os.File
	if *profile != "" {
		profRound[mode]++
		var err error
		pf, err = os.Create(fmt.Sprintf("%s.%s.%d", *profile, [2]string{"direct", "relayed"}[mode], profRound[mode]))
		check(err)
		check(pprof.StartCPUProfile(pf))
	}
	before := cpuTime()
	for _, p := range ps {
		p.stdin.Write([]byte("go\n"))
	}
	var mu sync.Mutex
	var res run
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.out.Scan() {
				var r struct {
					Ops int
					CPU float64
				}
				if json.Unmarshal([]byte(p.out.Text()), &r) == nil {
					mu.Lock()
					res.ops += r.Ops
					res.pyCPU += time.Duration(r.CPU * float64(time.Second))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res.goCPU = cpuTime() - before
	if pf != nil {
		pprof.StopCPUProfile()
		check(pf.Close())
	}
	for _, p := range ps {
		for p.out.Scan() {
		}
		p.cmd.Wait()
	}
	return res
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOp is the Go and Python CPU time per op, in microseconds.
func (r run) cpuOp() float64 {
	return float64((r.goCPU + r.pyCPU).Microseconds()) / float64(max(r.ops, 1))
}

// cpuPerOp formats the Go and Python CPU time per op in microseconds.
func (r run) cpuPerOp() string {
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(r.ops, 1)) }
	return fmt.Sprintf("Go %4.1f + Python %4.1f", us(r.goCPU), us(r.pyCPU))
}

func median(v []float64) float64 { return v[len(v)/2] }

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func findPython() string {
	if *pyFlag != "" {
		return *pyFlag
	}
	if out, err := exec.Command("pyenv", "root").Output(); err == nil {
		m, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "versions", "3.*", "bin", "python"))
		sort.Slice(m, func(i, j int) bool { return versionLess(m[i], m[j]) })
		if len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return "python3"
}

// versionLess orders .../versions/3.9.18/... before .../versions/3.13.0/...
func versionLess(a, b string) bool {
	va, vb := filepath.Base(filepath.Dir(filepath.Dir(a))), filepath.Base(filepath.Dir(filepath.Dir(b)))
	var a1, a2, b1, b2 int
	fmt.Sscanf(va, "%d.%d", &a1, &a2)
	fmt.Sscanf(vb, "%d.%d", &b1, &b2)
	if a1 != b1 {
		return a1 < b1
	}
	return a2 < b2
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
