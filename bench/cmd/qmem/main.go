package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench"
	"github.com/mpgo/mpgo/bench/internal/host"
)

//go:embed qclient.py
var qclientPy []byte

func main() {
	n := flag.Int("n", 200000, "items queued")
	python := flag.String("python", "3.13", "CPython version (or interpreter path) of the client and of CPython's server")
	mpgo := flag.String("mpgo", "", "prebuilt mpgo binary (default: go build ./cmd/mpgo)")
	servers := flag.String("servers", "cpython,mpgo", "servers to measure, in this order")
	flag.Parse()
	if err := run(*n, *python, *mpgo, strings.Split(*servers, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "qmem:", err)
		os.Exit(1)
	}
}

// result is one server's measurement.
type result struct {
	name             string
	before, after    int64 // VmRSS, KiB
	putS, getS       float64
	perItemBytes     float64
	putRate, getRate float64
}

func run(n int, pyVersion, mpgoBin string, servers []string) error {
	py, err := host.FindPython(pyVersion)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "qmem-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "qclient.py"), qclientPy, 0o644); err != nil {
		return err
	}
	srvScript, err := bench.Scripts.ReadFile("cpython_server.py")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cpython_server.py"), srvScript, 0o644); err != nil {
		return err
	}
	key := []byte(fmt.Sprintf("qmem-%d", time.Now().UnixNano()))
	fmt.Printf("qmem: %d items (i, 'task-%%d' %% i, 1.5), client %s\n", n, py)
	var results []result
	for _, name := range servers {
		var cmd *exec.Cmd
		switch name {
		case "cpython":
			cmd = exec.Command(py, filepath.Join(dir, "cpython_server.py"), "--authkey-hex", hex.EncodeToString(key))
		case "mpgo":
			if mpgoBin == "" {
				if mpgoBin, err = host.Build(context.Background(), dir, "mpgo", "./cmd/mpgo"); err != nil {
					return err
				}
			}
			cmd = exec.Command(mpgoBin, "serve", "--address", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "MPGO_AUTHKEY="+string(key))
		default:
			return fmt.Errorf("unknown server %q (cpython, mpgo)", name)
		}
		r, err := measure(name, cmd, py, filepath.Join(dir, "qclient.py"), key, n)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\n%-8s %12s %12s %14s %12s %12s\n", "server", "RSS before", "RSS after", "per item", "puts/s", "gets/s")
	for _, r := range results {
		fmt.Printf("%-8s %9d KiB %9d KiB %8.0f B %.3f KiB %10.0f %10.0f\n", r.name, r.before, r.after,
			r.perItemBytes, r.perItemBytes/1024, r.putRate, r.getRate)
	}
	if len(results) == 2 && results[0].perItemBytes > 0 {
		a, b := results[1], results[0]
		fmt.Printf("\nmemory per item %s/%s: %.2f; put rate %.2f, get rate %.2f\n", a.name, b.name,
			a.perItemBytes/b.perItemBytes, a.putRate/b.putRate, a.getRate/b.getRate)
	}
	return nil
}

// measure starts a server, has the client queue n items, and reads the server's RSS before
// and after the puts.
func measure(name string, srv *exec.Cmd, py, script string, key []byte, n int) (result, error) {
	r := result{name: name}
	addr, stop, err := start(srv)
	if err != nil {
		return r, err
	}
	defer stop()
	cl := exec.Command(py, script, "--address", addr, "--authkey-hex", hex.EncodeToString(key), "--n", strconv.Itoa(n))
	cl.Stderr = os.Stderr
	stdin, err := cl.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cl.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cl.Start(); err != nil {
		return r, err
	}
	defer func() {
		stdin.Close()
		_ = cl.Process.Kill()
		_ = cl.Wait()
	}()
	out := bufio.NewReader(stdout)
	expect := func(prefix string) (float64, error) {
		l, err := out.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("client: %v (wanted %s)", err, prefix)
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), prefix)
		if !ok {
			return 0, fmt.Errorf("client printed %q, wanted %s", l, prefix)
		}
		if rest == "" {
			return 0, nil
		}
		return strconv.ParseFloat(strings.TrimSpace(rest), 64)
	}
	if _, err := expect("READY"); err != nil {
		return r, err
	}
	if r.before, err = host.VmRSS(srv.Process.Pid); err != nil {
		return r, err
	}
	io.WriteString(stdin, "go\n")
	if r.putS, err = expect("PUT"); err != nil {
		return r, err
	}
	if r.after, err = host.VmRSS(srv.Process.Pid); err != nil {
		return r, err
	}
	io.WriteString(stdin, "go\n")
	if r.getS, err = expect("GOT"); err != nil {
		return r, err
	}
	r.perItemBytes = float64(r.after-r.before) * 1024 / float64(n)
	r.putRate, r.getRate = float64(n)/r.putS, float64(n)/r.getS
	fmt.Printf("%s: RSS %d -> %d KiB, %.0f B per item; put %.2fs, get %.2fs\n", name, r.before, r.after, r.perItemBytes, r.putS, r.getS)
	return r, nil
}

var (
	pyAddrRE = regexp.MustCompile(`^ADDRESS (\S+) (\d+)$`)
	goAddrRE = regexp.MustCompile(`(127\.0\.0\.1|localhost|\[::1\]):([1-9][0-9]*)`)
)

// start runs a server in its own process group and waits (bounded) for the line that gives
// its address.
func start(cmd *exec.Cmd) (addr string, stop func(), err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return "", nil, err
	}
	pw.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		pr.Close()
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() { // read to the end, so that the server never blocks on its output
			l := sc.Text()
			if sent {
				continue
			}
			if m := pyAddrRE.FindStringSubmatch(l); m != nil {
				found <- net.JoinHostPort(m[1], m[2])
				sent = true
			} else if m := goAddrRE.FindStringSubmatch(l); m != nil && !strings.Contains(l, "http") {
				found <- "127.0.0.1:" + m[2]
				sent = true
			}
		}
	}()
	select {
	case addr = <-found:
		return addr, stop, nil
	case <-done:
		stop()
		return "", nil, errors.New("server exited before printing its address")
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("server printed no address within 30s")
	}
}
