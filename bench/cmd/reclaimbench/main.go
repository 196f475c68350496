package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/sirupsen/logrus"
)

//go:embed clients.py
var clientsPy []byte

func main() {
	clients := flag.Int("clients", 1000, "client processes")
	proxies := flag.Int("proxies", 10, "proxies per client (get_queue() once, then Queue, dict, list)")
	batch := flag.Int("batch", 50, "clients forked at a time")
	after := flag.Duration("reclaim-after", 5*time.Second, "Server.ReclaimAfter (above the longest gap a loaded host puts between a client's create and its first call)")
	python := flag.String("python", "", "CPython interpreter (default: pyenv's 3.13, else python3)")
	flag.Parse()
	if err := run(*clients, *proxies, *batch, *after, *python); err != nil {
		fmt.Fprintln(os.Stderr, "reclaimbench:", err)
		os.Exit(1)
	}
}

// countHook counts the "released" log lines.
type countHook struct{ n atomic.Int64 }

func (h *countHook) Levels() []logrus.Level { return []logrus.Level{logrus.InfoLevel} }
func (h *countHook) Fire(e *logrus.Entry) error {
	if strings.HasPrefix(e.Message, "managers: released") {
		h.n.Add(1)
	}
	return nil
}

func run(clients, proxies, batch int, after time.Duration, python string) error {
	if python == "" {
		python = findPython()
	}
	dir, err := os.MkdirTemp("", "reclaimbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "clients.py")
	if err := os.WriteFile(script, clientsPy, 0o644); err != nil {
		return err
	}

	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		return err
	}
	reg.MustRegister("get_queue", managers.Singleton(managers.NewQueue(0)))
	log := logrus.New()
	log.SetOutput(io.Discard)
	hook := &countHook{}
	log.AddHook(hook)
	key := []byte("reclaimbench")
	// Loopback load from one address: no per-address bound on handshakes in progress.
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key, MaxUnauthenticatedPerAddress: -1})
	if err != nil {
		return err
	}
	srv := &managers.Server{Registry: reg, Logger: log, ReclaimAfter: after}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	}()

	port := l.Addr().String()[strings.LastIndex(l.Addr().String(), ":")+1:]
	start, rss0 := srv.NumberOfObjects(), rss()
	fmt.Printf("python %s, %d client processes x %d proxies, ReclaimAfter %v\n", python, clients, proxies, after)
	fmt.Printf("start:         %6d objects, server RSS %s\n", start, mib(rss0))

	cmd := exec.Command(python, script, "--port", port, "--authkey-hex", hex.EncodeToString(key),
		"--clients", fmt.Sprint(clients), "--proxies", fmt.Sprint(proxies), "--batch", fmt.Sprint(batch))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close() // clients.py kills what is left and exits
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("clients.py: %v", err)
	}
	var ready struct{ Pids []int }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		return fmt.Errorf("clients.py: %q: %v", line, err)
	}
	held, rss1 := srv.NumberOfObjects(), rss()
	fmt.Printf("clients ready: %6d objects, server RSS %s (%d clients started in %v)\n", held, mib(rss1), len(ready.Pids), time.Since(t0).Round(time.Millisecond))

	t1 := time.Now()
	for _, pid := range ready.Pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill %d: %v", pid, err)
		}
	}
	if after <= 0 { // the baseline: what stays without ReclaimAfter
		for !allExited(ready.Pids) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // let the server see every connection close
		maxRef := 0
		for _, rc := range srv.Refcounts() {
			maxRef = max(maxRef, rc)
		}
		fmt.Printf("after kill -9: %6d objects 2s after every process had exited (no ReclaimAfter); highest refcount %d\n", srv.NumberOfObjects(), maxRef)
		return nil
	}
	// The killed processes' sockets are closed when they have exited (zombies until clients.py
	// reaps them).
	var exited time.Duration
	deadline := t1.Add(10*after + time.Minute)
	for srv.NumberOfObjects() != start {
		if exited == 0 && allExited(ready.Pids) {
			exited = time.Since(t1)
		}
		if time.Now().After(deadline) {
			return errors.New("objects not released: " + fmt.Sprint(srv.NumberOfObjects()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(t1)
	for hook.n.Load() < int64(held-start) && time.Now().Before(deadline) { // lines written after the sweep
		time.Sleep(5 * time.Millisecond)
	}
	if exited == 0 {
		exited = took
	}
	rss2 := rss()
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("after kill -9: %6d objects %v after the kills (all processes had exited after %v; ReclaimAfter %v), %d release log lines, server RSS %s (%s after GC and FreeOSMemory)\n",
		srv.NumberOfObjects(), took.Round(time.Millisecond), exited.Round(time.Millisecond), after, hook.n.Load(), mib(rss2), mib(rss()))
	return nil
}

// allExited reports whether every process in pids has exited (is a zombie or gone).
func allExited(pids []int) bool {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ...: the state follows the last ')'.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && b[i+2] != 'Z' {
			return false
		}
	}
	return true
}

// findPython returns pyenv's CPython 3.13 if there is one, else python3.
func findPython() string {
	if p, err := host.FindPython("3.13"); err == nil {
		return p
	}
	return "python3"
}

// rss returns this process's resident set size in bytes (Linux), or 0.
func rss() int64 {
	kb, _ := host.VmRSS(0)
	return kb << 10
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
